package scenarios

import (
	"fmt"
)

// The metadata mode switch: one scenario run on either control plane. `config
// metadata.mode=zookeeper|kraft` in a file, or `--metadata-mode` on run and sweep (which wins
// over the file), turns a KRaft cluster of N controllers into a ZooKeeper-mode cluster with an
// ensemble of N servers (z1..zN; a controller broker elected through /controller), and a
// ZooKeeper-mode cluster of N servers into a KRaft cluster of N controllers. What only one mode
// has (KRaft's c1..cN, eligible leader replicas, Pre-Vote, broker heartbeats; ZooKeeper's
// z1..zN, zk.leader, zookeeper.session.timeout.ms) stays a parse error that says why, naming
// the switch that turned the cluster over.

// MetadataMode is the control plane a scenario runs on: as its file says (""), KRaft or
// ZooKeeper.
type MetadataMode string

// The metadata modes.
const (
	ModeAsWritten MetadataMode = ""
	ModeKRaft     MetadataMode = "kraft"
	ModeZooKeeper MetadataMode = "zookeeper"
)

// ParseMetadataMode reads kraft or zookeeper.
func ParseMetadataMode(v string) (MetadataMode, error) {
	switch MetadataMode(v) {
	case ModeKRaft, ModeZooKeeper:
		return MetadataMode(v), nil
	}
	return "", fmt.Errorf("metadata mode %q: want kraft or zookeeper", v)
}

// metadataModeKey is the config key of the in-file switch.
const metadataModeKey = "metadata.mode"

// zkFileMode takes `config metadata.mode=...`.
func (p *parser) zkFileMode(t token, k, v string) error {
	m, err := ParseMetadataMode(v)
	if err != nil {
		return p.errAt(valueCol(t, k), "%s: %q is not a metadata mode (kraft or zookeeper)", k, v)
	}
	p.s.zk.fileMode = m
	return nil
}

// applyMetadataMode turns the cluster over to the mode the flag, else the file, asks for. It
// runs when the set-up closes, before the defaults (3 controllers) are filled in.
func (p *parser) applyMetadataMode() {
	z := &p.s.zk
	mode, by := p.mode, "--metadata-mode "+string(p.mode)
	if mode == ModeAsWritten {
		mode, by = z.fileMode, metadataModeKey+"="+string(z.fileMode)
	}
	p.s.mode = p.mode
	switch {
	case mode == ModeZooKeeper && z.servers == 0:
		z.servers = p.s.controllers
		if z.servers == 0 {
			z.servers = 3
		}
		p.s.controllers, z.turnedBy = 0, by
	case mode == ModeKRaft && z.servers > 0:
		p.s.controllers, z.servers, z.turnedBy = z.servers, 0, by
	}
}

// turned is the note an error adds when the switch turned the cluster over: "(turned by
// --metadata-mode zookeeper)", else "".
func (p *parser) turned() string {
	if p.s.zk.turnedBy == "" {
		return ""
	}
	return " (turned by " + p.s.zk.turnedBy + ")"
}

// zkNoController refuses a KRaft controller's name in ZooKeeper mode.
func (p *parser) zkNoController(t token) error {
	return p.errTok(t, "%s: a KRaft controller, and this cluster runs on ZooKeeper (z1..z%d; the controller is a broker, named by `controller`)%s", t.text, p.s.zk.servers, p.turned())
}

// ParseMode parses a scenario as Parse does, run on the given control plane.
func ParseMode(file string, src []byte, mode MetadataMode) (*Scenario, error) {
	return parse(file, src, mode)
}

// MetadataMode is the mode the scenario was turned to by a flag (ModeAsWritten if none).
func (s *Scenario) MetadataMode() MetadataMode { return s.mode }

// ZooKeeperMode reports whether the scenario runs on ZooKeeper.
func (s *Scenario) ZooKeeperMode() bool { return s.zk.servers > 0 }

