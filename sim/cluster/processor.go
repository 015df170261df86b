package cluster

import (
	"fmt"

	"kafkasim/broker/client"
	"kafkasim/broker/config"
	"kafkasim/sim"
)

// ProcessorSpec describes a consume-transform-produce client (client.Processor).
type ProcessorSpec struct {
	Name     string
	From, To string
	Consumer config.Consumer
	Producer config.Producer
	// CommitOutsideTransaction plants the processor bug of that name (checker tests only).
	CommitOutsideTransaction bool
}

// AddProcessor starts a processor node.
func (c *Cluster) AddProcessor(s ProcessorSpec) (int32, error) {
	if err := c.checkClient(s.Name, s.From); err != nil {
		return 0, err
	}
	if _, ok := c.topics[s.To]; !ok {
		return 0, fmt.Errorf("to=%s: unknown topic", s.To)
	}
	cfg := s.Producer
	if err := cfg.Finish(); err != nil {
		return 0, err
	}
	id := c.newClient(s.Name)
	c.World.AddNode(id, s.Name, func(h *sim.Host) sim.Node {
		return client.NewProcessor(client.ProcessorOptions{Name: s.Name, From: s.From, To: s.To, Consumer: s.Consumer, Producer: cfg,
			Bootstrap: c.BrokerIDs, CommitOutsideTransaction: s.CommitOutsideTransaction}, h, h.Now())
	})
	return id, nil
}

// Processor returns a running processor, or nil.
func (c *Cluster) Processor(name string) *client.Processor {
	p, _ := c.World.Node(c.clients[name]).(*client.Processor)
	return p
}

// Transaction drives a transactional producer's transaction by hand (client.TxnControl: the
// scenario's begin, commit and abort).
func (c *Cluster) Transaction(producer string, op client.TxnOp) error {
	id, ok := c.clients[producer]
	if !ok {
		return fmt.Errorf("producer %s: unknown client", producer)
	}
	c.World.Inject(id, &client.TxnControl{Op: op})
	return nil
}
