package scenarios

import (
	"testing"
)

// The seed's scale claims at full size are library scenarios: seed 1.1's 高并发 (a thousand
// producers and a group of a thousand consumers on six brokers, scale-thousand-clients) and
// 高吞吐 (a topic taking 200,000 records a second, scale-200k-records). The library's tests
// run them; this one holds their size, so that nobody shrinks them to save CI time (large.go
// says how the library's sweeps spare it instead).
func TestScaleScenariosAtFullSize(t *testing.T) {
	for _, c := range []struct {
		name    string
		clients int
	}{{"scale-thousand-clients", 2000}, {"scale-200k-records", 16}} {
		s := Named(c.name)
		if s == nil {
			t.Fatalf("no library scenario %s", c.name)
		}
		if n := len(s.producers) + len(s.consumers); n < c.clients {
			t.Errorf("%s: %d clients; want at least %d", c.name, n, c.clients)
		}
	}
	s := Named("scale-thousand-clients")
	if s.brokers != 6 || len(s.topics) != 1 || s.topics[0].partitions != 1000 {
		t.Errorf("scale-thousand-clients: %d brokers, topics %v; want 6 brokers and one topic of 1,000 partitions", s.brokers, s.topics)
	}
	if Large("scale-thousand-clients") == "" {
		t.Error("scale-thousand-clients is not in large.go: the library's sweeps would run it on every seed")
	}
	var rate float64
	for _, pd := range Named("scale-200k-records").producers {
		rate += pd.rate
	}
	for _, st := range Named("scale-200k-records").stmts {
		if st.word.name == "rate" {
			rate = st.p * float64(max(len(st.clients), 1))
		}
	}
	if rate < 200_000 {
		t.Errorf("scale-200k-records: %v records a second in all; want 200,000", rate)
	}
}
