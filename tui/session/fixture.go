package session

import (
	_ "embed"
	"errors"
	"time"

	"kafkasim/scenarios"
)

// Fixture is the session the views' golden tests draw: the classroom on seed 1, the leader of
// orders/0 killed at 5s, 12s later (a new leader elected, the ISR shrunk). Deterministic.
func Fixture() (*Session, error) {
	s, err := New(Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	s.Advance(5 * time.Second)
	if err := s.Exec("kill leader orders/0"); err != nil {
		return nil, err
	}
	s.Advance(12 * time.Second)
	return s, nil
}

// UncleanFixture is the session the checker's golden tests draw: the library's
// unclean-election scenario played to the end of its script and its history judged (the
// unclean election loses acknowledged records: inconsistent-offsets). Deterministic.
func UncleanFixture() (*Session, error) {
	sc := scenarios.Named("unclean-election")
	if sc == nil {
		return nil, errors.New("no library scenario unclean-election")
	}
	s, err := New(Options{Scenario: sc})
	if err != nil {
		return nil, err
	}
	for i := 0; i < 1000 && !s.Snapshot().Done; i++ {
		s.Continue()
		s.Advance(time.Second)
	}
	s.JudgeNow()
	return s, nil
}

//go:embed testdata/group-kill.scenario
var groupKill []byte

// GroupKillScenario is the scenario of GroupFixture: three consumers in group g1, r2 killed
// once the group is stable, the rebalance at its session timeout (10s).
func GroupKillScenario() (*scenarios.Scenario, error) {
	return scenarios.Parse("group-kill.scenario", groupKill)
}

// GroupFixture is the session the Groups view's golden tests draw: GroupKillScenario played to
// the end of its script on seed 1 (r2 killed, the group rebalanced to r1 and r3). Deterministic.
func GroupFixture() (*Session, error) {
	sc, err := GroupKillScenario()
	if err != nil {
		return nil, err
	}
	s, err := New(Options{Scenario: sc})
	if err != nil {
		return nil, err
	}
	for i := 0; i < 1000 && !s.Snapshot().Done; i++ {
		s.Continue()
		s.Advance(time.Second)
	}
	return s, nil
}

//go:embed testdata/txn-open.scenario
var txnOpen []byte

// TxnFixture is the session the transactions pieces of the views draw: testdata/txn-open.scenario
// played to the end of its script on seed 1 (tx's transactions going on, hand's left open, the
// LSO of both partitions held below the HW). Deterministic.
func TxnFixture() (*Session, error) {
	sc, err := scenarios.Parse("txn-open.scenario", txnOpen)
	if err != nil {
		return nil, err
	}
	s, err := New(Options{Scenario: sc})
	if err != nil {
		return nil, err
	}
	for i := 0; i < 1000 && !s.Snapshot().Done; i++ {
		s.Continue()
		s.Advance(time.Second)
	}
	return s, nil
}
