package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/client"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
	"kafkasim/sim/cluster"
)

// The words of consumer groups: the statements commit, seek and leave, and the conditions
// members, state, generation, assigned, committed, lag, coordinator and redelivered.

// hasGroup reports whether some consumer joins group g.
func (s *Scenario) hasGroup(g string) bool {
	for _, cd := range s.consumers {
		if cd.cfg.Group == g {
			return true
		}
	}
	return false
}

// groupConsumer reads a consumer of a group at toks[i].
func (p *parser) groupConsumer(toks []token, i int, verb string) (*consumerDef, error) {
	if i >= len(toks) {
		return nil, p.errAt(colAt(toks, i), "%s: expected a consumer", verb)
	}
	cd := p.s.consumer(toks[i].text)
	if cd == nil {
		return nil, p.errTok(toks[i], "%s: unknown consumer %q", verb, toks[i].text)
	}
	if cd.cfg.Group == "" {
		return nil, p.errTok(toks[i], "%s: consumer %s has no group (add group=G)", verb, cd.name)
	}
	return cd, nil
}

// commit C [TOPIC/I=OFFSET ...]
func (p *parser) commit(st *stmt, toks []token) error {
	cd, err := p.groupConsumer(toks, 1, "commit")
	if err != nil {
		return err
	}
	st.name = cd.name
	for _, t := range toks[2:] {
		ref, off, ok := strings.Cut(t.text, "=")
		n, perr := strconv.ParseInt(off, 10, 64)
		if !ok || perr != nil || n < 0 {
			return p.errTok(t, "commit: expected TOPIC/INDEX=OFFSET, e.g. orders/0=100, found %q", t.text)
		}
		topic, part, err := p.partitionRef(token{text: ref, col: t.col})
		if err != nil {
			return err
		}
		st.offsets = append(st.offsets, tpOffset{protocol.TopicPartition{Topic: topic, Partition: part}, n})
	}
	return nil
}

// seek C TOPIC/I=OFFSET|earliest|latest
func (p *parser) seek(st *stmt, toks []token) error {
	if len(toks) != 3 {
		return p.errTok(toks[0], "seek: expected seek CONSUMER TOPIC/INDEX=OFFSET|earliest|latest")
	}
	if p.s.consumer(toks[1].text) == nil {
		return p.errTok(toks[1], "seek: unknown consumer %q", toks[1].text)
	}
	st.name = toks[1].text
	ref, off, ok := strings.Cut(toks[2].text, "=")
	if !ok {
		return p.errTok(toks[2], "seek: expected TOPIC/INDEX=OFFSET|earliest|latest, found %q", toks[2].text)
	}
	topic, part, err := p.partitionRef(token{text: ref, col: toks[2].col})
	if err != nil {
		return err
	}
	var n int64
	switch off {
	case "earliest":
		n = protocol.EarliestOffset
	case "latest":
		n = protocol.LatestOffset
	default:
		if n, err = strconv.ParseInt(off, 10, 64); err != nil || n < 0 {
			return p.errAt(valueCol(toks[2], ref), "seek: %q is not an offset, earliest or latest", off)
		}
	}
	st.offsets = []tpOffset{{protocol.TopicPartition{Topic: topic, Partition: part}, n}}
	return nil
}

// leave C
func (p *parser) leave(st *stmt, toks []token) error {
	if len(toks) != 2 {
		return p.errTok(toks[0], "leave: expected leave CONSUMER")
	}
	cd, err := p.groupConsumer(toks, 1, "leave")
	if err != nil {
		return err
	}
	st.name = cd.name
	return nil
}

type tpOffset struct {
	tp  protocol.TopicPartition
	off int64
}

func (p *Player) inject(name string, msg any) error {
	id, ok := p.c.Client(name)
	if !ok {
		return fmt.Errorf("consumer %s does not exist", name)
	}
	p.c.World.Inject(id, msg)
	return nil
}

func runCommit(p *Player, st *stmt) (NoteKind, error) {
	m := &client.CommitNow{}
	if len(st.offsets) > 0 {
		m.Offsets = map[protocol.TopicPartition]int64{}
		for _, o := range st.offsets {
			m.Offsets[o.tp] = o.off
		}
	}
	return NoteRan, p.inject(st.name, m)
}

func runSeek(p *Player, st *stmt) (NoteKind, error) {
	return NoteRan, p.inject(st.name, &client.Seek{TP: st.offsets[0].tp, Offset: st.offsets[0].off})
}

func runLeave(p *Player, st *stmt) (NoteKind, error) {
	return NoteRan, p.inject(st.name, &client.LeaveGroup{})
}

