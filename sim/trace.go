package sim

import (
	"bufio"
	"io"
	"reflect"
	"strconv"
	"time"
	"unsafe"
)

// EventKind says what a trace event records.
type EventKind uint8

// Event kinds.
const (
	// Deliver: a message from Peer reached Node (Type = message type, Arg = its TraceArg).
	Deliver EventKind = iota + 1
	// Drop: a message from Peer to Node was lost (Type = message type, Arg = a Drop… reason).
	Drop
	// Timer: a timer of Node fired (Type = payload type, Arg = its TraceArg).
	Timer
	// Inject: an external input reached Node (Peer = 0, Type = message type, Arg = TraceArg).
	Inject
	// Observe: Node reported something (Type = the value's type, Arg = its TraceArg).
	Observe
	// Fault: a fault verb was applied to Node (Peer = the other end where there is one).
	// Arg packs the verb and its parameter: read it with Event.Fault (faults.go).
	Fault
	// Halt: Node's process ended on its own (Arg = a Halt… code).
	Halt
	// Start: Node was built by its factory (Arg = how many times it has started, from 1).
	Start
	// Writeback: the OS flushed every disk's page cache (Node = 0).
	Writeback
)

var kindNames = [...]string{"?", "deliver", "drop", "timer", "inject", "observe", "fault", "halt", "start", "writeback"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Drop reasons (Event.Arg of a Drop).
const (
	DropPartitioned int64 = 1 // a partition or isolation separates the two nodes
	DropLost        int64 = 2 // the link's loss probability hit
	DropDown        int64 = 3 // the receiver is not running, restarted since the send, or unknown
	DropCut         int64 = 4 // a one-way cut from the sender to the receiver
)

// DropReason names a Drop reason.
func DropReason(arg int64) string {
	switch arg {
	case DropPartitioned:
		return "partitioned"
	case DropLost:
		return "lost"
	case DropDown:
		return "down"
	case DropCut:
		return "cut"
	}
	return "?"
}

// Halt codes (Event.Arg of a Halt).
const (
	HaltExited  int64 = 0 // the process exited on its own while running: no flush
	HaltStopped int64 = 1 // a graceful stop completed: the disk was flushed
	HaltForced  int64 = 2 // StopTimeout passed during a graceful stop: flushed and stopped
)

// Event is one trace record, 32 bytes.
type Event struct {
	Time time.Duration
	Kind EventKind
	Node int32  // the node the event happened at (receiver of a message)
	Peer int32  // the other node (sender of a message), 0 if none or external
	Type uint16 // message / payload / observed value type code, see Trace.TypeName
	Arg  int64
}

// TraceAser is implemented by values traced under another type's code and name: a compact
// form of a value reports the type it stands for (history.Sends traces as history.Ops), so
// that the trace does not depend on the form.
type TraceAser interface{ TraceAs() any }

// TraceArger is implemented by messages that want a number recorded in their trace events
// (an offset, an epoch, a sequence).
type TraceArger interface{ TraceArg() int64 }

const chunkBits = 12
const chunkSize = 1 << chunkBits

// Trace is the record of every event plus a running hash over all of them. With
// Options.DiscardTrace only the hash, the count and the type names are kept.
type Trace struct {
	discard bool
	n       int
	hash    uint64
	chunks  [][]Event
	lines   *bufio.Writer // Options.TraceLines, buffered
	line    []byte        // the line being written, reused

	types map[reflect.Type]uint16
	names []string // names[code]
	// cache maps a value's dynamic type (the type word of its interface) to its code, in
	// front of types: one comparison instead of hashing a reflect.Type per event. It is a hash
	// table open by linear probing, at most three quarters full (the types past that go to
	// types alone), so that no two busy types evict each other, wherever the linker put them.
	cache  [typeCacheSize]typeCode
	cached int
}

const (
	typeCacheBits = 8
	typeCacheSize = 1 << typeCacheBits
)

// typeHash is where type word w's probing starts in the cache.
func typeHash(w unsafe.Pointer) int {
	return int(uint64(uintptr(w)) * 0x9e3779b97f4a7c15 >> (64 - typeCacheBits))
}

type typeCode struct {
	typ   unsafe.Pointer
	code  uint16
	arger bool // the type is a TraceArger
}

// typeWord is the dynamic type word of v: the same pointer for every value of one type.
func typeWord(v any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0] }

func newTrace(discard bool, lines io.Writer) *Trace {
	t := &Trace{
		discard: discard,
		hash:    14695981039346656037,
		types:   make(map[reflect.Type]uint16),
		names:   []string{""},
	}
	if lines != nil {
		t.lines = bufio.NewWriterSize(lines, 64<<10)
	}
	return t
}

// FlushLines writes out the lines buffered for Options.TraceLines, and returns the first
// error writing them met.
func (t *Trace) FlushLines() error {
	if t.lines == nil {
		return nil
	}
	return t.lines.Flush()
}

// Hash is the running hash over every event's fields (FNV-1a style over 64-bit words, with an
// xor-shift fold per event). Two runs with the same hash took the same course.
func (t *Trace) Hash() uint64 { return t.hash }

// Len is the number of events recorded (also when their bodies were discarded).
func (t *Trace) Len() int { return t.n }

// Kept reports whether the event bodies are stored (false with Options.DiscardTrace).
func (t *Trace) Kept() bool { return !t.discard }

