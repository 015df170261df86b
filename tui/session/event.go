package session

import "time"

// Event is one line of the event log, in plain words, at its virtual time.
type Event struct {
	At   time.Duration
	Kind EventKind
	TP   string // the partition it concerns ("" for none)
	Line int    // the script line for script events
	Text string
}

// EventKind sorts events for glyphs and for stepping.
type EventKind uint8

// Event kinds.
const (
	Caption      EventKind = iota + 1 // a say line
	Script                            // a statement ran, an expectation held, a pause
	Failure                           // an expectation, await or fault failed
	Election                          // a partition got a new leader or went offline
	ISRChange                         // a partition's ISR shrank or expanded
	Proposal                          // a leader asked the controller to change the ISR
	Truncation                        // a replica cut its log
	Fencing                           // a broker registered, was fenced or unfenced
	Fault                             // a fault was injected
	Rebalance                         // a consumer group began a rebalance, lost a member or completed a generation
	GroupNote                         // a member joined, an offset commit, a coordinator loaded or gave up a group
	Marker                            // a transaction coordinator writes COMMIT or ABORT markers, or fences a producer
	Housekeeping                      // retention deleted segments or the log cleaner compacted a log
)

// Marks reports whether `[`, `]` and `N` stop at events of this kind.
func (k EventKind) Marks() bool {
	return k == Election || k == ISRChange || k == Truncation || k == Fault || k == Rebalance
}

// Glyph marks the kind in the log without relying on colour.
func (k EventKind) Glyph() string {
	switch k {
	case Caption:
		return "»"
	case Script:
		return "·"
	case Failure:
		return "✗"
	case Election:
		return "★"
	case ISRChange:
		return "⇄"
	case Proposal:
		return "?"
	case Truncation:
		return "✂"
	case Fencing:
		return "⊘"
	case Fault:
		return "⚡"
	case Rebalance:
		return "⟳"
	case Housekeeping:
		return "⊖"
	case GroupNote:
		return "◦"
	case Marker:
		return "◆"
	}
	return " "
}