// groupCondition parses the group conditions; toks[at] is the condition's word.
func (p *parser) groupCondition(k *cond, toks []token, at int, instant, operand bool) (*cond, error) {
	w := toks[at]
	i := at + 1
	if i >= len(toks) {
		return nil, p.errAt(colAt(toks, i), "%s: expected a group or consumer", w.text)
	}
	subj := toks[i]
	i++
	kind := vInt
	switch w.text {
	case "assigned":
		cd, err := p.groupConsumer(toks, at+1, w.text)
		if err != nil {
			return nil, err
		}
		k.client = cd.name
		k.subj = sAssigned
		if at == 1 {
			k.subj = sSizeAssigned
		}
	default:
		if !p.s.hasGroup(subj.text) {
			return nil, p.errTok(subj, "%s: no consumer joins group %q", w.text, subj.text)
		}
		k.client = subj.text
		switch w.text {
		case "members":
			k.subj = sMembers
		case "state":
			k.subj = sGroupState
		case "generation":
			k.subj = sGeneration
		case "coordinator":
			k.subj, kind = sCoordinator, vBroker
		case "redelivered":
			k.subj = sRedelivered
		case "committed", "lag":
			k.subj = sCommitted
			if w.text == "lag" {
				k.subj = sLag
			}
			if i < len(toks) && strings.Contains(toks[i].text, "/") {
				var err error
				if k.topic, k.part, err = p.partitionRef(toks[i]); err != nil {
					return nil, err
				}
				i++
			} else if w.text == "committed" {
				return nil, p.errAt(colAt(toks, i), "committed: expected committed GROUP TOPIC/INDEX, e.g. committed g1 orders/0")
			} else {
				k.allTPs = true
			}
		}
	}
	if operand {
		return p.endOperand(k, toks, i)
	}
	if i >= len(toks) {
		return nil, p.errAt(colAt(toks, i), "%s: expected a comparison", w.text)
	}
	op := toks[i]
	k.op = op.text
	i++
	switch {
	case k.subj == sGroupState:
		// The classic states, then KIP-848's (assigning, reconciling).
		states := []string{"empty", "preparing-rebalance", "completing-rebalance", "stable", "dead", "assigning", "reconciling", "none"}
		if k.op != "==" && k.op != "!=" {
			return nil, p.errTok(op, "state: expected == or !=")
		}
		if i != len(toks)-1 || !slices.Contains(states, toks[i].text) {
			return nil, p.errAt(colAt(toks, i), "state: expected one of %s", strings.Join(states, ", "))
		}
		k.word = toks[i].text
		return k, nil
	case k.subj == sAssigned:
		if k.op != "==" && k.op != "!=" && k.op != "contains" {
			return nil, p.errTok(op, "assigned: expected ==, != or contains")
		}
		var refs []string
		if k.op == "contains" {
			if i != len(toks)-1 {
				return nil, p.errAt(colAt(toks, i), "assigned: expected one TOPIC/INDEX")
			}
			refs = []string{toks[i].text}
			i++
		} else {
			if i >= len(toks) || toks[i].text != "{" {
				return nil, p.errAt(colAt(toks, i), "assigned: expected a set like {orders/0,orders/1}")
			}
			for i++; i < len(toks) && toks[i].text != "}"; i++ {
				for _, r := range strings.Split(toks[i].text, ",") {
					if r != "" {
						refs = append(refs, r)
					}
				}
			}
			if i >= len(toks) {
				return nil, p.errAt(colAt(toks, i), "the set is not closed (a } is missing)")
			}
			i++
		}
		for _, r := range refs {
			topic, part, err := p.partitionRef(token{text: r, col: op.col})
			if err != nil {
				return nil, err
			}
			k.tps = append(k.tps, fmt.Sprintf("%s/%d", topic, part))
		}
		slices.Sort(k.tps)
		if i < len(toks) {
			return nil, p.errTok(toks[i], "unexpected %q after the condition", toks[i].text)
		}
		return k, nil
	}
	allowed := []string{"==", "!=", "<", "<=", ">", ">=", "in"}
	if kind == vBroker {
		allowed = []string{"==", "!=", "in"}
	}
	if !slices.Contains(allowed, k.op) {
		return nil, p.errTok(op, "%s: expected a comparison (%s), found %q", w.text, strings.Join(allowed, " "), k.op)
	}
	if err := p.operand(k, w.text, kind, toks, i, instant); err != nil {
		return nil, err
	}
	return k, nil
}

// evalGroup judges state G and assigned C; the group counts are values (condrhs.go).
func (k *cond) evalGroup(c *cluster.Cluster) (bool, string) {
	if k.subj == sGroupState {
		st := "none"
		if g := c.Group(k.client); g != nil {
			st = g.State().String()
		}
		return (st == k.word) == (k.op == "=="), fmt.Sprintf("state %s is %s", k.client, st)
	}
	var got []string
	if cs := c.Consumer(k.client); cs != nil {
		for _, tp := range cs.Assigned() {
			got = append(got, fmt.Sprintf("%s/%d", tp.Topic, tp.Partition))
		}
	}
	slices.Sort(got)
	saw := fmt.Sprintf("assigned %s is {%s}", k.client, strings.Join(got, ","))
	switch k.op {
	case "contains":
		return slices.Contains(got, k.tps[0]), saw
	case "==":
		return slices.Equal(got, k.tps), saw
	}
	return !slices.Equal(got, k.tps), saw
}

