package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"kafkasim/sim/cluster"
)

// The right-hand side of a comparison is a value (hw orders/0 >= 100), a set (isr orders/0 ==
// {1,2}), or the value of another condition of the same kind, read at the same instant:
// consumed ru > consumed rc, committed g1 orders/0 <= hw orders/0, isr orders/0 == replicas
// orders/0, isr orders/0 contains leader orders/0, leader orders/0 == coordinator g1.

// More kinds of value, which no right-hand side may take.
const (
	vWord         valueKind = iota + vBool + 1 // state G, txn P: a state's name
	vPartitionSet                              // assigned C
	vZkServer                                  // zk.leader
)

// kindNames say what a kind of value is, in an error.
var kindNames = map[valueKind]string{
	vBroker: "a broker", vController: "a controller", vBrokerSet: "a set of brokers", vInt: "a count",
	vBool: "true or false", vWord: "a state", vPartitionSet: "a set of partitions", vZkServer: "a ZooKeeper server",
}

// operandKinds says what value each condition (by its first word) takes.
var operandKinds = map[string]valueKind{
	"leader": vBroker, "coordinator": vBroker, "controller": vController,
	"isr": vBrokerSet, "replicas": vBrokerSet,
	"size": vInt, "hw": vInt, "leo": vInt, "epoch": vInt, "lso": vInt, "controller.epoch": vInt,
	"acked": vInt, "errors": vInt, "consumed": vInt, "lost": vInt,
	"committed-txns": vInt, "aborted-txns": vInt,
	"members": vInt, "generation": vInt, "committed": vInt, "lag": vInt, "redelivered": vInt,
	"partitions": vInt, "brokers": vInt,
	"bytes": vInt, "segments": vInt, "logstart": vInt, "keys": vInt, "records": vInt, "stale.controller.refused": vInt,
	"stores": vInt, "leads": vInt,
	"online": vBool, "offline": vBool, "diverged": vBool, "reassigning": vBool,
	"state": vWord, "txn": vWord, "assigned": vPartitionSet, "zk.leader": vZkServer,
}

// operandWords lists the conditions whose value is of kind, in conditionWords' order.
func operandWords(kind valueKind) string {
	var out []string
	for _, w := range strings.Split(conditionWords, ", ") {
		if k, ok := operandKinds[strings.Fields(w)[0]]; ok && k == kind {
			out = append(out, w)
		}
	}
	return strings.Join(out, ", ")
}

// operand reads the right-hand side of k's comparison, toks[i:], for a condition named lhs
// whose value is of kind: another condition (k.rhs), a set (k.set) or a value (k.num).
// instant is as for condition: lost and diverged are judged at an instant only.
func (p *parser) operand(k *cond, lhs string, kind valueKind, toks []token, i int, instant bool) error {
	if i >= len(toks) {
		return p.errAt(colAt(toks, i), "%s %s: a value is required", lhs, k.op)
	}
	want := kind // what one value on the right is
	if kind == vBrokerSet && k.op == "contains" {
		want = vBroker
	}
	t := toks[i]
	if got, ok := operandKinds[t.text]; ok && !t.quoted && k.op != "in" {
		if got != want {
			return p.errTok(t, "%s %s: expected %s, found %s (%s)", lhs, k.op, expected(want), t.text, kindNames[got])
		}
		var err error
		k.rhs, err = p.conditionOf(toks[i:], instant, true)
		return err
	}
	var err error
	switch {
	case k.op == "in" || want == vBrokerSet:
		elem := kind
		if kind == vBrokerSet {
			elem = vBroker
		}
		if k.set, i, err = p.set(toks, i, elem, kind == vBrokerSet); err != nil {
			if k.op != "in" && (t.text != "{" || t.quoted) {
				return p.errTok(t, "%s %s: expected %s, found %q", lhs, k.op, expected(want), t.text)
			}
			return err
		}
	case t.text == "{" && !t.quoted:
		return p.errTok(t, "%s %s: expected %s, found a set", lhs, k.op, expected(want))
	default:
		if k.num, err = p.value(t, want, kind == vBrokerSet); err != nil {
			if want == vInt && !t.quoted && t.text != "" && !strings.ContainsAny(t.text[:1], "0123456789-+") {
				return p.errTok(t, "%q is not a whole number or a count (%s)", t.text, operandWords(vInt))
			}
			return err
		}
		i++
	}
	if i < len(toks) {
		return p.errTok(toks[i], "unexpected %q after the condition", toks[i].text)
	}
	return nil
}

