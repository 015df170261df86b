package scenarios

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/node"
)

// Scenario is a parsed scenario file, checked against its own set-up: every node, topic and
// client it names exists.
type Scenario struct {
	File  string // as given to Parse; the library's files are "scenarios/NAME.scenario"
	Title string // the first comment line, without '#'
	Seed  uint64 // config seed=N, 0 if the file names none

	brokers, controllers int
	zk                   zkSetup // ZooKeeper mode (zkcond.go)
	broker               config.Broker
	latMin, latMax       time.Duration
	latSet               bool
	osFlush              time.Duration
	osFlushSet           bool
	finishTimeout        time.Duration
	finishSet            bool   // the file set finish.timeout (else finishWindow may lengthen it)
	memory               Memory // config memory.limit in bytes, 0 if not set (see Options.Memory)
	recover              bool
	setupEnd             int // line of the last set-up statement
	topics               []*topicDef
	producers            []*producerDef
	consumers            []*consumerDef
	stmts                []*stmt
	nemesis              bool         // a default nemesis was added (WithNemesis, sweep --nemesis)
	mode                 MetadataMode // --metadata-mode, ModeAsWritten without (metadatamode.go)
}

// Statements is the number of statements after the set-up (say, wait, faults, expectations…).
func (s *Scenario) Statements() int { return len(s.stmts) }

type topicDef struct {
	line        int
	name        string
	partitions  int
	repl        int
	assignment  [][]int32
	configs     map[string]string
	replTok     token // replication= (or replicas=, or the name) for errors
	replicasTok token // replicas=, zero if not given
	grown       int   // the count after the script's `partitions T N` statements so far (elastic.go)
}

type producerDef struct {
	line       int
	name       string
	topic      string
	topicT     token
	cfg        config.Producer
	rate       float64
	keys       int
	tombstones float64 // tombstones=P: the fraction of keyed records with a null value
	nameTok    token
	// partition=, partitioner=map:, send.mode= (producerwords.go)
	chosen      []chosenPartition
	mapTok      token
	sendModeTok token
	late        bool     // declared after time moved: started by its statement (lateclients.go)
	fleet       fleetDef // count=N, rate.total= (producerwords.go)
}

type consumerDef struct {
	line   int
	name   string
	topic  string
	topics []string // a consumer of several topics (topic=T1,T2): all of them, topic the first
	topicT token
	cfg    config.Consumer
	proc   *processorDef // a processor's producer side (processor.go), nil for a consumer
	late   bool          // declared after time moved: started by its statement (lateclients.go)
}

// Default finish timeout in virtual time.
const defaultFinishTimeout = 60 * time.Second

// Limits that keep a parsed scenario buildable.
const (
	maxBrokers     = 100
	maxPartitions  = 10000
	maxControllers = 9
)

type parser struct {
	file        string
	s           *Scenario
	line        int
	src         string
	setupClosed bool
	closedBy    string
	closedLine  int
	cfgPos      map[string]errPos // config key → where it was set
	firstConfig errPos
	clusterLine int
	brokersTok  token
	reached     time.Duration         // a virtual time the script has certainly reached (see runUntil)
	latest      time.Duration         // a virtual time the script certainly ends by (see moveTime)
	added       []int32               // brokers the script adds (add broker N, elastic.go)
	removed     []int32               // brokers the script removes (remove broker N)
	hands       map[string]*handState // producers driven by hand (txnwords.go)
	rated       map[string]int        // transactional producers given a rate, at the line
	mode        MetadataMode          // --metadata-mode (metadatamode.go)
}

type errPos struct {
	line, col int
}

