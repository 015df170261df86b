package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// subject is what a condition looks at.
type subject uint8

const (
	sLeader subject = iota
	sISR
	sSizeISR
	sHW
	sLEO
	sEpoch
	sOnline
	sOffline
	sDiverged
	sController
	sAcked
	sErrors
	sConsumed
	sLost
	sControllerEpoch
	sMembers    // members G
	sGroupState // state G
	sGeneration // generation G
	sAssigned   // assigned C
	sSizeAssigned
	sCommitted     // committed G T/I
	sLag           // lag G [T/I]
	sCoordinator   // coordinator G
	sRedelivered   // redelivered G
	sReplicas      // replicas T/I (elastic.go)
	sReassigning   // reassigning T/I
	sPartitions    // partitions T
	sBrokers       // brokers
	sLSO           // lso T/I
	sCommittedTxns // committed-txns P
	sAbortedTxns   // aborted-txns P
	sBytes         // bytes T/I[@B] (records.go)
	sSegments      // segments T/I[@B]
	sLogStart      // logstart T/I[@B]
	sKeys          // keys T/I[@B]
	sRecords       // records T/I[@B]
	sTxn           // txn P (txncond.go)
	sZkLeader      // zk.leader (zkcond.go)
	sZkStale       // stale.controller.refused (zkcond.go)
	sStores        // stores T@B (placement.go)
	sLeads         // leads T@B
)

var conditionWords = "leader, isr, proposed isr, size isr, hw, leo, epoch, online, offline, controller, controller.epoch, acked, errors, consumed, lost, diverged, members, state, generation, assigned, size assigned, committed, lag, coordinator, redelivered, replicas, reassigning, partitions, brokers, lso, committed-txns, aborted-txns, bytes, segments, logstart, keys, records, txn, zk.leader, stale.controller.refused, stores, leads, not"

// cond is a parsed condition.
type cond struct {
	text     string
	not      bool
	subj     subject
	topic    string
	part     int32
	broker   int32    // leo TOPIC/I@B, hw TOPIC/I@B, isr TOPIC/I@B (0: the leader's, the controller's)
	proposed bool     // proposed isr TOPIC/I@B: the ISR B proposed in an AlterPartition in flight
	client   string   // acked, errors, consumed, lost; the group of a group condition
	word     string   // state G == WORD
	tps      []string // assigned C == {T/I,...}, sorted
	allTPs   bool     // lag G without a partition
	op       string   // "" for online/offline/diverged; == != < <= > >= in contains
	num      int64    // the value compared with; a node id for leader/controller, -1 = none
	set      []int64
	rhs      *cond // a condition whose value is compared with instead of num or set (condrhs.go)
}

// valueKind says what values a subject takes.
type valueKind uint8

const (
	vBroker     valueKind = iota // a broker or none
	vController                  // a controller or none
	vBrokerSet                   // a set of brokers
	vInt
	vBool
)

func (p *parser) condition(toks []token, instant bool) (*cond, error) {
	return p.conditionOf(toks, instant, false)
}

