package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

const pwHead = "cluster brokers=3\ntopic orders partitions=3 replication=3\n"

func TestProducerWordsErrorsNameFileLineColumn(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"partition out of range", pwHead + "producer p1 topic=orders partition=3\n",
			"t.scenario:3:36: partition=3: topic orders has no partition 3 (partitions are 0..2)"},
		{"partition beyond the grown topic", pwHead + "producer p1 topic=orders partition=5\nwait 1s\npartitions orders 4\n",
			"t.scenario:3:36: partition=5: topic orders has no partition 5 (partitions are 0..3, after the script grows it from 3)"},
		{"partition not a number", pwHead + "producer p1 topic=orders partition=two\n",
			"t.scenario:3:36: partition: \"two\" is not a partition number (0, 1, 2, …)"},
		{"partition and partitioner", pwHead + "producer p1 topic=orders partition=1 partitioner=round-robin\n",
			"t.scenario:3:26: producer p1: partition= and partitioner= together: a record with a partition skips the partitioner; give one"},
		{"map out of range", pwHead + "producer p1 topic=orders keys=2 partitioner=map:k0=0,k1=7\n",
			"t.scenario:3:45: partitioner: key k1=7: topic orders has no partition 7 (partitions are 0..2)"},
		{"map without keys", pwHead + "producer p1 topic=orders partitioner=map:k0=0\n",
			"t.scenario:3:26: producer p1: partitioner=map: maps keys, and this producer sends none (add keys=K: keys k0..k<K-1>)"},
		{"map key never sent", pwHead + "producer p1 topic=orders keys=2 partitioner=map:k0=0,k5=1\n",
			"t.scenario:3:45: partitioner: key k5 is never sent (keys=2 sends k0..k1)"},
		{"map malformed", pwHead + "producer p1 topic=orders keys=2 partitioner=map:k0\n",
			"t.scenario:3:45: partitioner: map: \"k0\" is not KEY=PARTITION"},
		{"map key twice", pwHead + "producer p1 topic=orders keys=2 partitioner=map:k0=0,k0=1\n",
			"t.scenario:3:45: partitioner: map: key k0 is mapped twice"},
		{"unknown partitioner", pwHead + "producer p1 topic=orders partitioner=sticky\n",
			"t.scenario:3:38: partitioner: \"sticky\""},
		{"bad send mode", pwHead + "producer p1 topic=orders send.mode=blocking\n",
			"t.scenario:3:36: send.mode: \"blocking\" is not async or sync"},
		{"sync transactions", pwHead + "producer p1 topic=orders transactional.id=t1 send.mode=sync\n",
			"t.scenario:3:46: producer p1: send.mode=sync with transactional.id is not modelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("t.scenario", []byte(c.src))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v; want %s", err, c.want)
			}
		})
	}
}