// ParseFile reads and parses a scenario file. A file that cannot be read is the *os.PathError
// itself; everything else is as Parse.
func ParseFile(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse parses a scenario. Every problem it can see before anything runs is an *Error.
func Parse(file string, src []byte) (*Scenario, error) { return parse(file, src, ModeAsWritten) }

// parse is Parse on the given control plane (metadatamode.go).
func parse(file string, src []byte, mode MetadataMode) (*Scenario, error) {
	p := &parser{file: file, cfgPos: map[string]errPos{}, mode: mode}
	p.s = &Scenario{File: file, broker: config.DefaultBroker(), finishTimeout: defaultFinishTimeout, recover: true}
	for i, line := range strings.Split(string(src), "\n") {
		p.line = i + 1
		p.src = line
		if p.s.Title == "" {
			if t, ok := strings.CutPrefix(strings.TrimSpace(line), "#"); ok {
				p.s.Title = strings.TrimSpace(t)
			}
		}
		toks, lerr := lex(line)
		if lerr != nil {
			return nil, p.errAt(lerr.col, "%s", lerr.msg)
		}
		if len(toks) == 0 {
			continue
		}
		if err := p.statement(toks); err != nil {
			return nil, err
		}
	}
	if !p.setupClosed {
		if err := p.closeSetup(); err != nil {
			return nil, err
		}
	}
	if err := p.checkChosenPartitions(); err != nil {
		return nil, err
	}
	return p.s, nil
}

func (p *parser) errAt(col int, format string, args ...any) *Error {
	return &Error{File: p.file, Line: p.line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) errTok(t token, format string, args ...any) *Error {
	return p.errAt(t.col, format, args...)
}

func (p *parser) errPos(at errPos, format string, args ...any) *Error {
	return &Error{File: p.file, Line: at.line, Col: at.col, Msg: fmt.Sprintf(format, args...)}
}

// valueCol is the column of the value in a KEY=VALUE token.
func valueCol(t token, key string) int { return t.col + utf8Len(key) + 1 }

func utf8Len(s string) int { return len([]rune(s)) }

func (p *parser) statement(toks []token) error {
	head := toks[0]
	if head.quoted {
		return p.errTok(head, "expected a statement, found a string")
	}
	w := lookup(toks)
	if w == nil {
		if err := p.notModelled(inStatement, head.text, head); err != nil {
			return err
		}
		return p.errTok(head, "unknown statement %q (known: %s)", head.text, strings.Join(wordNames(), ", "))
	}
	if w.setup {
		if p.setupClosed {
			return p.lateClient(w, toks) // lateclients.go
		}
		p.s.setupEnd = p.line
		return w.parse(p, nil, toks)
	}
	if !w.free && !p.setupClosed {
		p.closedBy, p.closedLine = head.text, p.line
		if err := p.closeSetup(); err != nil {
			return err
		}
	}
	st := &stmt{word: w}
	if err := w.parse(p, st, toks); err != nil {
		return err
	}
	if w.run != nil || w.until != nil {
		p.add(st, toks)
	}
	return nil
}

func (p *parser) add(st *stmt, toks []token) {
	st.line = p.line
	st.text = text(p.src, toks)
	p.s.stmts = append(p.s.stmts, st)
}

// keyValue splits KEY=VALUE.
func (p *parser) keyValue(t token, stmtName string) (string, string, error) {
	if t.quoted {
		return "", "", p.errTok(t, "%s: expected KEY=VALUE, found a string", stmtName)
	}
	k, v, ok := strings.Cut(t.text, "=")
	if !ok || k == "" {
		return "", "", p.errTok(t, "%s: expected KEY=VALUE, found %q", stmtName, t.text)
	}
	if v == "" {
		return "", "", p.errTok(t, "%s: a value is required", k)
	}
	return k, v, nil
}

// pairs reads the KEY=VALUE tokens of a statement, rejecting a key given twice.
func (p *parser) pairs(toks []token, stmtName string) ([]string, []string, error) {
	var keys, vals []string
	for _, t := range toks {
		k, v, err := p.keyValue(t, stmtName)
		if err != nil {
			return nil, nil, err
		}
		if slices.Contains(keys, k) {
			return nil, nil, p.errTok(t, "%s: given twice", k)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, nil
}

// configErr turns a config error into an *Error at the key or at its value.
func (p *parser) configErr(err error, t token, key string) error {
	var ce *config.Error
	if errors.As(err, &ce) && (strings.HasPrefix(ce.Problem, "unknown") || ce.Key != key) {
		return p.errTok(t, "%s", err.Error())
	}
	return p.errAt(valueCol(t, key), "%s", err.Error())
}

func (p *parser) count(t token, key, v string, min, max int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, p.errAt(valueCol(t, key), "%s: %q is not a whole number", key, v)
	}
	if n < min {
		return 0, p.errAt(valueCol(t, key), "%s: %d is below the minimum %d", key, n, min)
	}
	if n > max {
		return 0, p.errAt(valueCol(t, key), "%s: %d is above the maximum %d", key, n, max)
	}
	return n, nil
}

func (p *parser) cluster(toks []token) error {
	if p.clusterLine != 0 {
		return p.errTok(toks[0], "cluster: given twice (first on line %d)", p.clusterLine)
	}
	p.clusterLine = p.line
	keys, vals, err := p.pairs(toks[1:], "cluster")
	if err != nil {
		return err
	}
	for i, k := range keys {
		t := toks[i+1]
		switch k {
		case "brokers":
			if p.s.brokers, err = p.count(t, k, vals[i], 1, maxBrokers); err != nil {
				return err
			}
			p.brokersTok = t
		case "controllers":
			if p.s.controllers, err = p.count(t, k, vals[i], 1, maxControllers); err != nil {
				return err
			}
			p.s.zk.controllersTok = t
		case "zookeeper":
			if err := p.zkCluster(t, k, vals[i]); err != nil {
				return err
			}
		default:
			if err := p.notModelled(inCluster, k, t); err != nil {
				return err
			}
			return p.errTok(t, "%s: unknown cluster key (known: brokers, controllers, zookeeper)", k)
		}
	}
	if err := p.zkClusterCheck(); err != nil {
		return err
	}
	if p.s.brokers == 0 {
		return p.errTok(toks[0], "cluster: brokers=N is required")
	}
	return nil
}

// parseDuration reads 250ms, 5s, 2m (a unit is required, as time.ParseDuration has it; 0 is allowed).
func parseDuration(v string) (time.Duration, bool) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

func (p *parser) durationValue(t token, key, v string) (time.Duration, error) {
	d, ok := parseDuration(v)
	if !ok {
		return 0, p.errAt(valueCol(t, key), "%s: %q is not a duration (use 250ms, 5s, 2m)", key, v)
	}
	return d, nil
}

func (p *parser) duration(t token, what string) (time.Duration, error) {
	d, ok := parseDuration(t.text)
	if t.quoted || !ok {
		return 0, p.errTok(t, "%s: %q is not a duration (use 250ms, 5s, 2m)", what, t.text)
	}
	return d, nil
}

func (p *parser) config(toks []token) error {
	if len(toks) == 1 {
		return p.errTok(toks[0], "config: expected KEY=VALUE ...")
	}
	if p.firstConfig.line == 0 {
		p.firstConfig = errPos{p.line, toks[0].col}
	}
	keys, vals, err := p.pairs(toks[1:], "config")
	if err != nil {
		return err
	}
	for i, k := range keys {
		t, v := toks[i+1], vals[i]
		switch k {
		case "network.latency":
			lo, hi, ok := strings.Cut(v, "..")
			if !ok {
				hi = lo
			}
			a, okA := parseDuration(lo)
			b, okB := parseDuration(hi)
			if !okA || !okB || b < a {
				return p.errAt(valueCol(t, k), "%s: %q is not a latency range (use 1ms..5ms)", k, v)
			}
			p.s.latMin, p.s.latMax, p.s.latSet = a, b, true
		case "seed":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return p.errAt(valueCol(t, k), "seed: %q is not a seed (use a whole number from 1)", v)
			}
			p.s.Seed = n
		case "finish.timeout":
			if p.s.finishTimeout, err = p.durationValue(t, k, v); err != nil {
				return err
			}
			p.s.finishSet = true
			if p.s.finishTimeout > MaxVirtualTime {
				return p.errAt(valueCol(t, k), "%s: %v is above the maximum %v", k, p.s.finishTimeout, MaxVirtualTime)
			}
		case "memory.limit":
			if err := p.s.memory.Set(v); err != nil {
				return p.errAt(valueCol(t, k), "%s: %v", k, err)
			}
		case "os.flush.interval":
			if p.s.osFlush, err = p.durationValue(t, k, v); err != nil {
				return err
			}
			p.s.osFlushSet = true
		case "zookeeper.session.timeout.ms":
			if err := p.zkSessionTimeout(t, k, v); err != nil {
				return err
			}
		case metadataModeKey:
			if err := p.zkFileMode(t, k, v); err != nil {
				return err
			}
		default:
			if err := p.notModelled(inConfig, k, t); err != nil {
				return err
			}
			if err := p.s.broker.Set(k, v); err != nil {
				return p.configErr(err, t, k)
			}
			p.cfgPos[k] = errPos{p.line, t.col}
			p.zkNoteKey(k, v, t)
		}
	}
	return nil
}

func (p *parser) protocol(toks []token) error {
	if len(toks) == 1 {
		return p.errTok(toks[0], "protocol: expected KEY=VALUE ..., e.g. protocol truncation=high-watermark")
	}
	keys, vals, err := p.pairs(toks[1:], "protocol")
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := p.s.broker.SetProtocol(k, vals[i]); err != nil {
			return p.configErr(err, toks[i+1], k)
		}
		p.zkNoteKey(k, vals[i], toks[i+1])
	}
	return nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (p *parser) topic(toks []token) error {
	if len(toks) < 2 || strings.Contains(toks[1].text, "=") {
		return p.errTok(toks[0], "topic: expected topic NAME partitions=P replication=R ...")
	}
	nt := toks[1]
	if nt.quoted || !nameRE.MatchString(nt.text) || len(nt.text) > 249 || nt.text == "." || nt.text == ".." {
		return p.errTok(nt, "topic: %q is not a topic name (letters, digits, '.', '_', '-')", nt.text)
	}
	for _, t := range p.s.topics {
		if t.name == nt.text {
			return p.errTok(nt, "topic %s: already defined on line %d", nt.text, t.line)
		}
	}
	td := &topicDef{line: p.line, name: nt.text, configs: map[string]string{}, replTok: nt}
	keys, vals, err := p.pairs(toks[2:], "topic")
	if err != nil {
		return err
	}
	var replicasTok token
	probe := config.DefaultTopic()
	for i, k := range keys {
		t, v := toks[i+2], vals[i]
		switch k {
		case "partitions":
			if td.partitions, err = p.count(t, k, v, 1, maxPartitions); err != nil {
				return err
			}
		case "replication":
			if td.repl, err = p.count(t, k, v, 1, maxBrokers); err != nil {
				return err
			}
			td.replTok = t
		case "replicas":
			replicasTok = t
			for pi, part := range strings.Split(v, ";") {
				var rs []int32
				for _, r := range strings.Split(part, ",") {
					n, err := strconv.Atoi(r)
					if err != nil || n < 1 || n > maxBrokers {
						return p.errAt(valueCol(t, k), "replicas: %q is not a broker number (partition %d in %q; ';' between partitions, ',' between brokers)", r, pi, v)
					}
					if slices.Contains(rs, int32(n)) {
						return p.errAt(valueCol(t, k), "replicas: partition %d names broker %d twice", pi, n)
					}
					rs = append(rs, int32(n))
				}
				td.assignment = append(td.assignment, rs)
			}
		default:
			if err := p.notModelled(inTopic, k, t); err != nil {
				return err
			}
			if err := probe.Set(k, v); err != nil {
				return p.configErr(err, t, k)
			}
			td.configs[k] = v
		}
	}
	if td.assignment != nil {
		if td.partitions == 0 {
			td.partitions = len(td.assignment)
		}
		if len(td.assignment) != td.partitions {
			return p.errAt(valueCol(replicasTok, "replicas"), "replicas: %d assignments for %d partitions", len(td.assignment), td.partitions)
		}
		if td.repl == 0 {
			td.repl = len(td.assignment[0])
			td.replTok = replicasTok
		}
		for i, rs := range td.assignment {
			if len(rs) != td.repl {
				return p.errAt(valueCol(replicasTok, "replicas"), "replicas: partition %d has %d replicas, replication is %d", i, len(rs), td.repl)
			}
		}
	}
	if td.partitions == 0 {
		return p.errTok(toks[0], "topic %s: partitions=P is required", td.name)
	}
	if td.repl == 0 {
		return p.errTok(toks[0], "topic %s: replication=R is required", td.name)
	}
	td.replicasTok = replicasTok
	p.s.topics = append(p.s.topics, td)
	return nil
}

// clientName checks a producer's or consumer's name.
func (p *parser) clientName(toks []token, what string) (token, error) {
	if len(toks) < 2 || strings.Contains(toks[1].text, "=") {
		return token{}, p.errTok(toks[0], "%s: expected %s NAME topic=T ...", what, what)
	}
	nt := toks[1]
	switch {
	case nt.quoted || !nameRE.MatchString(nt.text):
		return nt, p.errTok(nt, "%s: %q is not a client name (letters, digits, '.', '_', '-')", what, nt.text)
	case isNumber(nt.text):
		return nt, p.errTok(nt, "%s %s: a client name cannot be a number (brokers are numbered)", what, nt.text)
	case nt.text == "leader" || nt.text == "controller" || nt.text == "none" || nt.text == "admin":
		return nt, p.errTok(nt, "%s %s: the name is a word of the language", what, nt.text)
	}
	for _, pd := range p.s.producers {
		if pd.name == nt.text {
			return nt, p.errTok(nt, "%s %s: the name is taken (producer on line %d)", what, nt.text, pd.line)
		}
	}
	for _, cd := range p.s.consumers {
		if cd.name == nt.text {
			return nt, p.errTok(nt, "%s %s: the name is taken (consumer on line %d)", what, nt.text, cd.line)
		}
	}
	return nt, nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (p *parser) producer(toks []token) error {
	nt, err := p.clientName(toks, "producer")
	if err != nil {
		return err
	}
	pd := &producerDef{line: p.line, name: nt.text, cfg: config.DefaultProducer(), nameTok: nt}
	keys, vals, err := p.pairs(toks[2:], "producer")
	if err != nil {
		return err
	}
	pos := map[string]token{}
	fleet := 0
	for i, k := range keys {
		t, v := toks[i+2], vals[i]
		pos[k] = t
		switch k {
		case "count":
			if fleet, err = p.fleetCount(t, v); err != nil {
				return err
			}
		case "topic":
			pd.topic, pd.topicT = v, t
		case "rate":
			num, ok := strings.CutSuffix(v, "/s")
			r, err := strconv.ParseFloat(num, 64)
			if !ok || err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) || r > 1e6 {
				return p.errAt(valueCol(t, k), "rate: %q is not a rate (use 200/s, at most 1000000/s)", v)
			}
			pd.rate = r
		case "keys":
			if pd.keys, err = p.count(t, k, v, 0, 1_000_000); err != nil {
				return err
			}
		case "tombstones":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
				return p.errAt(valueCol(t, k), "tombstones: %q is not a fraction between 0 and 1", v)
			}
			pd.tombstones = f
		default:
			if ok, err := p.producerWord(pd, t, k, v); ok || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			if err := p.notModelled(inProducer, k, t); err != nil {
				return err
			}
			if err := pd.cfg.Set(k, v); err != nil {
				return p.configErr(err, t, k)
			}
		}
	}
	if pd.topic == "" {
		return p.errTok(toks[0], "producer %s: topic=T is required", pd.name)
	}
	if t, ok := pos["tombstones"]; ok && pd.tombstones > 0 && pd.keys == 0 {
		// Kafka refuses a null key on a compacted topic (LogValidator: "Compacted topic cannot
		// accept message without key"), and a tombstone deletes a key.
		return p.errTok(t, "producer %s: tombstones= needs keys=K (a tombstone deletes a key)", pd.name)
	}
	if err := p.checkProducerWords(pd, pos); err != nil {
		return err
	}
	if err := pd.cfg.Finish(); err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			if t, ok := pos[ce.Key]; ok {
				return p.errTok(t, "%s", err.Error())
			}
		}
		return p.errTok(nt, "producer %s: %v", pd.name, err)
	}
	if t, ok := pos["count"]; ok && pd.cfg.TransactionalID != "" {
		return p.errTok(t, "producer %s: count= with transactional.id would start %d producers with one transactional.id, each fencing the others", pd.name, fleet)
	}
	return p.addProducers(pd, nt, fleet, pos) // producerwords.go
}

