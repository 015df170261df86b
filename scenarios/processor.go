package scenarios

import (
	"errors"
	"strings"

	"kafkasim/broker/config"
)

// The processor statement: a consume-transform-produce client (client.Processor).
//
//	processor NAME from=T1 to=T2 group=G [transactional.id=ID] [processing=D]
//	          [auto.offset.reset=earliest|latest] [transaction.version=1|2] [transaction.timeout.ms=D]
//
// It is a consumer of T1 in group G as far as the language goes (group conditions, faults,
// `commit`, `seek`), whose consumerDef carries the producer's side. Keys of the transactional
// producer (transactional.id, transaction.*) go to its producer, every other key to its
// consumer.

// processorDef is the producer's side of a processor.
type processorDef struct {
	to       string
	toT      token
	producer config.Producer
}

func (p *parser) processor(toks []token) error {
	nt, err := p.clientName(toks, "processor")
	if err != nil {
		return err
	}
	cd := &consumerDef{line: p.line, name: nt.text, cfg: config.DefaultConsumer(), proc: &processorDef{producer: config.DefaultProducer()}}
	cd.cfg.AutoOffsetReset = "earliest" // as Kafka Streams sets it
	keys, vals, err := p.pairs(toks[2:], "processor")
	if err != nil {
		return err
	}
	for i, k := range keys {
		t, v := toks[i+2], vals[i]
		switch {
		case k == "from":
			cd.topic, cd.topicT = v, t
		case k == "to":
			cd.proc.to, cd.proc.toT = v, t
		case k == "transactional.id" || strings.HasPrefix(k, "transaction."):
			if err := cd.proc.producer.Set(k, v); err != nil {
				return p.configErr(err, t, k)
			}
		default:
			if err := cd.cfg.Set(k, v); err != nil {
				return p.configErr(err, t, k)
			}
		}
	}
	switch {
	case cd.topic == "":
		return p.errTok(toks[0], "processor %s: from=T is required", cd.name)
	case cd.proc.to == "":
		return p.errTok(toks[0], "processor %s: to=T is required", cd.name)
	case cd.cfg.Group == "":
		return p.errTok(toks[0], "processor %s: group=G is required", cd.name)
	case cd.proc.to == cd.topic:
		return p.errTok(cd.proc.toT, "processor %s: to=%s is also its input (from=)", cd.name, cd.topic)
	}
	for _, fin := range []func() error{cd.cfg.Finish, cd.proc.producer.Finish} {
		if err := fin(); err != nil {
			var ce *config.Error
			if errors.As(err, &ce) {
				for i, k := range keys {
					if k == ce.Key {
						return p.errTok(toks[i+2], "%s", err.Error())
					}
				}
			}
			return p.errTok(nt, "processor %s: %v", cd.name, err)
		}
	}
	p.s.consumers = append(p.s.consumers, cd)
	return nil
}

// checkProcessor checks a processor's output topic once the set-up is complete.
func (p *parser) checkProcessor(cd *consumerDef) error {
	if cd.proc != nil && p.s.topic(cd.proc.to) == nil {
		return p.errPos(errPos{cd.line, valueCol(cd.proc.toT, "to")}, "to=%s: unknown topic", cd.proc.to)
	}
	return nil
}

// processorsSettled: every processor has no output waiting for a transaction or an
// acknowledgement, and no transaction open.
func (p *Player) processorsSettled() bool {
	for _, cd := range p.s.consumers {
		if cd.proc == nil {
			continue
		}
		if pr := p.c.Processor(cd.name); pr != nil && !pr.Settled() {
			return false
		}
	}
	return true
}

// isProcessor reports whether name is a processor: its producer answers the producer
// conditions (acked, errors, committed-txns, aborted-txns).
func (s *Scenario) isProcessor(name string) bool {
	cd := s.consumer(name)
	return cd != nil && cd.proc != nil
}