// conditionOf parses a condition; with operand, one without its comparison, whose value
// stands on the right-hand side of another's (condrhs.go).
func (p *parser) conditionOf(toks []token, instant, operand bool) (*cond, error) {
	k := &cond{text: text(p.src, toks)}
	all := toks
	for len(toks) > 0 && toks[0].text == "not" && !toks[0].quoted {
		k.not = !k.not
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return nil, p.errAt(colAt(all, len(all)), "a condition is required after not")
	}
	w := toks[0]
	if w.quoted {
		return nil, p.errTok(w, "expected a condition (%s), found a string", conditionWords)
	}
	var kind valueKind
	i := 1
	needTP := func() error {
		if i >= len(toks) {
			return p.errAt(colAt(toks, i), "%s: expected TOPIC/INDEX, e.g. orders/0", w.text)
		}
		var err error
		k.topic, k.part, err = p.partitionRef(toks[i])
		i++
		return err
	}
	needClient := func(producer bool) error {
		if i >= len(toks) {
			return p.errAt(colAt(toks, i), "%s: expected a client name", w.text)
		}
		t := toks[i]
		i++
		k.client = t.text
		if producer && p.s.producer(t.text) == nil && !p.s.isProcessor(t.text) { // a processor's producer (processor.go)
			return p.errTok(t, "%s: unknown producer %q", w.text, t.text)
		}
		if !producer && p.s.consumer(t.text) == nil {
			return p.errTok(t, "%s: unknown consumer %q", w.text, t.text)
		}
		return nil
	}
	var err error
	switch w.text {
	case "leader":
		k.subj, kind, err = sLeader, vBroker, needTP()
	case "isr":
		k.subj, kind = sISR, vBrokerSet
		if len(toks) > 1 && strings.Contains(toks[1].text, "@") {
			i, err = p.replicaRef(k, toks)
		} else {
			err = needTP()
		}
	case "proposed":
		if len(toks) < 2 || toks[1].text != "isr" || toks[1].quoted {
			return nil, p.errAt(colAt(toks, 1), "proposed: expected proposed isr TOPIC/INDEX@BROKER, e.g. proposed isr orders/0@1 == {1,2}")
		}
		k.subj, kind, k.proposed = sISR, vBrokerSet, true
		i, err = p.replicaRef(k, toks[1:])
		i++
	case "size":
		if len(toks) >= 2 && toks[1].text == "assigned" {
			return p.groupCondition(k, toks, 1, instant, operand)
		}
		if len(toks) < 2 || toks[1].text != "isr" {
			return nil, p.errAt(colAt(toks, 1), "size: expected size isr TOPIC/INDEX")
		}
		i = 2
		k.subj, kind, err = sSizeISR, vInt, needTP()
	case "hw":
		k.subj, kind = sHW, vInt
		if len(toks) > 1 && strings.Contains(toks[1].text, "@") {
			i, err = p.replicaRef(k, toks)
		} else {
			err = needTP()
		}
	case "epoch":
		k.subj, kind, err = sEpoch, vInt, needTP()
	case "lso":
		k.subj, kind, err = sLSO, vInt, needTP()
	case "committed-txns":
		k.subj, kind, err = sCommittedTxns, vInt, needClient(true)
	case "aborted-txns":
		k.subj, kind, err = sAbortedTxns, vInt, needClient(true)
	case "txn":
		return p.txnCondition(k, toks)
	case "zk.leader":
		return p.zkLeaderCondition(k, toks)
	case "stale.controller.refused":
		k.subj, kind, err = sZkStale, vInt, p.zkOnly(toks[0])
	case "leo":
		k.subj, kind = sLEO, vInt
		if i, err = p.replicaRef(k, toks); err != nil {
			return nil, err
		}
	case "online":
		k.subj, kind, err = sOnline, vBool, needTP()
	case "offline":
		k.subj, kind, err = sOffline, vBool, needTP()
	case "diverged":
		k.subj, kind, err = sDiverged, vBool, needTP()
	case "controller":
		k.subj, kind = sController, vController
	case "controller.epoch":
		k.subj, kind = sControllerEpoch, vInt // the KRaft quorum's epoch, as the active controller has it
	case "acked":
		k.subj, kind, err = sAcked, vInt, needClient(true)
	case "errors":
		k.subj, kind, err = sErrors, vInt, needClient(true)
	case "lost":
		k.subj, kind, err = sLost, vInt, needClient(true)
	case "consumed":
		k.subj, kind, err = sConsumed, vInt, needClient(false)
	case "members", "state", "generation", "assigned", "committed", "lag", "coordinator", "redelivered":
		return p.groupCondition(k, toks, 0, instant, operand)
	case "replicas":
		k.subj, kind, err = sReplicas, vBrokerSet, needTP()
	case "reassigning":
		k.subj, kind, err = sReassigning, vBool, needTP()
	case "partitions":
		k.subj, kind = sPartitions, vInt
		if i >= len(toks) || p.s.topic(toks[i].text) == nil || toks[i].quoted {
			return nil, p.errAt(colAt(toks, i), "partitions: expected a topic, e.g. partitions orders == 12")
		}
		k.topic = toks[i].text
		i++
	case "brokers":
		k.subj, kind = sBrokers, vInt // registered and unfenced
	case "stores", "leads":
		k.subj, kind = map[string]subject{"stores": sStores, "leads": sLeads}[w.text], vInt
		i, err = p.placementRef(k, toks)
	case "bytes", "segments", "logstart", "keys", "records":
		k.subj, kind = recordSubjects[w.text], vInt
		if len(toks) > 1 && strings.Contains(toks[1].text, "@") {
			i, err = p.replicaRef(k, toks)
		} else {
			err = needTP()
		}
	default:
		if err := p.notModelled(inCondition, w.text, w); err != nil {
			return nil, err
		}
		return nil, p.errTok(w, "unknown condition %q (known: %s)", w.text, conditionWords)
	}
	if err != nil {
		return nil, err
	}
	if !instant && (k.subj == sLost || k.subj == sDiverged) {
		return nil, p.errTok(w, "%s: judged at an instant; use it with expect, not await", w.text)
	}
	if operand {
		return p.endOperand(k, toks, i)
	}
	if kind == vBool {
		if i < len(toks) {
			return nil, p.errTok(toks[i], "unexpected %q after the condition (%s takes no comparison)", toks[i].text, w.text)
		}
		return k, nil
	}
	if i >= len(toks) {
		return nil, p.errAt(colAt(toks, i), "%s: expected a comparison (== != < <= > >= in%s)", w.text, map[bool]string{true: " contains", false: ""}[kind == vBrokerSet])
	}
	opTok := toks[i]
	k.op = opTok.text
	i++
	allowed := map[valueKind][]string{
		vBroker:     {"==", "!=", "in"},
		vController: {"==", "!=", "in"},
		vBrokerSet:  {"==", "!=", "contains"},
		vInt:        {"==", "!=", "<", "<=", ">", ">=", "in"},
	}[kind]
	if opTok.quoted || !slices.Contains(allowed, k.op) {
		return nil, p.errTok(opTok, "%s: expected a comparison (%s), found %q", w.text, strings.Join(allowed, " "), opTok.text)
	}
	if err := p.operand(k, w.text, kind, toks, i, instant); err != nil {
		return nil, err
	}
	return k, nil
}

