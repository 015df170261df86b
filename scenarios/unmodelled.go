package scenarios

// The words of capabilities not built yet. Their names are fixed in the language reference
// before the code exists; until it does, a scenario that uses one is a parse error naming the
// capability, never silently ignored. The capability that arrives deletes its entries here:
// today every word of the reference is built (a consumer of several topics, a value rather than
// a word, is refused where the parser reads topic=).

// place says where in a statement a word stands.
type place uint8

const (
	inStatement   place = iota + 1 // the first word of a statement
	inCondition                    // the first word of a condition
	inNode                         // where a node goes: kill coordinator g1
	inCluster                      // a cluster KEY=
	inConfig                       // a config KEY= (broker-wide)
	inTopic                        // a topic KEY=
	inProducer                     // a producer KEY=
	inConsumer                     // a consumer KEY=
	inCheckerName                  // expect anomaly NAME
)

// unmodelledWord is a word at its place.
type unmodelledWord struct {
	at   place
	word string
}

// unmodelled maps each word of a missing capability to it. Keys the config packages already
// accept (retention.ms, retention.bytes, segment.bytes, segment.ms, linger.ms, batch.size, the
// producer's keys=) are not here: they work.
var unmodelled = map[unmodelledWord]string{}

// notModelled returns the parse error for a word of a missing capability at t, nil if the word
// is not one.
func (p *parser) notModelled(at place, word string, t token) error {
	return p.notModelledAs(at, word, word, t)
}

// notModelledAs is notModelled for a word of a pattern (key) written as shown.
func (p *parser) notModelledAs(at place, key, shown string, t token) error {
	if c, ok := unmodelled[unmodelledWord{at, key}]; ok {
		return p.errTok(t, "%s: %s", shown, c)
	}
	return nil
}
