package scenarios

import (
	"strings"
	"testing"
)

func TestPlacementConditionErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"no broker", pwHead + "expect stores orders == 1\n", "t.scenario:3:15: stores: expected TOPIC@BROKER, e.g. stores orders@2"},
		{"unknown topic", pwHead + "expect leads payments@1 == 1\n", "t.scenario:3:14: leads: unknown topic \"payments\""},
		{"unknown broker", pwHead + "expect stores orders@7 == 1\n", "t.scenario:3:22: broker 7 does not exist"},
		{"not a number", pwHead + "expect stores orders@x == 1\n", "t.scenario:3:22: stores: \"x\" is not a broker number"},
	} {
		_, err := Parse("t.scenario", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v; want %s", c.name, err, c.want)
		}
	}
}

// Three partitions, replication 2, over three brokers with a fixed assignment: each broker
// stores two and leads one.
func TestPlacementConditionsCount(t *testing.T) {
	s, err := Parse("t.scenario", []byte("cluster brokers=3\ntopic orders partitions=3 replication=2 replicas=1,2;2,3;3,1\n"+
		"await online orders/2 within 10s\nexpect stores orders@1 == 2\nexpect leads orders@1 == 1\nexpect not stores orders@2 == 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatal(r.Failure)
	}
}