func (p *parser) consumer(toks []token) error {
	nt, err := p.clientName(toks, "consumer")
	if err != nil {
		return err
	}
	cd := &consumerDef{line: p.line, name: nt.text, cfg: config.DefaultConsumer()}
	cd.cfg.AutoOffsetReset = "earliest" // a scenario's consumer sees everything
	keys, vals, err := p.pairs(toks[2:], "consumer")
	if err != nil {
		return err
	}
	fleet := 0
	for i, k := range keys {
		t, v := toks[i+2], vals[i]
		switch k {
		case "count":
			if fleet, err = p.fleetCount(t, v); err != nil {
				return err
			}
		case "topic":
			// SCENARIO_LANGUAGE's topic=T[,T2...]: KafkaConsumer.subscribe(Collection<String>).
			names := strings.Split(v, ",")
			for k, n := range names {
				if n == "" {
					return p.errTok(t, "topic=%s: an empty topic name (expected topic=T or topic=T1,T2)", v)
				}
				if slices.Contains(names[:k], n) {
					return p.errTok(t, "topic=%s: topic %s is named twice", v, n)
				}
			}
			cd.topic, cd.topicT = names[0], t
			if len(names) > 1 {
				cd.topics = names
			}
		default:
			if err := p.notModelled(inConsumer, k, t); err != nil {
				return err
			}
			if err := cd.cfg.Set(k, v); err != nil {
				return p.configErr(err, t, k)
			}
		}
	}
	if cd.topic == "" {
		return p.errTok(toks[0], "consumer %s: topic=T is required", cd.name)
	}
	if err := cd.cfg.Finish(); err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for i, k := range keys {
				if k == ce.Key {
					return p.errTok(toks[i+2], "%s", err.Error())
				}
			}
		}
		return p.errTok(nt, "consumer %s: %v", cd.name, err)
	}
	if fleet > 0 && cd.cfg.GroupInstanceID != "" {
		return p.errTok(nt, "consumer %s: count= with group.instance.id would start %d members with one static id", cd.name, fleet)
	}
	names := fleetNames(cd.name, fleet)
	if err := p.checkFleetNames(nt, names); err != nil {
		return err
	}
	for _, name := range names {
		m := *cd
		m.name = name
		p.s.consumers = append(p.s.consumers, &m)
	}
	return nil
}

