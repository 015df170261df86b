package scenarios

import (
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
