package session

import "time"

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