// finish reads finish recover=… timeout=…; it may stand anywhere.
func (p *parser) finish(toks []token) error {
	keys, vals, err := p.pairs(toks[1:], "finish")
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return p.errTok(toks[0], "finish: expected recover=true|false or timeout=D")
	}
	for i, k := range keys {
		t, v := toks[i+1], vals[i]
		switch k {
		case "recover":
			b, err := config.ParseBool(k, v)
			if err != nil {
				return p.errAt(valueCol(t, k), "%v", err)
			}
			p.s.recover = b
		case "timeout":
			if p.s.finishTimeout, err = p.durationValue(t, k, v); err != nil {
				return err
			}
			p.s.finishSet = true
			if p.s.finishTimeout > MaxVirtualTime {
				return p.errAt(valueCol(t, k), "%s: %v is above the maximum %v", k, p.s.finishTimeout, MaxVirtualTime)
			}
		default:
			return p.errTok(t, "%s: unknown finish key (known: recover, timeout)", k)
		}
	}
	return nil
}

// closeSetup checks the set-up as a whole once it is complete: the broker configuration, the
// topics against the broker count, the clients against the topics.
func (p *parser) closeSetup() error {
	p.setupClosed = true
	s := p.s
	p.applyMetadataMode()
	if s.brokers == 0 {
		s.brokers = 3
	}
	if s.controllers == 0 && s.zk.servers == 0 {
		s.controllers = 3
	}
	if err := p.zkCloseSetup(); err != nil {
		return err
	}
	if err := s.broker.Validate(); err != nil {
		at := p.firstConfig
		var ce *config.Error
		if errors.As(err, &ce) {
			if pos, ok := p.cfgPos[ce.Key]; ok {
				at = pos
			}
		}
		if at.line == 0 {
			at = errPos{1, 1}
		}
		return p.errPos(at, "%v", err)
	}
	for _, td := range s.topics {
		at := errPos{td.line, td.replTok.col}
		for i, rs := range td.assignment {
			for _, r := range rs {
				if int(r) > s.brokers {
					return p.errPos(errPos{td.line, valueCol(td.replicasTok, "replicas")}, "replicas: partition %d names broker %d, which does not exist (brokers are 1..%d)", i, r, s.brokers)
				}
			}
		}
		if td.repl > s.brokers {
			return p.errPos(at, "replication: %d is above the broker count %d", td.repl, s.brokers)
		}
		// min.insync.replicas may exceed the replication factor: Kafka uses the smaller of the
		// two (Partition.effectiveMinIsr, KAFKA-15583).
		if _, err := config.TopicFrom(s.broker.Topic, td.configs); err != nil { // checked key by key already
			return p.errPos(errPos{td.line, 1}, "topic %s: %v", td.name, err)
		}
	}
	for _, pd := range s.producers {
		if s.topic(pd.topic) == nil {
			return p.errPos(errPos{pd.line, valueCol(pd.topicT, "topic")}, "topic=%s: unknown topic", pd.topic)
		}
	}
	for _, cd := range s.consumers {
		col := 0
		for _, t := range cd.topicList() {
			if s.topic(t) == nil {
				key := "topic"
				if cd.proc != nil {
					key = "from"
				}
				return p.errPos(errPos{cd.line, valueCol(cd.topicT, key) + col}, "%s=%s: unknown topic", key, t)
			}
			col += utf8Len(t) + 1
		}
		if err := p.checkProcessor(cd); err != nil {
			return err
		}
	}
	return nil
}

