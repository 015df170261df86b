package checker

import (
	"math/rand/v2"
	"testing"
)

// committedLog answers as the slice of every record it replaces, through appends (runs and
// breaks in values and epochs), drops and resets.
func TestCommittedLogMatchesSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var c committedLog
	var start int64
	var want []recID // the records from start on
	v, ep := int64(100), int32(0)
	for step := range 20000 {
		switch x := r.IntN(100); {
		case x < 85:
			switch r.IntN(10) {
			case 0:
				ep++
			case 1:
				v += int64(r.IntN(5)) - 2
			}
			v++
			c.add(recID{v, ep})
			want = append(want, recID{v, ep})
		case x < 95 && len(want) > 0:
			drop := r.IntN(len(want) + 1)
			start += int64(drop)
			want = want[drop:]
			c.dropBefore(start)
		case x < 97:
			start = int64(r.IntN(50))
			want = nil
			c.reset(start)
		default:
		}
		if c.start != start || c.end != start+int64(len(want)) {
			t.Fatalf("step %d: log covers %d..%d; want %d..%d", step, c.start, c.end, start, start+int64(len(want)))
		}
		if len(want) > 0 {
			off := start + int64(r.IntN(len(want)))
			if got := c.at(off); got != want[off-start] {
				t.Fatalf("step %d: at(%d) = %v; want %v", step, off, got, want[off-start])
			}
		}
	}
	if len(c.runs) > 2000 {
		t.Errorf("%d runs for 20,000 steps of mostly consecutive values", len(c.runs))
	}
}