// replicaRef reads TOPIC/INDEX@BROKER at toks[1] (for leo; for hw it names a replica other
// than the leader's; for isr a broker's own view instead of the active controller's).
func (p *parser) replicaRef(k *cond, toks []token) (int, error) {
	w := toks[0].text
	if len(toks) < 2 {
		return 1, p.errAt(colAt(toks, 1), "%s: expected TOPIC/INDEX@BROKER, e.g. %s orders/0@2", w, w)
	}
	t := toks[1]
	at := strings.LastIndexByte(t.text, '@')
	if at < 0 || t.quoted {
		return 1, p.errTok(t, "%s: expected TOPIC/INDEX@BROKER, e.g. %s orders/0@2, found %q", w, w, t.text)
	}
	tp := t
	tp.text = t.text[:at]
	var err error
	if k.topic, k.part, err = p.partitionRef(tp); err != nil {
		return 1, err
	}
	bt := token{text: t.text[at+1:], col: t.col + utf8Len(t.text[:at]) + 1}
	if !isNumber(bt.text) {
		return 1, p.errTok(bt, "%s: %q is not a broker number", w, bt.text)
	}
	b, err := p.fixedNode(bt)
	if err != nil {
		return 1, err
	}
	k.broker = b.id
	return 2, nil
}

// value reads one value of a kind: a broker number, none, cK, or an integer.
func (p *parser) value(t token, kind valueKind, noNone bool) (int64, error) {
	if t.quoted || t.text == "{" || t.text == "}" || t.text == "|" || t.text == "->" {
		return 0, p.errTok(t, "expected a value, found %q", t.text)
	}
	switch kind {
	case vBroker, vController:
		if t.text == "none" && !noNone {
			return int64(protocol.NoLeader), nil
		}
		n, err := p.fixedNode(t)
		if err != nil {
			return 0, err
		}
		if kind == vBroker && (n.id < 1 || node.IsController(n.id)) {
			return 0, p.errTok(t, "%q is not a broker", t.text)
		}
		if kind == vController && !node.IsController(n.id) && !(p.s.zk.servers > 0 && node.IsBroker(n.id)) {
			return 0, p.errTok(t, "%q is not a controller (controllers are c1..c%d)", t.text, p.s.controllers)
		}
		return int64(n.id), nil
	}
	n, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil {
		if sz, serr := config.ParseSize("", t.text, math.MinInt64); serr == nil && t.text[len(t.text)-1] == 'B' {
			return sz, nil // a size: 10MB
		}
		return 0, p.errTok(t, "%q is not a whole number", t.text)
	}
	return n, nil
}

