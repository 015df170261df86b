package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kafkasim/gateway"
	"kafkasim/scenarios"
)

// listenScript is listenDemo with a script: a pause the user leaves, then a broker killed and
// restarted by the script.
const listenScript = listenDemo + `wait 1s
pause
kill 2
wait 2s
restart 2
`

// tui --listen --record: a real client's records, a statement typed into the UI and a pause
// left by the user are written as serve --record writes a session; kafkasim run --replay of
// the file re-runs it headless to the trace hash the UI's session ended with.
func TestListenUIRecordReplays(t *testing.T) {
	s, err := scenarios.Parse("listen-record.scenario", []byte(listenScript))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "session.jsonl")
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "listen-record.scenario"), []byte(listenScript), 0o644); err != nil {
		t.Fatal(err)
	}
	s.File = filepath.Join(filepath.Dir(path), "listen-record.scenario")
	m, err := New(Options{Scenario: s, Seed: 3, Listen: "127.0.0.1:0", Record: path})
	if err != nil {
		t.Fatal(err)
	}
	m.syncJudge = true
	m.w, m.h = 200, 50
	m.speed = defaultSpeed + 1
	defer m.Close()

	frames(t, m, "the script's pause", func() bool { return m.s.Player().Paused() })
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(m.Listener().AddrList(), ",")...), kgo.ClientID("rec"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(50*time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 20
	done := produceAsync(cl, 0, n)
	m.playing = false // the world stands still at the pause; the client's requests enter it there
	frames(t, m, "the client connected at the pause", func() bool { return m.Listener().Conns() > 0 })
	m.playing = true
	m.s.Continue()
	m.exec("slow 3 latency=20ms")
	var perr error
	acked := false
	frames(t, m, "the records acked and the script done", func() bool {
		select {
		case perr = <-done:
			acked = true
		default:
		}
		return acked && m.s.Player().Done()
	})
	if perr != nil {
		t.Fatalf("a record failed: %v", perr)
	}
	cl.Close()
	m.Close()
	live := m.gw.Recorded
	if live == nil {
		t.Fatal("Close did not end the recording")
	}
	r, err := gateway.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Recorded != live.TraceHash || r.Result.TraceHash != live.TraceHash {
		t.Errorf("trace hashes: the UI's session %016x, recorded %016x, replayed %016x; want one", live.TraceHash, r.Recorded, r.Result.TraceHash)
	}
	if r.Frames == 0 || !r.Result.OK || r.Result.Verdict != "valid" {
		t.Errorf("the replay: %d requests, ok %v, verdict %q; want the client's requests, ok and valid", r.Frames, r.Result.OK, r.Result.Verdict)
	}
	rec, _ := os.ReadFile(path)
	for _, want := range []string{`"continue":true`, `"exec":"slow 3 latency=20ms"`, `"attached":true`} {
		if !strings.Contains(string(rec), want) {
			t.Errorf("the recording has no %s", want)
		}
	}
}

// --record without --listen names the flag.
func TestListenUIRecordNeedsListen(t *testing.T) {
	_, err := New(Options{Seed: 1, Record: filepath.Join(t.TempDir(), "x.jsonl")})
	var fe *gateway.FlagError
	if !errors.As(err, &fe) || fe.Flag != "record" {
		t.Errorf("--record alone: %v; want an error naming --record", err)
	}
}
