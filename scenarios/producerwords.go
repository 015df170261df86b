package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"kafkasim/broker/client"
)

// The producer words that let the application choose (README, "Scenario words"):
//
//	partition=N                    every record to partition N (a ProducerRecord with an explicit partition)
//	partitioner=map:k0=0,k1=0,k2=1 a custom Partitioner: each listed key to its partition, the rest as default
//	send.mode=async|sync           send(record, callback) pipelines; send(record).get() waits for each ack
//
// A chosen partition must exist by the end of the script (the topic may be grown to it with
// `partitions T N`); before it exists the producer waits for it in its metadata, as
// KafkaProducer.waitOnMetadata does, and records it holds fail after delivery.timeout.ms.

// chosenPartition is where a producer's application names a partition, kept to check it
// against the topic once the whole script is read.
type chosenPartition struct {
	part int32
	at   errPos
	word string // as written, for the message
}

// producerWord reads the producer keys of this file; ok is false for any other key.
func (p *parser) producerWord(pd *producerDef, t token, k, v string) (ok bool, err error) {
	switch k {
	case "partition":
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 || !isNumber(v) {
			return true, p.errAt(valueCol(t, k), "partition: %q is not a partition number (0, 1, 2, …)", v)
		}
		pd.cfg.Partitioner = "partition:" + v
		pd.chosen = append(pd.chosen, chosenPartition{part: int32(n), at: errPos{p.line, valueCol(t, k)}, word: "partition=" + v})
		return true, nil
	case "partitioner":
		if !strings.HasPrefix(v, "map:") {
			return false, nil // default, round-robin, key-hash: the producer configuration's own
		}
		spec, err := client.ParsePartitioner(v)
		if err != nil {
			return true, p.errAt(valueCol(t, k), "partitioner: %v", err)
		}
		pd.cfg.Partitioner = v
		pd.mapTok = t
		for _, key := range spec.MapKeys() {
			pd.chosen = append(pd.chosen, chosenPartition{part: spec.Keys[key], at: errPos{p.line, valueCol(t, k)}, word: "partitioner: key " + key + "=" + strconv.Itoa(int(spec.Keys[key]))})
		}
		return true, nil
	case "rate.total":
		r, ok := parseRate(v, maxFleet*maxRate)
		if !ok {
			return true, p.errAt(valueCol(t, k), "rate.total: %q is not a rate (use 200000/s)", v)
		}
		pd.fleet.total, pd.fleet.totalTok = r, t
		return true, nil
	case "send.mode":
		if v != "async" && v != "sync" {
			return true, p.errAt(valueCol(t, k), "send.mode: %q is not async or sync", v)
		}
		pd.cfg.SendMode = v
		pd.sendModeTok = t
		return true, nil
	}
	return false, nil
}

// checkProducerWords checks the words against each other, once the producer line is read.
func (p *parser) checkProducerWords(pd *producerDef, pos map[string]token) error {
	if t, ok := pos["partition"]; ok {
		if _, ok := pos["partitioner"]; ok {
			return p.errTok(t, "producer %s: partition= and partitioner= together: a record with a partition skips the partitioner; give one", pd.name)
		}
	}
	if pd.mapTok.text != "" {
		if pd.keys == 0 {
			return p.errTok(pd.mapTok, "producer %s: partitioner=map: maps keys, and this producer sends none (add keys=K: keys k0..k<K-1>)", pd.name)
		}
		spec, _ := client.ParsePartitioner(pd.cfg.Partitioner)
		for _, key := range spec.MapKeys() {
			n, err := strconv.Atoi(strings.TrimPrefix(key, "k"))
			if !strings.HasPrefix(key, "k") || err != nil || n < 0 || n >= pd.keys || key != "k"+strconv.Itoa(n) {
				return p.errAt(valueCol(pd.mapTok, "partitioner"), "partitioner: key %s is never sent (keys=%d sends k0..k%d)", key, pd.keys, pd.keys-1)
			}
		}
	}
	if pd.cfg.SendMode == "sync" && pd.cfg.TransactionalID != "" {
		return p.errTok(pd.sendModeTok, "producer %s: send.mode=sync with transactional.id is not modelled (a transactional producer sends its transactions asynchronously)", pd.name)
	}
	return nil
}

// checkChosenPartitions checks, at the end of the script, that every partition an application
// chose exists by then.
func (p *parser) checkChosenPartitions() error {
	for _, pd := range p.s.producers {
		td := p.s.topic(pd.topic)
		if td == nil {
			continue
		}
		count := max(td.partitions, td.grown)
		for _, c := range pd.chosen {
			if int(c.part) >= count {
				return p.errPos(c.at, "%s: topic %s has no partition %d (partitions are 0..%d%s)", c.word, td.name, c.part, count-1, grownNote(td))
			}
		}
	}
	return nil
}

func grownNote(td *topicDef) string {
	if td.grown > td.partitions {
		return fmt.Sprintf(", after the script grows it from %d", td.partitions)
	}
	return ""
}

// Fleets: `producer w topic=T count=1000` declares producers w-1 … w-1000 with the same
// settings, and `consumer r topic=T group=G count=1000` as many consumers, for the seed's
// "thousands of clients" (1.1, 高并发) without a thousand lines. Each member is a client of its
// own, named in conditions and faults as any other (`acked w-17`, `kill r-3`).
//
// A fleet's rate: every setting on the line is each member's, as a configuration is each
// KafkaProducer instance's, so `rate=10/s count=1000` is a thousand producers at 10 records/s
// each, 10,000/s in all. `rate.total=R/s` gives the fleet's rate instead, split evenly (each
// member R/N). The rate statement takes a fleet's name the same two ways:
//
//	rate w 10/s            each member of fleet w at 10/s
//	rate w total 200000/s  fleet w at 200,000/s in all, each member 200000/N
//
// A member's rate is the application's records per second; Kafka's producer has no such key.