// set reads {A,B,...} starting at toks[i]; it returns the sorted values and the index after it.
func (p *parser) set(toks []token, i int, kind valueKind, noNone bool) ([]int64, int, error) {
	if toks[i].text != "{" || toks[i].quoted {
		return nil, i, p.errTok(toks[i], "expected a set like {1,2,3}, found %q", toks[i].text)
	}
	open := toks[i]
	i++
	var out []int64
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.text == "}" && !t.quoted {
			slices.Sort(out)
			return slices.Compact(out), i + 1, nil
		}
		// Commas and spaces separate values: {1,2,3}, {1, 2, 3} and {1 2 3} read the same.
		off := 0
		for _, piece := range strings.Split(t.text, ",") {
			col := t.col + utf8Len(t.text[:off])
			off += len(piece) + 1
			if piece == "" {
				continue
			}
			v, err := p.value(token{text: piece, col: col, quoted: t.quoted}, kind, noNone)
			if err != nil {
				return nil, i, err
			}
			out = append(out, v)
		}
	}
	return nil, i, p.errTok(open, "the set is not closed (a } is missing)")
}

// eval judges the condition on the cluster now; saw says what was seen.
func (k *cond) eval(c *cluster.Cluster) (bool, string) {
	ok, saw := k.evalInner(c)
	if k.not {
		ok = !ok
	}
	return ok, saw
}

func (k *cond) tp() protocol.TopicPartition {
	return protocol.TopicPartition{Topic: k.topic, Partition: k.part}
}

func (k *cond) tpName() string { return fmt.Sprintf("%s/%d", k.topic, k.part) }

func nodeName(id int64) string {
	if id < 0 {
		return "none"
	}
	return node.Name(int32(id))
}

