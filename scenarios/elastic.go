package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/node"
)

// Elastic clusters: add broker N, remove broker N, reassign T/I replicas=..., partitions T N,
// elect preferred T/I|all, elect unclean T/I. The parser follows what the script does to the
// cluster (the brokers it adds and removes, the partitions it adds), so that a later statement
// may name broker 4 or orders/11, and so that a mistake it can see (an unknown or duplicate
// broker, fewer partitions, removing the last broker) is an error at FILE:LINE:COL. What only
// the running cluster knows (a broker that still holds replicas) stops the run with the error
// in words.

// addedList names the brokers the script added, for errors: ", 4, 5 added".
func (p *parser) addedList() string {
	if len(p.added) == 0 {
		return ""
	}
	parts := make([]string, len(p.added))
	for i, id := range p.added {
		parts[i] = strconv.Itoa(int(id))
	}
	return "; " + strings.Join(parts, ", ") + " added"
}

// brokerNow reports whether broker n exists at this point of the script.
func (p *parser) brokerNow(n int32) bool {
	return (int(n) <= p.s.brokers || slices.Contains(p.added, n)) && !slices.Contains(p.removed, n)
}

// brokerArg reads `broker N` at toks[1:] for add and remove.
func (p *parser) brokerArg(st *stmt, toks []token) (int32, error) {
	verb := toks[0].text
	if len(toks) != 3 || toks[1].text != "broker" || toks[1].quoted {
		return 0, p.errTok(toks[0], "%s: expected %s broker N, e.g. %s broker 4", verb, verb, verb)
	}
	n, err := strconv.Atoi(toks[2].text)
	if err != nil || !isNumber(toks[2].text) || n < 1 || n >= int(node.ControllerBase) {
		return 0, p.errTok(toks[2], "%s broker: %q is not a broker number", verb, toks[2].text)
	}
	st.n = n
	return int32(n), nil
}

func (p *parser) addBroker(st *stmt, toks []token) error {
	n, err := p.brokerArg(st, toks)
	if err != nil {
		return err
	}
	if int(n) <= p.s.brokers || slices.Contains(p.added, n) {
		return p.errTok(toks[2], "add broker %d: broker %d already exists (a removed broker's id is not reused)", n, n)
	}
	if n > maxBrokers {
		return p.errTok(toks[2], "add broker %d: broker ids go up to %d", n, maxBrokers)
	}
	p.added = append(p.added, n)
	return nil
}

func (p *parser) removeBroker(st *stmt, toks []token) error {
	n, err := p.brokerArg(st, toks)
	if err != nil {
		return err
	}
	if !p.brokerNow(n) {
		return p.errTok(toks[2], "remove broker %d: broker %d does not exist here (brokers are 1..%d%s)", n, n, p.s.brokers, p.addedList())
	}
	left := 0
	for id := int32(1); id <= int32(maxBrokers); id++ {
		if p.brokerNow(id) {
			left++
		}
	}
	if left == 1 {
		return p.errTok(toks[2], "remove broker %d: it is the last broker of the cluster", n)
	}
	p.removed = append(p.removed, n)
	return nil
}

func (p *parser) reassign(st *stmt, toks []token) error {
	if len(toks) < 3 {
		return p.errTok(toks[0], "reassign: expected reassign TOPIC/INDEX replicas=B,B,..., e.g. reassign orders/0 replicas=2,3,4")
	}
	var err error
	if st.tp.Topic, st.tp.Partition, err = p.partitionRef(toks[1]); err != nil {
		return err
	}
	seen := false
	for _, t := range toks[2:] {
		k, v, err := p.keyValue(t, "reassign")
		if err != nil {
			return err
		}
		switch k {
		case "replicas":
			if seen {
				return p.errTok(t, "reassign: replicas= is given twice")
			}
			seen = true
			off := 0
			for _, piece := range strings.Split(v, ",") {
				col := valueCol(t, k) + utf8Len(v[:off])
				off += len(piece) + 1
				n, err := strconv.Atoi(piece)
				if err != nil || !isNumber(piece) {
					return p.errAt(col, "replicas: %q is not a broker number (replicas=2,3,4)", piece)
				}
				if !p.brokerNow(int32(n)) {
					return p.errAt(col, "replicas: broker %d does not exist here (brokers are 1..%d%s)", n, p.s.brokers, p.addedList())
				}
				if slices.Contains(st.replicas, int32(n)) {
					return p.errAt(col, "replicas: broker %d is named twice", n)
				}
				st.replicas = append(st.replicas, int32(n))
			}
		case "throttle":
			if st.p > 0 {
				return p.errTok(t, "reassign: throttle= is given twice")
			}
			r, err := parseThrottle(v)
			if err != nil {
				return p.errAt(valueCol(t, k), "throttle: %v", err)
			}
			st.p = float64(r)
		default:
			return p.errTok(t, "%s: unknown reassign key (known: replicas, throttle)", k)
		}
	}
	if !seen {
		return p.errAt(colAt(toks, len(toks)), "reassign: replicas=B,B,... is required")
	}
	return nil
}