// maxFleet bounds count=.
const maxFleet = 10_000

// maxRate bounds one producer's rate= (records per second).
const maxRate = 1e6

// fleetDef is what a producer line says of its fleet.
type fleetDef struct {
	name     string  // the fleet's name (the line's NAME) when count=N made it a fleet
	total    float64 // rate.total=R/s, 0 without
	totalTok token
}

// parseRate reads R/s, 0 ≤ R ≤ limit.
func parseRate(v string, limit float64) (float64, bool) {
	num, ok := strings.CutSuffix(v, "/s")
	r, err := strconv.ParseFloat(num, 64)
	return r, ok && err == nil && r >= 0 && r <= limit
}

// fleetCount reads count=N.
func (p *parser) fleetCount(t token, v string) (int, error) {
	return p.count(t, "count", v, 1, maxFleet)
}

// fleetNames are the names of a fleet of n called name, or just name when n is 0.
func fleetNames(name string, n int) []string {
	if n == 0 {
		return []string{name}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = name + "-" + strconv.Itoa(i+1)
	}
	return out
}

// checkFleetNames refuses a fleet member's name that another client has, and a client named as
// a producer fleet is.
func (p *parser) checkFleetNames(nt token, names []string) error {
	if len(names) == 1 && names[0] == nt.text {
		if f := p.fleet(nt.text); f != nil {
			return p.errTok(nt, "%s: the name is taken (the producer fleet %s-1 … %s-%d on line %d)", nt.text, nt.text, nt.text, len(p.fleetMembers(nt.text)), f.line)
		}
		return nil
	}
	for _, n := range names {
		if p.s.producer(n) != nil || p.s.consumer(n) != nil {
			return p.errTok(nt, "%s: count= names a client %s, and that name is taken", nt.text, n)
		}
	}
	return nil
}

// addProducers adds the producer a line declares, or its fleet of n (count=n), each member
// with the line's settings and, with rate.total=, its share of the fleet's rate.
func (p *parser) addProducers(pd *producerDef, nt token, n int, pos map[string]token) error {
	if t, ok := pos["rate.total"]; ok {
		if _, ok := pos["rate"]; ok {
			return p.errTok(t, "producer %s: rate= and rate.total= together: rate= is each member's, rate.total= the fleet's; give one", pd.name)
		}
		if n == 0 {
			return p.errTok(t, "producer %s: rate.total= splits a fleet's rate, and this line declares one producer (add count=N, or use rate=)", pd.name)
		}
		if pd.fleet.total/float64(n) > maxRate {
			return p.errAt(valueCol(t, "rate.total"), "rate.total: %v/s over %d producers is above %v/s each", pd.fleet.total, n, maxRate)
		}
		pd.rate = pd.fleet.total / float64(n)
	}
	names := fleetNames(pd.name, n)
	if err := p.checkFleetNames(nt, names); err != nil {
		return err
	}
	if n > 0 {
		pd.fleet.name = pd.name
	}
	for _, name := range names {
		m := *pd
		m.name = name
		p.s.producers = append(p.s.producers, &m)
	}
	return nil
}

// fleet is the first member of the producer fleet called name, nil if there is none.
func (p *parser) fleet(name string) *producerDef {
	for _, pd := range p.s.producers {
		if pd.fleet.name == name {
			return pd
		}
	}
	return nil
}

// fleetMembers are the names of the producer fleet called name, in order.
func (p *parser) fleetMembers(name string) []string {
	var out []string
	for _, pd := range p.s.producers {
		if pd.fleet.name == name {
			out = append(out, pd.name)
		}
	}
	return out
}

// fleetRate reads `rate FLEET R/s` (each member) and `rate FLEET total R/s` (the fleet in
// all); ok is false when toks[1] names no fleet (the rate statement of one producer).
func (p *parser) fleetRate(st *stmt, toks []token) (ok bool, err error) {
	if len(toks) < 2 || p.s.producer(toks[1].text) != nil || p.fleet(toks[1].text) == nil {
		return false, nil
	}
	members := p.fleetMembers(toks[1].text)
	total := len(toks) == 4 && toks[2].text == "total" && !toks[2].quoted
	if len(toks) != 3 && !total {
		return true, p.errTok(toks[0], "rate: expected rate FLEET R/s (each member) or rate FLEET total R/s (the fleet in all)")
	}
	rt := toks[len(toks)-1]
	limit := maxRate
	if total {
		limit *= float64(len(members))
	}
	r, good := parseRate(rt.text, limit)
	if rt.quoted || !good {
		return true, p.errTok(rt, "rate: %q is not a rate (use 200/s, at most %v/s)", rt.text, limit)
	}
	if total {
		r /= float64(len(members))
	}
	st.name, st.p, st.clients = toks[1].text, r, members
	return true, nil
}

// runFleetRate sets every member's rate, in the fleet's order.
func runFleetRate(p *Player, st *stmt) (NoteKind, error) {
	for _, name := range st.clients {
		if err := p.c.SetRate(name, st.p); err != nil {
			return 0, err
		}
	}
	return NoteRan, nil
}