func (s *Scenario) topic(name string) *topicDef {
	for _, t := range s.topics {
		if t.name == name {
			return t
		}
	}
	return nil
}

func (s *Scenario) producer(name string) *producerDef {
	for _, pd := range s.producers {
		if pd.name == name {
			return pd
		}
	}
	return nil
}

// topicList lists the topics the consumer reads.
func (cd *consumerDef) topicList() []string {
	if len(cd.topics) > 0 {
		return cd.topics
	}
	return []string{cd.topic}
}

func (s *Scenario) consumer(name string) *consumerDef {
	for _, cd := range s.consumers {
		if cd.name == name {
			return cd
		}
	}
	return nil
}

// colAt is the column of toks[i], or just past the last token.
func colAt(toks []token, i int) int {
	if i < len(toks) {
		return toks[i].col
	}
	t := toks[len(toks)-1]
	return t.col + utf8Len(t.text)
}

// nodeKind says how a node reference is resolved.
type nodeKind uint8

const (
	nodeFixed       nodeKind = iota // a broker, controller or client id known statically
	nodeLeader                      // leader TOPIC/INDEX, at the instant the statement runs
	nodeController                  // the active controller, at that instant
	nodeCoordinator                 // coordinator G (topic holds the group), at that instant
)

// nodeRef is a node named by a statement.
type nodeRef struct {
	kind  nodeKind
	id    int32  // nodeFixed: broker id or controller id
	name  string // a client's name (nodeFixed with id 0), or how the node was written
	topic string
	part  int32
}

