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

// maxFleet bounds count=.
const maxFleet = 10_000

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

// checkFleetNames refuses a fleet member's name that another client has.
func (p *parser) checkFleetNames(nt token, names []string) error {
	if len(names) == 1 && names[0] == nt.text {
		return nil
	}
	for _, n := range names {
		if p.s.producer(n) != nil || p.s.consumer(n) != nil {
			return p.errTok(nt, "%s: count= names a client %s, and that name is taken", nt.text, n)
		}
	}
	return nil
}
