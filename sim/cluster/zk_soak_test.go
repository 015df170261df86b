package cluster

import (
	"fmt"
	"testing"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/zookeeper"
	"kafkasim/sim"
)

// ZAB's guarantees under random faults (kills, crashes, restarts, partitions): committed
// histories never diverge between servers, at most one leader is established per epoch, and
// every write a client saw acknowledged stays in the history, in the order acknowledged.
func TestZooKeeperRandomFaultsKeepZabInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnsemble(t, 5, seed)
			e.addClient(t, "a", 10*time.Second)
			wantCode(t, "create", e.write(t, "a", zookeeper.Create("/c", 0, false)), zookeeper.OK)
			leaders := map[int64]int32{}
			e.w.OnObserve(func(now time.Duration, id int32, ev any) {
				if x, ok := ev.(*zookeeper.Established); ok {
					if prev, dup := leaders[x.Epoch]; dup && prev != x.Server {
						t.Errorf("epoch %d established by %s and %s", x.Epoch, node.Name(prev), node.Name(x.Server))
					}
					leaders[x.Epoch] = x.Server
				}
			})
			var acked []int
			var version int32
			next := 1
			inflight := false
			r := e.w.Rand("test-faults")
			for step := 0; step < 40; step++ {
				if !inflight {
					inflight = true
					v, want := next, version
					e.w.Inject(e.clients["a"], zkAction(func(now time.Duration, z *zkTestClient) {
						z.c.Multi(now, func(now time.Duration, rep *zookeeper.Reply) {
							inflight = false
							if rep.Err == zookeeper.OK {
								acked = append(acked, v)
								version = rep.Versions[0]
								next++
							} else if rep.Err == zookeeper.BADVERSION {
								// An earlier write whose answer was lost did commit: read it back.
								z.c.GetData(now, "/c", false, func(now time.Duration, g *zookeeper.Reply) {
									if g.Err == zookeeper.OK {
										version = g.Node.Version
										next = g.Node.Data.(int) + 1
									}
								})
							}
						}, zookeeper.SetData("/c", v, want))
					}))
				}
				e.w.RunFor(time.Duration(500+r.Intn(2500)) * time.Millisecond)
				id := e.servers[r.Intn(len(e.servers))]
				switch st := e.w.State(id); {
				case st != sim.Running:
					_ = e.w.Restart(id)
				case r.Intn(4) == 0:
					e.w.Heal()
				case r.Intn(3) == 0:
					_ = e.w.Crash(id)
				case r.Intn(2) == 0:
					_ = e.w.Kill(id)
				default:
					e.w.Partition([]int32{id})
					e.w.Partition([]int32{id}, otherThan(e.servers, id))
				}
				checkHistories(t, e)
			}
			e.w.Heal()
			for _, id := range e.servers {
				if e.w.State(id) != sim.Running {
					_ = e.w.Restart(id)
				}
			}
			if !e.w.RunUntil(func() bool { return e.serving() == 5 }, 2*time.Minute) {
				t.Fatal("the ensemble did not recover after the faults")
			}
			e.w.RunFor(5 * time.Second)
			checkHistories(t, e)
			// Every acknowledged write is in the final history, in order.
			h := e.server(e.leader()).History()
			var applied []int
			for _, x := range h {
				if x.Kind == zookeeper.TxnMulti && x.Err == zookeeper.OK && len(x.Ops) == 1 && x.Ops[0].Kind == zookeeper.OpSetData {
					applied = append(applied, x.Ops[0].Data.(int))
				}
			}
			j := 0
			for _, v := range applied {
				if j < len(acked) && v == acked[j] {
					j++
				}
			}
			if j != len(acked) {
				t.Fatalf("acknowledged writes %v are not all in the history %v", acked, applied)
			}
			if len(acked) == 0 {
				t.Fatal("no write acknowledged in 40 fault steps")
			}
		})
	}
}

func otherThan(ids []int32, id int32) []int32 {
	var out []int32
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// checkHistories: any two running servers' committed histories agree on their common prefix.
func checkHistories(t *testing.T, e *zkEnsemble) {
	t.Helper()
	for i, a := range e.servers {
		sa := e.server(a)
		if sa == nil {
			continue
		}
		for _, b := range e.servers[i+1:] {
			sb := e.server(b)
			if sb == nil {
				continue
			}
			ha, hb := sa.History(), sb.History()
			for k := 0; k < min(len(ha), len(hb)); k++ {
				if ha[k].Zxid != hb[k].Zxid {
					t.Fatalf("%s and %s diverge at entry %d: zxid %x vs %x", node.Name(a), node.Name(b), k, ha[k].Zxid, hb[k].Zxid)
				}
			}
		}
	}
}