var controllerName = regexp.MustCompile(`^c([0-9]+)$`)

var zooKeeperName = regexp.MustCompile(`^z[0-9]+$`)

// node reads a node reference at toks[i]: a broker number, cK, a client name, `leader T/I` or
// `controller`. It returns the index after it.
func (p *parser) node(toks []token, i int, verb token) (nodeRef, int, error) {
	if i >= len(toks) {
		return nodeRef{}, i, p.errAt(colAt(toks, i), "%s: a node is required (a broker 1..%d, a controller c1..c%d, a client, leader TOPIC/INDEX or controller)", verb.text, p.s.brokers, p.s.controllers)
	}
	t := toks[i]
	if t.quoted || t.text == "|" || t.text == "->" || t.text == "{" || t.text == "}" {
		return nodeRef{}, i, p.errTok(t, "%s: expected a node, found %q", verb.text, t.text)
	}
	switch t.text {
	case "leader":
		if i+1 >= len(toks) {
			return nodeRef{}, i, p.errAt(colAt(toks, i+1), "leader: expected TOPIC/INDEX, e.g. leader orders/0")
		}
		topic, part, err := p.partitionRef(toks[i+1])
		if err != nil {
			return nodeRef{}, i, err
		}
		return nodeRef{kind: nodeLeader, topic: topic, part: part, name: "leader " + toks[i+1].text}, i + 2, nil
	case "controller":
		return nodeRef{kind: nodeController, name: "controller"}, i + 1, nil
	case "coordinator":
		if i+1 >= len(toks) || !p.s.hasGroup(toks[i+1].text) {
			return nodeRef{}, i, p.errAt(colAt(toks, i+1), "coordinator: expected a group a consumer joins, e.g. coordinator g1")
		}
		return nodeRef{kind: nodeCoordinator, name: "coordinator " + toks[i+1].text, topic: toks[i+1].text}, i + 2, nil
	}
	if err := p.notModelled(inNode, t.text, t); err != nil {
		return nodeRef{}, i, err
	}
	id, err := p.fixedNode(t)
	if err != nil {
		return nodeRef{}, i, err
	}
	return id, i + 1, nil
}

