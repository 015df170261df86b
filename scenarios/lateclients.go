package scenarios

import (
	"fmt"

	"kafkasim/sim/cluster"
)

// Clients declared after time has moved (SCENARIO_LANGUAGE, "Clients are nodes": a client
// statement may appear after time has moved; the client starts at that instant):
//
//	producer p1 topic=orders acks=all rate=100/s
//	wait 30s
//	consumer late topic=orders group=g    # joins the group thirty seconds in
//
// A producer, consumer or processor statement after the set-up is parsed as in the set-up
// (the same keys, fleets, checks) and becomes a script statement that starts its clients when
// the script reaches it, as an application deployed later would. Statements before it cannot
// name the client (it is unknown there); statements after it can.

// lateClient parses a set-up statement found after the set-up closed: a client statement
// becomes a statement that starts the client then; the others are an error.
func (p *parser) lateClient(w *word, toks []token) error {
	head := toks[0]
	if w.name != "producer" && w.name != "consumer" && w.name != "processor" {
		return p.errTok(head, "%s: set-up statements (%s) come before the first statement that moves time or touches the cluster (line %d: %s); only a producer, consumer or processor may come later (it starts then)", head.text, setupNames(), p.closedLine, p.closedBy)
	}
	np, nc := len(p.s.producers), len(p.s.consumers)
	if err := w.parse(p, nil, toks); err != nil {
		return err
	}
	st := &stmt{word: startWord}
	for _, pd := range p.s.producers[np:] {
		if p.s.topic(pd.topic) == nil {
			return p.errPos(errPos{pd.line, valueCol(pd.topicT, "topic")}, "topic=%s: unknown topic", pd.topic)
		}
		pd.late = true
		st.clients = append(st.clients, pd.name)
	}
	for _, cd := range p.s.consumers[nc:] {
		if p.s.topic(cd.topic) == nil {
			key := "topic"
			if cd.proc != nil {
				key = "from"
			}
			return p.errPos(errPos{cd.line, valueCol(cd.topicT, key)}, "%s=%s: unknown topic", key, cd.topic)
		}
		if err := p.checkProcessor(cd); err != nil {
			return err
		}
		cd.late = true
		st.clients = append(st.clients, cd.name)
	}
	p.add(st, toks)
	return nil
}

// startWord is the statement a late client statement becomes. It is not in words: lookup
// finds the set-up word of the same name, and lateClient turns it into this one.
var startWord = &word{name: "start", run: runStart, touches: true}

// runStart starts the clients a late client statement declared.
func runStart(p *Player, st *stmt) (NoteKind, error) {
	for _, name := range st.clients {
		if pd := p.s.producer(name); pd != nil {
			if err := p.startProducer(pd); err != nil {
				return 0, err
			}
			continue
		}
		if err := p.startConsumer(p.s.consumer(name)); err != nil {
			return 0, err
		}
	}
	return NoteRan, nil
}

// startProducer starts pd's producer now.
func (p *Player) startProducer(pd *producerDef) error {
	if _, err := p.c.AddProducer(cluster.ProducerSpec{Name: pd.name, Topic: pd.topic, Config: pd.cfg, Rate: pd.rate, Keys: pd.keys, Tombstones: pd.tombstones}); err != nil {
		return fmt.Errorf("%s:%d: producer %s: %v", p.s.File, pd.line, pd.name, err)
	}
	return nil
}

// startConsumer starts cd's consumer or processor now.
func (p *Player) startConsumer(cd *consumerDef) error {
	if cd.proc != nil { // processor.go
		if _, err := p.c.AddProcessor(cluster.ProcessorSpec{Name: cd.name, From: cd.topic, To: cd.proc.to, Consumer: cd.cfg, Producer: cd.proc.producer}); err != nil {
			return fmt.Errorf("%s:%d: processor %s: %v", p.s.File, cd.line, cd.name, err)
		}
		return nil
	}
	if _, err := p.c.AddConsumer(cluster.ConsumerSpec{Name: cd.name, Topic: cd.topic, Topics: cd.topics, Config: cd.cfg}); err != nil {
		return fmt.Errorf("%s:%d: consumer %s: %v", p.s.File, cd.line, cd.name, err)
	}
	return nil
}
