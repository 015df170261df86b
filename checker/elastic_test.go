package checker

import (
	"os"
	"strconv"
	"testing"
	"time"

	"kafkasim/sim/cluster"
)

// No false alarm while partitions move: four brokers, a topic of 3 partitions with RF 3 and
// min.insync.replicas=2, an idempotent acks=all producer, and six KIP-455 reassignments (each
// moves one partition off one broker and onto the one it lacks) between runs of random broker
// faults; then a fifth broker joins and a partition moves onto it, under faults again. Every
// invariant holds and the verdict is valid, over 15 seeds and the regression seeds
// (CHECKER_SEEDS=1000 go test ./checker -run NoFalseAlarmWhileReassigning for the full figure;
// CHECKER_SEED=N runs seed N alone).
//
// One loss is Kafka's own, as in TestNoFalseAlarmUnderChaos: these random faults may shut down
// two replicas of a partition uncleanly (a power loss, a kill) in turn. The broker that
// restarts after an unclean shutdown leaves the ELR (KAFKA-15586), and once the ISR and ELR
// are both empty PartitionChangeBuilder.canElectLastKnownLeader elects the last known leader
// (KIP-966), an election it marks unclean; a power loss may have cut that leader's log. Such a
// run passes only when every finding is a loss the checker attributes to that election.
func TestNoFalseAlarmWhileReassigning(t *testing.T) {
	seeds := 15
	if testing.Short() {
		seeds = 5
	}
	if n, err := strconv.Atoi(os.Getenv("CHECKER_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	run := make([]uint64, 0, seeds+len(reassignRegressions))
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		run = append(run, seed)
	}
	for _, seed := range reassignRegressions {
		if seed > uint64(seeds) {
			run = append(run, seed)
		}
	}
	if n, err := strconv.ParseUint(os.Getenv("CHECKER_SEED"), 10, 64); err == nil && n > 0 {
		run = []uint64{n}
	}
	ops, moves, permitted := 0, 0, 0
	for _, seed := range run {
		r := newRun(t, 4, seed, nil)
		guardLivelock(r.c)
		r.topic(cluster.TopicSpec{Name: "t", Partitions: 3, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
		r.producer("p", "t", 100, "acks", "all")
		r.consumer("c", "t")
		for i := range 6 {
			tp := cluster.TP("t", i%3)
			var target []int32
			for k := range 4 {
				if b := int32((i+k)%4 + 1); k < 3 {
					target = append(target, b)
				}
			}
			if err := r.c.Reassign(tp, target); err == nil {
				moves++
			}
			r.c.Nemesis(2*time.Second, 6*time.Second)
		}
		// A broker joins while faults go on, and a partition moves onto it (kafka-reassign-
		// partitions after adding a broker: a new broker gets no replica by itself).
		if err := r.c.AddBroker(5); err != nil {
			t.Fatalf("seed %d: add broker 5: %v", seed, err)
		}
		r.c.RunFor(5 * time.Second) // it registers and is unfenced
		if err := r.c.Reassign(cluster.TP("t", int(seed%3)), []int32{5, int32(seed%4) + 1, int32((seed+1)%4) + 1}); err == nil {
			moves++
		}
		r.c.Nemesis(2*time.Second, 6*time.Second)
		rep := r.finish(Config{Idempotent: true}, []string{"p"}, "c")
		ops += len(r.c.History())
		if rep.Verdict == Valid {
			continue
		}
		if lossAfterUncleanElection(rep) {
			permitted++
			t.Logf("seed %d: loss after an unclean (last known leader) election, permitted", seed)
			continue
		}
		t.Errorf("seed %d: verdict %s; want valid\n%s", seed, rep.Verdict, rep.Text())
	}
	t.Logf("%d runs with reassignments and a broker added under random faults: %d moves asked, %d operations checked; %d runs lost records after an unclean election, as Kafka does",
		len(run), moves, ops, permitted)
}

// reassignRegressions are seeds that once failed, run every time.
//
// 4: a reassignment added broker 2 back to t/2 while the leader's HW was stuck at 0 (a
// follower in the ISR was not fetching). Broker 2 joined the ISR with the leader's whole log
// (LEO 5 of 5: Partition.isFollowerInSync, LEO ≥ HW and ≥ the leader epoch's start offset),
// which completed the move, and the controller elected it, the first target replica in the
// ISR, as Kafka's PartitionChangeBuilder does; no record was lost by it. The duplicates that
// followed were the producer's retries across the leader change, seed 59 of
// TestNoFalseAlarmUnderNemesis: that fix alone (the broker handles one request per connection
// at a time, as SocketServer does; the producer closes a timed-out connection), applied to the
// commit that found seed 4, makes it valid.
//
// 13, 145: loss after KIP-966's last known leader election, permitted (the comment above):
// in 13 brokers 3 (killed) and 4 (power loss) of t/2, in 145 brokers 2 (power loss) and 3 of
// t/1, then the last known leader returns with a log its power loss cut.
var reassignRegressions = []uint64{4, 13, 145}