func TestProducerWordsParse(t *testing.T) {
	s, err := Parse("t.scenario", []byte(pwHead+
		"producer p1 topic=orders partition=3 send.mode=sync\n"+
		"producer p2 topic=orders keys=3 partitioner=map:k0=0,k2=1\n"+
		"producer p3 topic=orders send.mode=async partitioner=key-hash\n"+
		"wait 1s\npartitions orders 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, part, mode string }{
		{"p1", "partition:3", "sync"}, {"p2", "map:k0=0,k2=1", ""}, {"p3", "key-hash", "async"},
	} {
		pd := s.producer(c.name)
		if pd.cfg.Partitioner != c.part || pd.cfg.SendMode != c.mode {
			t.Errorf("%s: got partitioner %q send.mode %q; want %q %q", c.name, pd.cfg.Partitioner, pd.cfg.SendMode, c.part, c.mode)
		}
	}
}

func TestFleets(t *testing.T) {
	s, err := Parse("t.scenario", []byte(pwHead+
		"producer w topic=orders rate=1/s count=3\nconsumer r topic=orders group=g count=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pd := range s.producers {
		names = append(names, pd.name)
	}
	for _, cd := range s.consumers {
		names = append(names, cd.name)
	}
	if got, want := strings.Join(names, " "), "w-1 w-2 w-3 r-1 r-2"; got != want {
		t.Errorf("clients %s; want %s", got, want)
	}
	for _, c := range []struct{ name, src, want string }{
		{"taken", pwHead + "producer w-2 topic=orders\nproducer w topic=orders count=3\n", "t.scenario:4:10: w: count= names a client w-2, and that name is taken"},
		{"zero", pwHead + "producer w topic=orders count=0\n", "t.scenario:3:31: count: 0 is below the minimum 1"},
		{"static", pwHead + "consumer r topic=orders group=g group.instance.id=i count=2\n", "t.scenario:3:10: consumer r: count= with group.instance.id"},
	} {
		_, err := Parse("t.scenario", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v; want %s", c.name, err, c.want)
		}
	}
}

// A fleet's rate= is each member's (a configuration is each KafkaProducer instance's);
// rate.total= is the fleet's, split evenly; the rate statement takes a fleet the same two ways.
func TestFleetRates(t *testing.T) {
	s, err := Parse("t.scenario", []byte(pwHead+
		"producer each topic=orders rate=10/s count=4\n"+
		"producer all topic=orders rate.total=200/s count=4\n"+
		"producer one topic=orders rate=7/s\n"+
		"wait 1s\nrate each 20/s\nrate all total 100/s\nrate each-2 0/s\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		rate float64
	}{{"each-1", 10}, {"each-4", 10}, {"all-1", 50}, {"all-4", 50}, {"one", 7}} {
		if pd := s.producer(c.name); pd == nil || pd.rate != c.rate {
			t.Errorf("%s: got %+v; want rate %v", c.name, pd, c.rate)
		}
	}
	var rates []string
	for _, st := range s.stmts {
		if st.word.name == "rate" {
			rates = append(rates, fmt.Sprintf("%s %v %s", st.name, st.p, strings.Join(st.clients, ",")))
		}
	}
	if got, want := strings.Join(rates, "; "), "each 20 each-1,each-2,each-3,each-4; all 25 all-1,all-2,all-3,all-4; each-2 0 "; got != want {
		t.Errorf("rate statements %q; want %q", got, want)
	}
	for _, c := range []struct{ name, src, want string }{
		{"total without a fleet", pwHead + "producer w topic=orders rate.total=10/s\n", "t.scenario:3:25: producer w: rate.total= splits a fleet's rate, and this line declares one producer (add count=N, or use rate=)"},
		{"rate and total", pwHead + "producer w topic=orders rate=1/s rate.total=10/s count=2\n", "t.scenario:3:34: producer w: rate= and rate.total= together"},
		{"total not a rate", pwHead + "producer w topic=orders rate.total=fast count=2\n", "t.scenario:3:36: rate.total: \"fast\" is not a rate"},
		{"total above each member's maximum", pwHead + "producer w topic=orders rate.total=3000000/s count=2\n", "t.scenario:3:36: rate.total: 3e+06/s over 2 producers is above 1e+06/s each"},
		{"fleet statement form", pwHead + "producer w topic=orders count=2\nwait 1s\nrate w all 5/s\n", "t.scenario:5:1: rate: expected rate FLEET R/s (each member) or rate FLEET total R/s (the fleet in all)"},
		{"fleet statement rate", pwHead + "producer w topic=orders count=2\nwait 1s\nrate w total 3000000/s\n", "t.scenario:5:14: rate: \"3000000/s\" is not a rate (use 200/s, at most 2e+06/s)"},
		{"a producer named as a fleet", pwHead + "producer w topic=orders count=2\nproducer w topic=orders\n", "t.scenario:4:10: w: the name is taken (the producer fleet w-1 … w-2 on line 3)"},
	} {
		_, err := Parse("t.scenario", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v; want %s", c.name, err, c.want)
		}
	}
}

// A fleet at rate.total=40/s writes about 40 records a second in all, each member a quarter;
// `rate w total 80/s` doubles it.
func TestFleetTotalRateRuns(t *testing.T) {
	s := mustParseSrc(t, pwHead+`producer w topic=orders acks=all rate.total=40/s count=4
wait 5s
expect acked w-1 >= 45
expect acked w-1 <= 51
expect acked w-4 >= 45
rate w total 80/s
wait 5s
expect acked w-1 >= 145
expect acked w-4 <= 151
`)
	r, err := Run(s, Options{Seed: 1, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatal(r.Failure)
	}
}
