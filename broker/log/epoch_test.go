package log

import (
	"reflect"
	"testing"

	"kafkasim/broker/config"
)

// Reference: KIP-279, PR #5678 (LeaderEpochFileCache.assign): both columns stay strictly
// increasing; a conflicting entry removes the entries it conflicts with.
func TestAssignEpochStartOffset(t *testing.T) {
	tests := []struct {
		name    string
		assigns []EpochEntry
		want    []EpochEntry
	}{
		{"append in order", []EpochEntry{{1, 0}, {2, 5}, {4, 9}}, []EpochEntry{{1, 0}, {2, 5}, {4, 9}}},
		{"same epoch later offset is a no-op", []EpochEntry{{1, 0}, {1, 7}}, []EpochEntry{{1, 0}}},
		{"same epoch earlier offset moves it", []EpochEntry{{1, 0}, {2, 5}, {2, 3}}, []EpochEntry{{1, 0}, {2, 3}}},
		{"larger epoch at the same offset replaces", []EpochEntry{{1, 0}, {2, 5}, {3, 5}}, []EpochEntry{{1, 0}, {3, 5}}},
		{"larger epoch at a smaller offset removes the conflicts", []EpochEntry{{1, 0}, {2, 5}, {3, 8}, {4, 6}}, []EpochEntry{{1, 0}, {2, 5}, {4, 6}}},
		{"smaller epoch removes the larger ones", []EpochEntry{{1, 0}, {3, 5}, {2, 7}}, []EpochEntry{{1, 0}, {2, 7}}},
		{"negative values are ignored", []EpochEntry{{1, 0}, {-1, 5}, {2, -1}}, []EpochEntry{{1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFakeDisk()
			l := openLog(t, d, config.DefaultTopic())
			for _, a := range tt.assigns {
				l.AssignEpochStartOffset(a.Epoch, a.StartOffset)
			}
			if got := l.EpochEntries(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("entries: got %v; want %v", got, tt.want)
			}
			// Every change is written and fsynced.
			var durable []EpochEntry
			for _, e := range d.files[l.epochFile].durable {
				durable = append(durable, e.(EpochEntry))
			}
			if !reflect.DeepEqual(durable, tt.want) {
				t.Fatalf("durable checkpoint: got %v; want %v", durable, tt.want)
			}
		})
	}
}

// Reference: KIP-101, KIP-279 (LeaderEpochFileCache.endOffsetFor,
// PR #5678 for epochs below the earliest).
func TestEndOffsetForEpoch(t *testing.T) {
	tests := []struct {
		name      string
		cache     []EpochEntry
		leo       int64
		asked     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{"KIP-279 example: unknown epoch answers the previous one", []EpochEntry{{1, 0}, {3, 21}}, 30, 2, 1, 21},
		{"latest epoch ends at the LEO", []EpochEntry{{1, 0}, {3, 21}}, 30, 3, 3, 30},
		{"earlier epoch ends where the next starts", []EpochEntry{{1, 0}, {3, 21}}, 30, 1, 1, 21},
		{"below the earliest cached epoch", []EpochEntry{{5, 10}, {6, 20}}, 30, 3, 3, 10},
		{"below the only cached epoch", []EpochEntry{{5, 10}}, 30, 3, 3, 10},
		{"above the latest (never asked in Kafka)", []EpochEntry{{1, 0}, {3, 21}}, 30, 4, -1, -1},
		{"undefined epoch", []EpochEntry{{1, 0}}, 30, -1, -1, -1},
		{"empty cache", nil, 30, 2, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, newFakeDisk(), config.DefaultTopic())
			for _, e := range tt.cache {
				l.AssignEpochStartOffset(e.Epoch, e.StartOffset)
			}
			l.leo = tt.leo // the cache is all that matters here
			e, end := l.EndOffsetForEpoch(tt.asked)
			if e != tt.wantEpoch || end != tt.wantEnd {
				t.Fatalf("EndOffsetForEpoch(%d) with %v: got (%d, %d); want (%d, %d)", tt.asked, tt.cache, e, end, tt.wantEpoch, tt.wantEnd)
			}
		})
	}
}

func TestEpochCacheTruncateFromStart(t *testing.T) {
	tests := []struct {
		start int64
		want  []EpochEntry
	}{
		{0, []EpochEntry{{1, 0}, {2, 5}, {4, 9}}},
		{3, []EpochEntry{{1, 3}, {2, 5}, {4, 9}}},
		{5, []EpochEntry{{2, 5}, {4, 9}}},
		{7, []EpochEntry{{2, 7}, {4, 9}}},
		{12, []EpochEntry{{4, 12}}},
	}
	for _, tt := range tests {
		c := epochCache{entries: []EpochEntry{{1, 0}, {2, 5}, {4, 9}}}
		c.truncateFromStart(tt.start)
		if !reflect.DeepEqual(c.entries, tt.want) {
			t.Errorf("truncateFromStart(%d): got %v; want %v", tt.start, c.entries, tt.want)
		}
	}
}

func TestEpochCacheTruncateFromEnd(t *testing.T) {
	tests := []struct {
		end  int64
		want []EpochEntry
	}{
		{10, []EpochEntry{{1, 0}, {2, 5}, {4, 9}}},
		{9, []EpochEntry{{1, 0}, {2, 5}}},
		{6, []EpochEntry{{1, 0}, {2, 5}}},
		{5, []EpochEntry{{1, 0}}},
		{0, []EpochEntry{}},
	}
	for _, tt := range tests {
		c := epochCache{entries: []EpochEntry{{1, 0}, {2, 5}, {4, 9}}}
		c.truncateFromEnd(tt.end)
		if !reflect.DeepEqual(c.entries, tt.want) {
			t.Errorf("truncateFromEnd(%d): got %v; want %v", tt.end, c.entries, tt.want)
		}
	}
}
