package gateway

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// kcat (librdkafka) against the gateway, when it is installed (apt-get install kcat): the
// README's examples. librdkafka before 2.11.1 compresses only if Produce v0 is advertised.
func TestKcat(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Skip("kcat is not installed")
	}
	srv, stop := serving(t, "", 5, nil)
	b := seeds(srv)[0]
	kcat := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("kcat", append([]string{"-b", b}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		timer := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	meta := kcat("", "-L")
	for id, addr := range srv.Addrs() {
		if !strings.Contains(meta, fmt.Sprintf("broker %d at %s", id, addr)) {
			t.Errorf("kcat -L does not list broker %d at %s:\n%s", id, addr, meta)
		}
	}
	var lines []string
	for i := 0; i < 100; i++ {
		lines = append(lines, fmt.Sprintf("line-%d", i))
	}
	kcat(strings.Join(lines, "\n")+"\n", "-P", "-t", "demo", "-X", "acks=all")
	for _, codec := range []string{"gzip", "snappy", "lz4", "zstd"} {
		var batch []string
		for i := 0; i < 20; i++ {
			batch = append(batch, fmt.Sprintf("%s-%d-%s", codec, i, strings.Repeat("x", 100)))
		}
		kcat(strings.Join(batch, "\n")+"\n", "-P", "-t", "demo", "-p", "0", "-z", codec)
		lines = append(lines, batch...)
	}
	got := strings.Split(strings.TrimSpace(kcat("", "-C", "-t", "demo", "-o", "beginning", "-e", "-q")), "\n")
	seen := map[string]bool{}
	for _, l := range got {
		seen[l] = true
	}
	for _, l := range lines {
		if !seen[l] {
			t.Fatalf("%q was not read back (%d lines read)", l, len(got))
		}
	}
	res := stop()
	if res.Verdict != "valid" || res.Ops <= len(lines) {
		t.Errorf("verdict %s with %d ops; want valid, with the sends and kcat's polls", res.Verdict, res.Ops)
	}
}
