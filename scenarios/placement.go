package scenarios

import (
	"fmt"
	"strings"

	"kafkasim/sim/cluster"
)

// Placement conditions: where a topic's partitions live (seed 1.2, on N partitions over N,
// N+M and fewer brokers), as the active controller's committed metadata has it.
//
//	stores orders@2 == 1    partitions of orders with a replica on broker 2 (in its assignment)
//	leads orders@2 == 1     partitions of orders broker 2 leads

// placementRef reads TOPIC@BROKER for stores and leads; it returns how many tokens it took.
func (p *parser) placementRef(k *cond, toks []token) (int, error) {
	w := toks[0].text
	if len(toks) < 2 || toks[1].quoted || !strings.Contains(toks[1].text, "@") {
		return 1, p.errAt(colAt(toks, 1), "%s: expected TOPIC@BROKER, e.g. %s orders@2", w, w)
	}
	t := toks[1]
	at := strings.LastIndexByte(t.text, '@')
	topic := t.text[:at]
	if p.s.topic(topic) == nil {
		return 1, p.errTok(t, "%s: unknown topic %q", w, topic)
	}
	bt := token{text: t.text[at+1:], col: t.col + utf8Len(topic) + 1}
	if !isNumber(bt.text) {
		return 1, p.errTok(bt, "%s: %q is not a broker number", w, bt.text)
	}
	b, err := p.fixedNode(bt)
	if err != nil {
		return 1, err
	}
	k.topic, k.broker = topic, b.id
	return 2, nil
}

// placement is the value of stores or leads.
func (k *cond) placement(c *cluster.Cluster) (int64, bool, string) {
	if c.Committed() == nil {
		return 0, false, fmt.Sprintf("%s %s@%d is unknown (no active controller)", placementWord(k), k.topic, k.broker)
	}
	var n int64
	for i := range c.PartitionCount(k.topic) {
		tp := cluster.TP(k.topic, i)
		switch k.subj {
		case sStores:
			for _, r := range c.Replicas(tp) {
				if r == k.broker {
					n++
				}
			}
		case sLeads:
			if c.Leader(tp) == k.broker {
				n++
			}
		}
	}
	return n, true, fmt.Sprintf("%s %s@%d is %d", placementWord(k), k.topic, k.broker, n)
}

func placementWord(k *cond) string {
	if k.subj == sLeads {
		return "leads"
	}
	return "stores"
}