// fixedNode resolves a broker number, cK or a client name.
func (p *parser) fixedNode(t token) (nodeRef, error) {
	if isNumber(t.text) {
		n, err := strconv.Atoi(t.text)
		if err != nil || n < 1 || (n > p.s.brokers && !slices.Contains(p.added, int32(n))) {
			return nodeRef{}, p.errTok(t, "broker %s does not exist (brokers are 1..%d%s)", t.text, p.s.brokers, p.addedList())
		}
		return nodeRef{id: int32(n), name: t.text}, nil
	}
	isClient := p.s.producer(t.text) != nil || p.s.consumer(t.text) != nil
	if m := controllerName.FindStringSubmatch(t.text); m != nil {
		k, err := strconv.Atoi(m[1])
		isController := err == nil && k >= 1 && k <= p.s.controllers
		switch {
		case p.s.zk.servers > 0 && !isClient:
			return nodeRef{}, p.zkNoController(t)
		case isController && isClient:
			return nodeRef{}, p.errTok(t, "%s is ambiguous: both controller %s and a client of that name (rename the client)", t.text, t.text)
		case isController:
			return nodeRef{id: node.ControllerID(k), name: t.text}, nil
		case !isClient:
			return nodeRef{}, p.errTok(t, "controller %s does not exist (controllers are c1..c%d)", t.text, p.s.controllers)
		}
	}
	if zooKeeperName.MatchString(t.text) && (p.s.zk.servers > 0 || !isClient) {
		return p.zkNode(t, isClient)
	}
	if isClient {
		return nodeRef{name: t.text}, nil
	}
	return nodeRef{}, p.errTok(t, "unknown node %q (brokers are 1..%d, controllers c1..c%d%s)", t.text, p.s.brokers, p.s.controllers, p.clientList())
}