// expected says what may stand on the right of a comparison whose values are of kind.
func expected(kind valueKind) string {
	switch kind {
	case vInt:
		return "a whole number or a count (" + operandWords(vInt) + ")"
	case vBroker:
		return "a broker, none, or a condition naming one (" + operandWords(vBroker) + ")"
	case vController:
		return "a controller, none, or controller"
	case vBrokerSet:
		return "a set like {1,2,3} or a set of brokers (" + operandWords(vBrokerSet) + ")"
	}
	return kindNames[kind]
}

// endOperand ends a condition read as a right-hand side (toks[:i], without a comparison).
func (p *parser) endOperand(k *cond, toks []token, i int) (*cond, error) {
	if i < len(toks) {
		return nil, p.errTok(toks[i], "unexpected %q after %s (the right-hand side of a comparison is one value)", toks[i].text, text(p.src, toks[:i]))
	}
	return k, nil
}

// value is a scalar condition's value now: a count, or a node's id (-1: none). ok is false
// when it is unknown now; saw says what was seen.
func (k *cond) value(c *cluster.Cluster) (int64, bool, string) {
	switch k.subj {
	case sLeader:
		v := int64(c.Leader(k.tp()))
		return v, true, fmt.Sprintf("leader %s is %s", k.tpName(), nodeName(v))
	case sController:
		v := int64(c.ActiveController())
		return v, true, "controller is " + nodeName(v)
	case sCoordinator:
		v := int64(c.GroupCoordinator(k.client))
		return v, true, fmt.Sprintf("coordinator %s is %s", k.client, nodeName(v))
	case sSizeAssigned:
		var n int64
		if cs := c.Consumer(k.client); cs != nil {
			n = int64(len(cs.Assigned()))
		}
		return n, true, fmt.Sprintf("size assigned %s is %d", k.client, n)
	case sMembers, sGeneration, sCommitted, sLag, sRedelivered:
		return k.groupValue(c)
	case sPartitions:
		if c.Committed() == nil {
			return unknownValue("partitions "+k.topic, "no active controller")
		}
		n := int64(c.PartitionCount(k.topic))
		return n, true, fmt.Sprintf("partitions %s is %d", k.topic, n)
	case sBrokers:
		if c.Committed() == nil {
			return unknownValue("brokers", "no active controller")
		}
		n := int64(c.LiveBrokers())
		return n, true, fmt.Sprintf("brokers is %d (registered and unfenced)", n)
	}
	return k.intValue(c, k.tp())
}

// brokerSet is a set condition's value now (isr, replicas), sorted.
func (k *cond) brokerSet(c *cluster.Cluster) ([]int64, bool, string) {
	tp := k.tp()
	var ids []int32
	var what, note string // saw is what, the set, note
	switch k.subj {
	case sISR:
		var ok bool
		if ids, what, note, ok = k.isr(c, tp); !ok {
			return nil, false, what + " is unknown (" + note + ")"
		}
	case sReplicas:
		if c.PartitionState(tp) == nil {
			return nil, false, "replicas " + k.tpName() + " is unknown (no active controller)"
		}
		ids, what = c.Replicas(tp), "replicas "+k.tpName()
		if c.Reassigning(tp) {
			note = " (a reassignment is in progress)"
		}
	default:
		return nil, false, "?"
	}
	s := make([]int64, 0, len(ids))
	for _, b := range ids {
		s = append(s, int64(b))
	}
	slices.Sort(s)
	return s, true, what + " is " + setString(s, nodeName) + note
}

// compareTo compares v with the right-hand side: the number, or the other condition's value
// now.
func (k *cond) compareTo(c *cluster.Cluster, v int64, saw string) (bool, string) {
	if k.rhs == nil {
		return k.compare(v), saw
	}
	r, ok, rsaw := k.rhs.value(c)
	if !ok {
		return false, saw + ", " + rsaw
	}
	kk := *k
	kk.num = r
	return kk.compare(v), saw + ", " + rsaw
}

// compareSet compares the set s with the right-hand side: == and != with a set (given, or
// another condition's now), contains with a broker (given, or another condition's now).
func (k *cond) compareSet(c *cluster.Cluster, s []int64, saw string) (bool, string) {
	want, num := k.set, k.num
	if k.rhs != nil {
		var ok bool
		var rsaw string
		if k.op == "contains" {
			num, ok, rsaw = k.rhs.value(c)
		} else {
			want, ok, rsaw = k.rhs.brokerSet(c)
		}
		saw += ", " + rsaw
		if !ok {
			return false, saw
		}
	}
	switch k.op {
	case "contains":
		return slices.Contains(s, num), saw
	case "==":
		return slices.Equal(s, want), saw
	}
	return !slices.Equal(s, want), saw
}