func setString(s []int64, name func(int64) string) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = name(v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (k *cond) evalInner(c *cluster.Cluster) (bool, string) {
	tp := k.tp()
	switch k.subj {
	case sISR, sReplicas:
		s, ok, saw := k.brokerSet(c)
		if !ok {
			return false, saw
		}
		return k.compareSet(c, s, saw)
	case sOnline, sOffline:
		on := c.Online(tp)
		saw := fmt.Sprintf("%s is online", k.tpName())
		if !on {
			saw = fmt.Sprintf("%s is offline", k.tpName())
		}
		return on == (k.subj == sOnline), saw
	case sDiverged:
		return diverged(c, tp)
	case sReassigning:
		if c.Reassigning(tp) {
			return true, k.tpName() + " is being reassigned"
		}
		return false, k.tpName() + " is not being reassigned"
	case sGroupState, sAssigned:
		return k.evalGroup(c)
	case sTxn:
		return k.evalTxn(c)
	case sZkLeader:
		return k.evalZkLeader(c)
	}
	v, ok, saw := k.value(c)
	if !ok {
		return false, saw
	}
	return k.compareTo(c, v, saw)
}

// isr is the ISR a condition looks at: the active controller's committed one, or with @B
// the one broker B's replica knows (Partition.isr, what its produce path checks
// min.insync.replicas against: it learns a change from the metadata log a little after the
// controller commits it). what names it; note is said after the set, or says why it is
// unknown (ok false).
func (k *cond) isr(c *cluster.Cluster, tp protocol.TopicPartition) (isr []int32, what, note string, ok bool) {
	if k.broker > 0 {
		what = fmt.Sprintf("isr %s@%d", k.tpName(), k.broker)
		if k.proposed {
			what = "proposed " + what
		}
		r := c.Replica(k.broker, tp)
		if r == nil {
			return nil, what, fmt.Sprintf("broker %d is not running or has no replica", k.broker), false
		}
		if k.proposed {
			if r.PendingISR() == nil {
				return nil, what, fmt.Sprintf("broker %d has no AlterPartition for %s in flight", k.broker, k.tpName()), false
			}
			return r.PendingISR(), what, "", true
		}
		return r.ISR(), what, "", true
	}
	if c.ActiveController() < 0 {
		note = " (no active controller)"
	}
	return c.ISR(tp), "isr " + k.tpName(), note, true
}

// intValue reads a numeric subject; ok is false when the value is unknown now.
func (k *cond) intValue(c *cluster.Cluster, tp protocol.TopicPartition) (int64, bool, string) {
	name := k.tpName()
	unknown := func(what, why string) (int64, bool, string) {
		return 0, false, fmt.Sprintf("%s is unknown (%s)", what, why)
	}
	switch k.subj {
	case sSizeISR:
		n := int64(len(c.ISR(tp)))
		return n, true, fmt.Sprintf("size isr %s is %d", name, n)
	case sZkStale:
		return zkStaleRefused(c)
	case sStores, sLeads:
		return k.placement(c)
	case sControllerEpoch:
		if c.ZooKeeperMode() {
			return zkControllerEpoch(c)
		}
		id := c.ActiveController()
		if id < 0 {
			return unknown("controller.epoch", "no active controller")
		}
		e := int64(c.Controller(id).Raft().Epoch())
		return e, true, fmt.Sprintf("controller.epoch is %d", e)
	case sEpoch:
		ps := c.PartitionState(tp)
		if ps == nil {
			return unknown("epoch "+name, "no active controller")
		}
		return int64(ps.LeaderEpoch), true, fmt.Sprintf("epoch %s is %d", name, ps.LeaderEpoch)
	case sHW:
		if k.broker > 0 {
			what := fmt.Sprintf("hw %s@%d", name, k.broker)
			r := c.Replica(k.broker, tp)
			if r == nil {
				return unknown(what, fmt.Sprintf("broker %d is not running or has no replica", k.broker))
			}
			return r.HW(), true, fmt.Sprintf("%s is %d", what, r.HW())
		}
		l := c.Leader(tp)
		if l < 0 {
			return unknown("hw "+name, "no leader")
		}
		r := c.Replica(l, tp)
		if r == nil {
			if c.World.State(l) != sim.Running {
				return unknown("hw "+name, fmt.Sprintf("leader %d is not running", l))
			}
			return unknown("hw "+name, fmt.Sprintf("leader %d has not taken up its replica yet", l))
		}
		return r.HW(), true, fmt.Sprintf("hw %s is %d", name, r.HW())
	case sLSO:
		l := c.Leader(tp)
		r := c.Replica(l, tp)
		if l < 0 || r == nil {
			return unknown("lso "+name, "no running leader")
		}
		return r.LastStableOffset(), true, fmt.Sprintf("lso %s is %d", name, r.LastStableOffset())
	case sCommittedTxns, sAbortedTxns:
		pr := c.Producer(k.client)
		what := "committed-txns " + k.client
		if k.subj == sAbortedTxns {
			what = "aborted-txns " + k.client
		}
		if pr == nil {
			return unknown(what, "the producer is not running")
		}
		v := pr.Stats().Committed
		if k.subj == sAbortedTxns {
			v = pr.Stats().Aborted
		}
		return v, true, fmt.Sprintf("%s is %d", what, v)
	case sLEO:
		what := fmt.Sprintf("leo %s@%d", name, k.broker)
		r := c.Replica(k.broker, tp)
		if r == nil {
			return unknown(what, fmt.Sprintf("broker %d is not running or has no replica", k.broker))
		}
		return r.LEO(), true, fmt.Sprintf("%s is %d", what, r.LEO())
	case sAcked, sErrors:
		pr := c.Producer(k.client)
		what := "acked " + k.client
		if k.subj == sErrors {
			what = "errors " + k.client
		}
		if pr == nil {
			return unknown(what, "the producer is not running")
		}
		st := pr.Stats()
		v := st.Acked
		if k.subj == sErrors {
			v = st.Failed + st.Unknown
		}
		return v, true, fmt.Sprintf("%s is %d", what, v)
	case sConsumed:
		cs := c.Consumer(k.client)
		if cs == nil {
			return unknown("consumed "+k.client, "the consumer is not running")
		}
		v := cs.Stats().Consumed
		return v, true, fmt.Sprintf("consumed %s is %d", k.client, v)
	case sLost:
		return lost(c, k.client)
	case sBytes, sSegments, sLogStart, sKeys, sRecords:
		return k.recordValue(c, tp)
	}
	return 0, false, "?"
}

func (k *cond) compare(v int64) bool {
	switch k.op {
	case "==":
		return v == k.num
	case "!=":
		return v != k.num
	case "<":
		return v < k.num
	case "<=":
		return v <= k.num
	case ">":
		return v > k.num
	case ">=":
		return v >= k.num
	case "in":
		return slices.Contains(k.set, v)
	}
	return false
}

// logValues maps offset → value over a replica's log, nil if the replica is not running.
func logValues(c *cluster.Cluster, b int32, tp protocol.TopicPartition) map[int64]int64 {
	r := c.Replica(b, tp)
	if r == nil {
		return nil
	}
	out := map[int64]int64{}
	for _, batch := range r.Log().Batches() {
		for i := range batch.Len() {
			out[batch.OffsetOf(i)] = batch.Value(i)
		}
	}
	return out
}

// lost counts a producer's acknowledged records that are not in their partition leader's log
// at the offset they were acknowledged with. An acks=0 record is acknowledged when sent, with
// no offset: it is lost if its value is nowhere in the leader's log.
func lost(c *cluster.Cluster, producer string) (int64, bool, string) {
	logs := map[protocol.TopicPartition]map[int64]int64{}
	values := map[protocol.TopicPartition]map[int64]bool{} // acks=0: the values in the log
	var n int64
	for _, op := range c.History() {
		if op.Type != history.Send || op.Outcome != history.OK || op.Client != producer {
			continue
		}
		atOffsets := len(op.Offsets) == len(op.Values)
		if !atOffsets && len(op.Offsets) != 0 {
			continue
		}
		tp := protocol.TopicPartition{Topic: op.Topic, Partition: op.Partition}
		vals, seen := logs[tp]
		if !seen {
			if l := c.Leader(tp); l >= 0 {
				vals = logValues(c, l, tp)
			}
			logs[tp] = vals
		}
		if vals == nil {
			return 0, false, fmt.Sprintf("lost %s is unknown (%s/%d has no running leader)", producer, tp.Topic, tp.Partition)
		}
		if !atOffsets {
			in := values[tp]
			if in == nil {
				in = make(map[int64]bool, len(vals))
				for _, v := range vals {
					in[v] = true
				}
				values[tp] = in
			}
			for _, v := range op.Values {
				if !in[v] {
					n++
				}
			}
			continue
		}
		for i, off := range op.Offsets {
			if v, ok := vals[off]; !ok || v != op.Values[i] {
				n++
			}
		}
	}
	return n, true, fmt.Sprintf("lost %s is %d", producer, n)
}

// diverged reports whether two running replicas hold different records at one offset.
func diverged(c *cluster.Cluster, tp protocol.TopicPartition) (bool, string) {
	var ids []int32
	var logs []map[int64]int64
	for _, b := range c.BrokerIDs {
		if v := logValues(c, b, tp); v != nil {
			ids, logs = append(ids, b), append(logs, v)
		}
	}
	for i := range logs {
		for j := i + 1; j < len(logs); j++ {
			for _, off := range slices.Sorted(maps.Keys(logs[i])) {
				if w, ok := logs[j][off]; ok && w != logs[i][off] {
					return true, fmt.Sprintf("%s diverged: broker %d has %d at offset %d, broker %d has %d", tp, ids[i], logs[i][off], off, ids[j], w)
				}
			}
		}
	}
	return false, fmt.Sprintf("%s: the %d running replicas agree", tp, len(ids))
}
