package scenarios

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestShardTakesEveryNthSeedFromItsOffset(t *testing.T) {
	for _, tc := range []struct {
		r    SeedRange
		want []uint64
	}{
		{SeedRange{First: 1, Last: 10, Shard: 0, Count: 1}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{SeedRange{First: 1, Last: 10, Shard: 0, Count: 3}, []uint64{1, 4, 7, 10}},
		{SeedRange{First: 1, Last: 10, Shard: 2, Count: 3}, []uint64{3, 6, 9}},
		{SeedRange{First: 5, Last: 6, Shard: 3, Count: 4}, nil},
		{SeedRange{First: 1<<64 - 3, Last: 1<<64 - 1, Shard: 1, Count: 2}, []uint64{1<<64 - 2}},
	} {
		var got []uint64
		tc.r.Each(func(s uint64) bool { got = append(got, s); return true })
		if !slices.Equal(got, tc.want) || tc.r.Len() != uint64(len(tc.want)) {
			t.Errorf("%+v: got %v (len %d); want %v", tc.r, got, tc.r.Len(), tc.want)
		}
	}
}

// The sweeper hands results on in seed order, file after file, whatever order the worlds
// finish in, and the progress bar ends erased.
func TestSweepHandsResultsOnInOrder(t *testing.T) {
	a, b := LibraryFile("leader-failover"), LibraryFile("acks1-loss")
	var bar bytes.Buffer
	sw := Sweep{Files: []*File{a, b}, Seeds: SeedRange{First: 3, Last: 5}, Parallel: 3, Progress: &bar}
	var got []string
	tot, err := sw.Run(func(r *Result) error {
		got = append(got, r.Scenario+" "+string(rune('0'+r.Seed)))
		return nil
	})
	want := []string{a.Name + " 3", a.Name + " 4", a.Name + " 5", b.Name + " 3", b.Name + " 4", b.Name + " 5"}
	if err != nil || !slices.Equal(got, want) || tot.Runs != 6 || tot.Passed+uint64(len(tot.Failures)) != 6 {
		t.Errorf("got %v, %+v, %v; want %v", got, tot, err, want)
	}
	if s := bar.String(); !strings.Contains(s, "6/6 runs") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("progress %q; want it to reach 6/6 and end erased", s)
	}
}

func TestParseSeedsNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		seeds, shard string
		want         SeedRange
		err          string
	}{
		{"1-1000", "", SeedRange{First: 1, Last: 1000, Count: 1}, ""},
		{"7", "", SeedRange{First: 7, Last: 7, Count: 1}, ""},
		{" 2 - 9 ", "1/4", SeedRange{First: 2, Last: 9, Shard: 1, Count: 4}, ""},
		{"x", "", SeedRange{}, `seeds "x": want A-B`},
		{"1-y", "", SeedRange{}, `seeds "1-y": want A-B`},
		{"0-3", "", SeedRange{}, `seeds "0-3": seeds count from 1`},
		{"9-3", "", SeedRange{}, `seeds "9-3": 3 is below 9`},
		{"1-3", "1", SeedRange{}, `shard "1": want I/N`},
		{"1-3", "3/3", SeedRange{}, `shard "3/3": shard 3 of 3 is not in 0..2`},
		{"1-3", "0/0", SeedRange{}, `shard "0/0": shard 0 of 0 is not in 0..-1`},
	} {
		got, err := ParseSeeds(tc.seeds, tc.shard)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tc.err)) {
			t.Errorf("ParseSeeds(%q, %q) = %+v, %v; want %+v, %q", tc.seeds, tc.shard, got, err, tc.want, tc.err)
		}
	}
}