// At returns event i (0-based). It returns the zero Event if i is out of range or the trace
// discards bodies.
func (t *Trace) At(i int) Event {
	if t.discard || i < 0 || i >= t.n {
		return Event{}
	}
	return t.chunks[i>>chunkBits][i&(chunkSize-1)]
}

// TypeName is the Go type name of a type code ("" for 0 or an unknown code).
func (t *Trace) TypeName(code uint16) string {
	if int(code) < len(t.names) {
		return t.names[code]
	}
	return ""
}

// Describe renders an event for people (debugging, logs); not for hot paths.
func (t *Trace) Describe(e Event) string { return string(t.AppendDescription(nil, &e)) }

// AppendDescription appends Describe's text for e to b: a trace file's line, written for
// every event without a string per field.
func (t *Trace) AppendDescription(b []byte, e *Event) []byte {
	b = append(b, e.Time.String()...)
	b = append(b, ' ')
	b = append(b, e.Kind.String()...)
	b = append(b, " node="...)
	b = strconv.AppendInt(b, int64(e.Node), 10)
	switch e.Kind {
	case Deliver, Drop, Inject:
		b = append(b, " from="...)
		b = strconv.AppendInt(b, int64(e.Peer), 10)
		b = append(b, ' ')
		b = append(b, t.TypeName(e.Type)...)
		if e.Kind == Drop {
			b = append(b, ' ')
			b = append(b, DropReason(e.Arg)...)
		} else if e.Arg != 0 {
			b = append(b, " arg="...)
			b = strconv.AppendInt(b, e.Arg, 10)
		}
	case Timer, Observe:
		b = append(b, ' ')
		b = append(b, t.TypeName(e.Type)...)
		if e.Arg != 0 {
			b = append(b, " arg="...)
			b = strconv.AppendInt(b, e.Arg, 10)
		}
	case Fault:
		code, p := unpackFault(e.Arg)
		name := "?"
		if k := FaultKindOf(code); k != nil {
			name = k.Name
		}
		b = append(b, ' ')
		b = append(b, name...)
		if e.Peer != 0 {
			b = append(b, " peer="...)
			b = strconv.AppendInt(b, int64(e.Peer), 10)
		}
		if p != 0 {
			b = append(b, " param="...)
			b = strconv.AppendInt(b, int64(p), 10)
		}
	case Halt, Start:
		b = append(b, " arg="...)
		b = strconv.AppendInt(b, e.Arg, 10)
	}
	return b
}

// code returns the type code of v (0 for nil), assigning codes in order of first appearance.
func (t *Trace) code(v any) uint16 {
	if v == nil {
		return 0
	}
	w := typeWord(v)
	if slot := t.slot(w); slot != nil && slot.typ == w {
		return slot.code
	}
	rt := reflect.TypeOf(v)
	c, ok := t.types[rt]
	if !ok {
		if a, as := v.(TraceAser); as {
			c = t.code(a.TraceAs())
			t.types[rt] = c
		} else if len(t.names) >= 1<<16 {
			c = 0xffff // absurdly many types: share the last code rather than fail
		} else {
			c = uint16(len(t.names))
			t.types[rt] = c
			t.names = append(t.names, rt.String())
		}
	}
	if slot := t.slot(w); slot != nil && slot.typ == nil && t.cached < typeCacheSize*3/4 {
		_, arger := v.(TraceArger)
		slot.typ, slot.code, slot.arger = w, c, arger
		t.cached++
	}
	return c
}

// slot is the cache's entry for type word w, or the empty one it would take; nil when neither
// is there (the cache is full).
func (t *Trace) slot(w unsafe.Pointer) *typeCode {
	i := typeHash(w)
	for range typeCacheSize {
		s := &t.cache[i]
		if s.typ == w || s.typ == nil {
			return s
		}
		i = (i + 1) % typeCacheSize
	}
	return nil
}

// codeArg returns code(v) and v's TraceArg (0 if it has none), asking v only if its type is a
// TraceArger: the cache remembers which types are.
func (t *Trace) codeArg(v any) (uint16, int64) {
	if v == nil {
		return 0, 0
	}
	w := typeWord(v)
	slot := &t.cache[typeHash(w)]
	if slot.typ != w {
		slot = t.slot(w)
	}
	if slot == nil || slot.typ != w {
		if t.code(v); slot == nil || slot.typ != w { // not cached: the cache is full
			_, arger := v.(TraceArger)
			return t.code(v), argOf(v, arger)
		}
	}
	return slot.code, argOf(v, slot.arger)
}

func argOf(v any, arger bool) int64 {
	if !arger {
		return 0
	}
	return v.(TraceArger).TraceArg()
}

const fnvPrime = 1099511628211

func (t *Trace) add(e *Event) {
	h := t.hash
	h = (h ^ uint64(e.Time)) * fnvPrime
	h = (h ^ (uint64(e.Kind) | uint64(e.Type)<<8 | uint64(uint32(e.Node))<<32)) * fnvPrime
	h = (h ^ uint64(uint32(e.Peer))) * fnvPrime
	h = (h ^ uint64(e.Arg)) * fnvPrime
	t.hash = h ^ (h >> 32)
	if t.lines != nil {
		t.line = append(t.AppendDescription(t.line[:0], e), '\n')
		t.lines.Write(t.line)
	}
	if !t.discard {
		ci := t.n >> chunkBits
		if ci == len(t.chunks) {
			t.chunks = append(t.chunks, make([]Event, chunkSize))
		}
		t.chunks[ci][t.n&(chunkSize-1)] = *e
	}
	t.n++
}
