package cluster

import (
	"fmt"

	"kafkasim/broker/config"
)

// keepConsumerConfig keeps a consumer's configuration where ReconfigureConsumer can change it:
// every start of the consumer (its first, and each restart) is built from it.
func (c *Cluster) keepConsumerConfig(name string, cfg config.Consumer) *config.Consumer {
	if c.consumerCfg == nil {
		c.consumerCfg = map[string]*config.Consumer{}
	}
	p := &cfg
	c.consumerCfg[name] = p
	return p
}

// ConsumerConfig is the configuration a consumer's next start is built with.
func (c *Cluster) ConsumerConfig(name string) (config.Consumer, bool) {
	p := c.consumerCfg[name]
	if p == nil {
		return config.Consumer{}, false
	}
	return *p, true
}

// ReconfigureConsumer changes what a consumer's next start is built with: a stopped consumer
// restarted with other settings, as a rolling upgrade does (a new group.protocol, KIP-848's
// online upgrade). The running process, if any, keeps its settings until it restarts.
func (c *Cluster) ReconfigureConsumer(name string, cfg config.Consumer) error {
	p := c.consumerCfg[name]
	if p == nil {
		return fmt.Errorf("consumer %s does not exist", name)
	}
	*p = cfg
	return nil
}