func (p *parser) clientList() string {
	var names []string
	for _, pd := range p.s.producers {
		names = append(names, pd.name)
	}
	for _, cd := range p.s.consumers {
		names = append(names, cd.name)
	}
	if len(names) == 0 {
		return ""
	}
	return ", clients " + strings.Join(names, ", ")
}

// partitionRef reads TOPIC/INDEX.
func (p *parser) partitionRef(t token) (string, int32, error) {
	slash := strings.LastIndexByte(t.text, '/')
	if t.quoted || slash < 0 {
		return "", 0, p.errTok(t, "expected TOPIC/INDEX, e.g. orders/0, found %q", t.text)
	}
	topic, idx := t.text[:slash], t.text[slash+1:]
	td := p.s.topic(topic)
	if td == nil {
		return "", 0, p.errTok(t, "unknown topic %q", topic)
	}
	n, err := strconv.Atoi(idx)
	col := t.col + utf8Len(topic) + 1
	if err != nil || !isNumber(idx) {
		return "", 0, p.errAt(col, "%q is not a partition index", idx)
	}
	if count := max(td.partitions, td.grown); n >= count {
		return "", 0, p.errAt(col, "%s has no partition %d (partitions are 0..%d)", topic, n, count-1)
	}
	return topic, int32(n), nil
}