func (k *cond) groupValue(c *cluster.Cluster) (int64, bool, string) {
	g := c.Group(k.client)
	switch k.subj {
	case sMembers, sGeneration:
		what := map[subject]string{sMembers: "members ", sGeneration: "generation "}[k.subj] + k.client
		if g == nil {
			return unknownValue(what, "no running coordinator has the group")
		}
		v := int64(g.Generation)
		if k.subj == sMembers {
			v = int64(len(g.Members()))
		}
		return v, true, fmt.Sprintf("%s is %d", what, v)
	case sCommitted:
		v := c.GroupCommitted(k.client, k.tp())
		return v, true, fmt.Sprintf("committed %s %s is %d", k.client, k.tpName(), v)
	case sLag:
		var tps []protocol.TopicPartition
		if k.allTPs {
			for _, t := range groupTopics(c, k.client) {
				for i := 0; i < c.PartitionCount(t); i++ {
					tps = append(tps, cluster.TP(t, i))
				}
			}
		} else {
			tps = append(tps, k.tp())
		}
		var lag int64
		for _, tp := range tps {
			r := c.Replica(c.Leader(tp), tp)
			if r == nil {
				return unknownValue("lag "+k.client, tp.String()+" has no running leader")
			}
			lag += r.HW() - max(c.GroupCommitted(k.client, tp), 0)
		}
		return lag, true, fmt.Sprintf("lag %s is %d", k.client, lag)
	case sRedelivered:
		v := redelivered(c.History(), k.client)
		return v, true, fmt.Sprintf("redelivered %s is %d", k.client, v)
	}
	return 0, false, "?"
}

// groupTopics lists the topics group g's consumers read.
func groupTopics(c *cluster.Cluster, g string) []string {
	var ts []string
	for _, name := range c.ClientNames() {
		if cs := c.Consumer(name); cs != nil && cs.Group() == g {
			for _, t := range cs.Topics() {
				if !slices.Contains(ts, t) {
					ts = append(ts, t)
				}
			}
		}
	}
	slices.Sort(ts)
	return ts
}

// redelivered counts records the group received more than once.
func redelivered(h history.History, g string) int64 {
	type key struct {
		tp protocol.TopicPartition
		v  int64
	}
	seen := map[key]int{}
	var n int64
	for i := range h {
		op := &h[i]
		if op.Type != history.Poll || op.Group != g || op.Outcome != history.OK {
			continue
		}
		for _, v := range op.Values {
			k := key{protocol.TopicPartition{Topic: op.Topic, Partition: op.Partition}, v}
			seen[k]++
			if seen[k] == 2 {
				n++
			}
		}
	}
	return n
}

// groupsCaughtUp: for every group, each partition of its topics is owned by a running
// member whose position has reached the leader's HW.
func (p *Player) groupsCaughtUp() bool {
	for _, cd := range p.s.consumers {
		g := cd.cfg.Group
		if g != "" && p.c.Committed() == nil {
			return false // no active controller: the partitions to read are unknown (caughtup.go)
		}
		if g == "" || !p.groupLive(g) {
			continue
		}
		for _, t := range cd.topicList() {
			for i := 0; i < p.c.PartitionCount(t); i++ {
				tp := cluster.TP(t, i)
				leader := p.c.Replica(p.c.Leader(tp), tp)
				if leader == nil || leader.HW() < leader.LEO() {
					return false
				}
				ok := false
				for _, other := range p.s.consumers {
					cs := p.c.Consumer(other.name)
					if other.cfg.Group != g || cs == nil || !slices.Contains(cs.Assigned(), tp) {
						continue
					}
					if cs.Positions()[tp] >= leader.HW() && !cs.Processing() {
						ok = true
					}
				}
				if !ok {
					return false
				}
			}
		}
	}
	return true
}

// observeGroups says so when a consumer gives up on its group (INVALID_SESSION_TIMEOUT and
// the other errors the Java consumer raises to the application): the run narrates it and the
// player notes it as a failure.
func (p *Player) observeGroups(_ time.Duration, _ int32, ev any) {
	e, ok := ev.(*client.GroupFailed)
	if !ok {
		return
	}
	text := fmt.Sprintf("consumer %s gives up on group %s: %v", e.Client, e.Group, e.Error)
	if e.Why != "" {
		text += " (" + e.Why + ")"
	}
	p.narrate("%s", text)
	p.note(NoteFailed, 0, "%s", text)
}

// groupLive: some consumer of group g runs and has not given up on it.
func (p *Player) groupLive(g string) bool {
	for _, cd := range p.s.consumers {
		if cs := p.c.Consumer(cd.name); cd.cfg.Group == g && cs != nil && cs.GroupError() == protocol.NONE {
			return true
		}
	}
	return false
}

func unknownValue(what, why string) (int64, bool, string) {
	return 0, false, fmt.Sprintf("%s is unknown (%s)", what, why)
}
