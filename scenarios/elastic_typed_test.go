package scenarios

import (
	"strings"
	"testing"
	"time"
)

// A statement typed after `add broker 4` has run may name broker 4 (the UI's keys and command
// line type statements one at a time); before, or once broker 4 is removed, it may not.
func TestTypedStatementsKnowTheBrokersAdded(t *testing.T) {
	p, err := NewPlayer(mustParseSrc(t, head), Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Advance(2*time.Second, nil)
	if err := p.CheckStatement("reassign orders/0 replicas=1,2,4"); err == nil || !strings.Contains(err.Error(), "broker 4 does not exist here") {
		t.Fatalf("before add broker 4: got %v; want broker 4 unknown", err)
	}
	if err := p.Exec("add broker 4"); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"reassign orders/0 replicas=1,2,4", "kill 4", "remove broker 4"} {
		if err := p.CheckStatement(text); err != nil {
			t.Errorf("after add broker 4: CheckStatement(%q) = %v; want nil", text, err)
		}
	}
	if err := p.CheckStatement("add broker 4"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("add broker 4 twice: got %v; want already exists", err)
	}
}