// WithMetadataMode is the files run on the given control plane (run and sweep
// --metadata-mode); each is parsed so that a word the mode does not have is refused before
// anything runs.
func WithMetadataMode(files []*File, mode MetadataMode) ([]*File, error) {
	if mode == ModeAsWritten {
		return files, nil
	}
	out := make([]*File, len(files))
	for i, f := range files {
		cp := *f
		cp.mode = mode
		if _, err := cp.Scenario(); err != nil {
			return nil, err
		}
		out[i] = &cp
	}
	return out, nil
}

// MetadataModeUsage describes the --metadata-mode flag.
const MetadataModeUsage = "run every file on this control plane: `kraft` (controllers c1..cN) or zookeeper (an ensemble z1..zN of the same size); a word the other mode lacks is refused with the reason"

// String is the mode as the flag takes it.
func (m *MetadataMode) String() string { return string(*m) }

// Set takes the flag's value.
func (m *MetadataMode) Set(v string) error {
	x, err := ParseMetadataMode(v)
	if err != nil {
		return err
	}
	*m = x
	return nil
}

// Type names the flag's value in help.
func (m *MetadataMode) Type() string { return "mode" }

// oneModeOnly names the library scenarios that run on one control plane only, with the
// reason; every other library scenario runs, and holds, on both (TestLibraryInBothModes).
var oneModeOnly = map[string]string{
	"controller-quorum-churn":         "KRaft's controller quorum: Raft elections among c1..c5 without Pre-Vote",
	"controller-rejoin-no-prevote":    "KRaft's controller quorum: a controller rejoining without Pre-Vote (KIP-996)",
	"controller-rejoin-prevote":       "KRaft's controller quorum: Pre-Vote (KIP-996)",
	"controller-stale-log-cannot-win": "KRaft's controller quorum: Raft's log-up-to-date vote rule",
	"controller-failover":             "KRaft's controller quorum electing a new active controller in seconds; zk-controller-failover is its ZooKeeper counterpart (a controller broker dies, another wins /controller)",
	"kip841-fenced-replica-stays-out": "KIP-841: a broker fenced by its KRaft heartbeats (cut off from c1) stays out of the ISR",
	"last-replica-standing-elr":       "eligible leader replicas (KIP-966) are KRaft-only",
	"alter-partition-stale-epoch":     "its timeline is KRaft's fencing by missed heartbeats (broker.session.timeout.ms) and cuts from the controller quorum; zk-session-expiry-acks-all shows the ZooKeeper counterpart, the cached zkVersion refused",
	"classroom":                       "its narration teaches KRaft's broker heartbeats (broker.session.timeout.ms, 9 s) and the controller quorum",
	"kafka7128-isr-expansion":         "its network cuts between brokers would cut the ZooKeeper-mode controller, a broker, off too: the lesson needs a controller outside the brokers' faults",
	"kafka7128-fixed":                 "as kafka7128-isr-expansion: its cuts between brokers would cut the ZooKeeper-mode controller broker off",
	"zk-controller-failover":          "ZooKeeper mode's own: /controller, zk.leader and the ensemble",
	"zk-session-expiry-acks1-loss":    "ZooKeeper mode's own: a session expiring in the ensemble",
	"zk-session-expiry-acks-all":      "ZooKeeper mode's own: a session expiring in the ensemble",
	"zk-quorum-loss":                  "ZooKeeper mode's own: the ensemble losing its quorum",
	"zk-zombie-controller":            "ZooKeeper mode's own: a controller broker's session expiring, fenced by /controller_epoch",
	"zk-jepsen-2013-unclean-election": "ZooKeeper mode's own: the controller is a broker, cut off from ZooKeeper; unclean-election is the same lesson in either mode",
}

// OneModeOnly is the reason a library scenario runs on one control plane only, "" if it runs
// on both.
func OneModeOnly(name string) string { return oneModeOnly[name] }

// zkUncleanBudget is the default number of broker power losses a nemesis may cause in
// ZooKeeper mode: none. Kafka on ZooKeeper has no KIP-966: a broker that lost its unflushed
// log in a power loss comes back with the same id, and a controller that reads ZooKeeper
// afresh (a failover) can find it still the leader, or the ISR, of a state written before the
// loss, and hand it the leadership with a log cut short. nemesis unclean.max=N allows N.
const zkUncleanBudget = 0