// parseThrottle reads a replication throttle in bytes per second: 500KB/s, 10MB/s, 1MiB/s, or
// bytes (kafka-reassign-partitions.sh --throttle takes bytes per second).
func parseThrottle(v string) (int64, error) {
	num := strings.TrimSuffix(v, "/s")
	units := []struct {
		suffix string
		n      float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mul := 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mul = strings.TrimSuffix(num, u.suffix), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num != strings.TrimSpace(num) || f*mul < 1 || f*mul > 1e15 {
		return 0, fmt.Errorf("%q is not a rate in bytes per second (throttle=500KB/s, 10MB/s, or bytes)", v)
	}
	return int64(f * mul), nil
}

func (p *parser) partitions(st *stmt, toks []token) error {
	if len(toks) != 3 {
		return p.errTok(toks[0], "partitions: expected partitions TOPIC N, e.g. partitions orders 12")
	}
	td := p.s.topic(toks[1].text)
	if td == nil || toks[1].quoted {
		return p.errTok(toks[1], "partitions: unknown topic %q", toks[1].text)
	}
	n, err := strconv.Atoi(toks[2].text)
	if err != nil || !isNumber(toks[2].text) || n > maxPartitions {
		return p.errTok(toks[2], "partitions: %q is not a partition count (up to %d)", toks[2].text, maxPartitions)
	}
	if cur := max(td.partitions, td.grown); n <= cur {
		return p.errTok(toks[2], "partitions %s %d: %s has %d partitions here; partitions can be added, never removed", td.name, n, td.name, cur)
	}
	td.grown = n
	st.name, st.n = td.name, n
	return nil
}

func (p *parser) elect(st *stmt, toks []token) error {
	if len(toks) != 3 || (toks[1].text != "preferred" && toks[1].text != "unclean") || toks[1].quoted {
		return p.errTok(toks[0], "elect: expected elect preferred TOPIC/INDEX|all or elect unclean TOPIC/INDEX")
	}
	st.name = toks[1].text
	if toks[2].text == "all" && !toks[2].quoted {
		if st.name == "unclean" {
			return p.errTok(toks[2], "elect unclean: name one partition (an unclean election may lose committed records)")
		}
		st.no = true // every partition
		return nil
	}
	var err error
	st.tp.Topic, st.tp.Partition, err = p.partitionRef(toks[2])
	return err
}

// elasticBrokers are the brokers statements added and removed while the cluster ran, so that a
// statement typed later (the UI's command line, its keys) may name them.
type elasticBrokers struct {
	added, removed []int32
}

// CheckStatement parses one statement as Exec would now, without running it: against the
// scenario and the brokers added and removed so far.
func (p *Player) CheckStatement(text string) error {
	_, err := p.s.parseOneWith(text, p.brokers)
	return err
}

func runAddBroker(p *Player, st *stmt) (NoteKind, error) {
	if err := p.c.AddBroker(int32(st.n)); err != nil {
		return 0, err
	}
	p.brokers.added = append(p.brokers.added, int32(st.n))
	p.narrate("broker %d starts empty: it registers with the controller, is unfenced once it has caught up with the metadata log, and takes new partitions; existing ones move to it only by reassignment", st.n)
	return NoteRan, nil
}

func runRemoveBroker(p *Player, st *stmt) (NoteKind, error) {
	if err := p.c.RemoveBroker(int32(st.n)); err != nil {
		return 0, err
	}
	p.brokers.removed = append(p.brokers.removed, int32(st.n))
	p.narrate("broker %d shuts down cleanly (its leaderships move away), then the controller unregisters it", st.n)
	return NoteRan, nil
}

func runReassign(p *Player, st *stmt) (NoteKind, error) {
	old := p.c.Replicas(st.tp)
	if st.p > 0 {
		if ps := p.c.PartitionState(st.tp); ps != nil && ps.Reassigning() && slices.Equal(withoutBrokers(ps.Replicas, ps.RemovingReplicas), st.replicas) {
			if err := p.c.ReassignThrottled(st.tp, st.replicas, int64(st.p)); err != nil {
				return 0, err
			}
			p.narrate("%s keeps moving to %v; the replication throttle is now %s (leader and follower.replication.throttled.rate)", st.tp, st.replicas, rateWords(int64(st.p)))
			return NoteRan, nil
		}
		if err := p.c.ReassignThrottled(st.tp, st.replicas, int64(st.p)); err != nil {
			return 0, err
		}
	} else if err := p.c.Reassign(st.tp, st.replicas); err != nil {
		return 0, err
	}
	var adding, removing []string
	for _, r := range st.replicas {
		if !slices.Contains(old, r) {
			adding = append(adding, strconv.Itoa(int(r)))
		}
	}
	for _, r := range old {
		if !slices.Contains(st.replicas, r) {
			removing = append(removing, strconv.Itoa(int(r)))
		}
	}
	switch {
	case len(adding) > 0 && st.p > 0:
		p.narrate("%s moves from %v to %v, throttled to %s: %s copy the log from the leader no faster than that (a follower over its quota leaves the partition out of its fetches), join the ISR once caught up; then %s",
			st.tp, old, st.replicas, rateWords(int64(st.p)), brokersWord(adding), leaving(removing))
	case len(adding) > 0:
		p.narrate("%s moves from %v to %v: %s copy the log from the leader and join the ISR; then %s",
			st.tp, old, st.replicas, brokersWord(adding), leaving(removing))
	default:
		p.narrate("%s: replicas %v → %v (no new replica to copy: the change is immediate)", st.tp, old, st.replicas)
	}
	return NoteRan, nil
}

// rateWords writes bytes per second for people: 2000 B/s, 2.5 KB/s, 10 MB/s.
func rateWords(r int64) string {
	switch {
	case r >= 1e6:
		return strconv.FormatFloat(float64(r)/1e6, 'f', -1, 64) + " MB/s"
	case r >= 1e3:
		return strconv.FormatFloat(float64(r)/1e3, 'f', -1, 64) + " KB/s"
	}
	return strconv.FormatInt(r, 10) + " B/s"
}

func withoutBrokers(ids, drop []int32) []int32 {
	var out []int32
	for _, id := range ids {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

// brokersWord is "broker 4" or "brokers 4,5".
func brokersWord(ids []string) string {
	if len(ids) == 1 {
		return "broker " + ids[0]
	}
	return "brokers " + strings.Join(ids, ",")
}

func leaving(ids []string) string {
	if len(ids) == 0 {
		return "the move is done"
	}
	return brokersWord(ids) + " leave the replicas and delete their copy"
}

func runPartitions(p *Player, st *stmt) (NoteKind, error) {
	cur := p.c.PartitionCount(st.name)
	if err := p.c.AddPartitions(st.name, st.n); err != nil {
		return 0, err
	}
	p.narrate("%s grows from %d to %d partitions; producers see it at their next metadata refresh (metadata.max.age.ms), and from then a key goes to murmur2(key) %% %d instead of %% %d, so most keys change partition (order per key holds only within a partition)",
		st.name, cur, st.n, st.n, cur)
	return NoteRan, nil
}

func runElect(p *Player, st *stmt) (NoteKind, error) {
	unclean := st.name == "unclean"
	if st.no {
		p.c.ElectLeaders(false)
		return NoteRan, nil
	}
	if p.c.PartitionState(st.tp) == nil {
		return 0, fmt.Errorf("elect %s %s: the partition is not known to the controller now", st.name, st.tp)
	}
	if unclean && p.c.Leader(st.tp) >= 0 {
		p.narrate("%s has a leader (%d): Kafka answers ELECTION_NOT_NEEDED to an unclean election", st.tp, p.c.Leader(st.tp))
	}
	p.c.ElectLeaders(unclean, st.tp)
	return NoteRan, nil
}

// observeStrays narrates a broker deleting a stray replica: the log of a partition moved away
// from it while it was down (broker/stray.go).
func (p *Player) observeStrays(_ time.Duration, _ int32, ev any) {
	e, ok := ev.(*broker.StrayReplicaDeleted)
	if !ok {
		return
	}
	where := "the partition no longer exists"
	if e.Replicas != nil {
		where = fmt.Sprintf("its replicas are %v now", e.Replicas)
	}
	p.narrate("broker %d came back with a log of %s, but %s: a stray replica, moved away while the broker was down; it deletes it (%d files)", e.Broker, e.TP, where, e.Files)
}
