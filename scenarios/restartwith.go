package scenarios

import (
	"errors"
	"fmt"
	"strings"

	"kafkasim/broker/config"
)

// restart C KEY=V ...: a consumer restarts with some settings changed, as a rolling upgrade
// restarts each instance with its new configuration: `stop c1` then
// `restart c1 group.protocol=consumer` moves c1 to KIP-848's protocol, and its group with it
// (the coordinator's online upgrade). The settings are the consumer statement's keys; they hold
// for every later start of the consumer too. Without settings, restart is the fault.

// extendRestart wraps the restart fault's word (statements.go's init builds it from sim's
// fault table, then calls this).
func extendRestart() {
	for _, w := range words {
		if w.name != "restart" {
			continue
		}
		parse, run := w.parse, w.run
		w.parse = func(p *parser, st *stmt, toks []token) error {
			if len(toks) < 3 || !strings.Contains(toks[2].text, "=") {
				return parse(p, st, toks)
			}
			if err := p.restartWith(st, toks); err != nil {
				return err
			}
			return parse(p, st, toks[:2])
		}
		w.run = func(pl *Player, st *stmt) (NoteKind, error) {
			if len(st.reconf) > 0 {
				if err := pl.reconfigure(st); err != nil {
					return 0, err
				}
			}
			return run(pl, st)
		}
		return
	}
	panic("scenarios: no restart word to extend")
}

// restartWith checks restart C KEY=V ...: C is a consumer and its settings with the new ones
// make a valid consumer.
func (p *parser) restartWith(st *stmt, toks []token) error {
	cd := p.s.consumer(toks[1].text)
	if cd == nil {
		return p.errTok(toks[1], "restart %s KEY=V: only a consumer restarts with new settings (consumers: %s)", toks[1].text, p.clientList())
	}
	keys, vals, err := p.pairs(toks[2:], "restart")
	if err != nil {
		return err
	}
	cfg := cd.cfg
	for i, k := range keys {
		t := toks[i+2]
		if k == "topic" || k == "count" {
			return p.errTok(t, "restart %s: %s cannot change at a restart", cd.name, k)
		}
		if err := p.notModelled(inConsumer, k, t); err != nil {
			return err
		}
		if err := cfg.Set(k, vals[i]); err != nil {
			return p.configErr(err, t, k)
		}
		st.reconf = append(st.reconf, k+"="+vals[i])
	}
	if err := cfg.Finish(); err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for i, k := range keys {
				if k == ce.Key {
					return p.errTok(toks[i+2], "%s", err.Error())
				}
			}
		}
		return p.errTok(toks[1], "restart %s: %v", cd.name, err)
	}
	st.name = cd.name
	return nil
}

// reconfigure applies a restart's settings to what the consumer's next start is built with.
func (pl *Player) reconfigure(st *stmt) error {
	cfg, ok := pl.c.ConsumerConfig(st.name)
	if !ok {
		return fmt.Errorf("consumer %s does not exist", st.name)
	}
	for _, kv := range st.reconf {
		k, v, _ := strings.Cut(kv, "=")
		if err := cfg.Set(k, v); err != nil {
			return err
		}
	}
	if err := cfg.Finish(); err != nil {
		return err
	}
	return pl.c.ReconfigureConsumer(st.name, cfg)
}
