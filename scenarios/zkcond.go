package scenarios

import (
	"fmt"
	"strconv"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/sim/cluster"
)

// ZooKeeper mode's words: `cluster brokers=3 zookeeper=3`, the servers z1..zN as nodes,
// `config zookeeper.session.timeout.ms=`, the `zk.leader` condition, and `controller` and
// `controller.epoch` naming the controller broker and /controller_epoch.

// maxZooKeeper bounds an ensemble.
const maxZooKeeper = 9

// zkSetup is the ZooKeeper part of a scenario's set-up.
type zkSetup struct {
	servers        int           // zookeeper=N; 0 in KRaft mode
	sessionTimeout time.Duration // zookeeper.session.timeout.ms; 0 for the default (18 s)
	serversTok     token
	controllersTok token  // controllers=, to refuse it beside zookeeper=
	timeoutAt      errPos // where zookeeper.session.timeout.ms was set
	kraftOnly      []kraftKey
	fileMode       MetadataMode // config metadata.mode= (metadatamode.go)
	turnedBy       string       // the switch that turned the cluster over, "" if none
	// socketTimeoutAt is where controller.socket.timeout.ms was set (a ZooKeeper-mode key).
	socketTimeoutAt errPos
}

func (p *parser) zkCluster(t token, key, v string) error {
	n, err := p.count(t, key, v, 1, maxZooKeeper)
	if err != nil {
		return err
	}
	p.s.zk.servers, p.s.zk.serversTok = n, t
	return nil
}

// zkClusterCheck refuses two control planes at once.
func (p *parser) zkClusterCheck() error {
	if p.s.zk.servers > 0 && p.s.zk.controllersTok.text != "" {
		return p.errTok(p.s.zk.controllersTok, "controllers: a ZooKeeper-mode cluster (zookeeper=%d) has no KRaft controllers; give zookeeper= or controllers=, not both", p.s.zk.servers)
	}
	return nil
}

func (p *parser) zkSessionTimeout(t token, key, v string) error {
	ms, err := strconv.Atoi(v)
	if err != nil || ms < 1 {
		return p.errAt(valueCol(t, key), "%s: %q is not a number of milliseconds (at least 1)", key, v)
	}
	p.s.zk.sessionTimeout = time.Duration(ms) * time.Millisecond
	p.s.zk.timeoutAt = errPos{p.line, t.col}
	return nil
}

// kraftKey is a KRaft-only key the set-up gave, where it gave it.
type kraftKey struct {
	key string
	at  errPos
}

// kraftOnlyKeys are the settings of KRaft's control plane: the controller quorum, broker
// registration and heartbeats, the metadata log, eligible leader replicas (KIP-966) and
// Pre-Vote (KIP-996). ZooKeeper mode has none of them.
var kraftOnlyKeys = map[string]bool{
	"broker.heartbeat.interval.ms": true, "broker.session.timeout.ms": true,
	"controller.quorum.election.timeout.ms": true, "controller.quorum.election.backoff.max.ms": true,
	"controller.quorum.fetch.timeout.ms": true, "controller.quorum.request.timeout.ms": true,
	"metadata.max.idle.interval.ms": true, "eligible.leader.replicas": true, "pre.vote": true,
}

func (p *parser) zkNoteKey(k, v string, t token) {
	if k == "controller.socket.timeout.ms" {
		p.s.zk.socketTimeoutAt = errPos{p.line, t.col}
	}
	// Turning a KRaft-only switch off is what ZooKeeper mode is anyway (no ELR, no Pre-Vote).
	if kraftOnlyKeys[k] && v != "false" {
		p.s.zk.kraftOnly = append(p.s.zk.kraftOnly, kraftKey{k, errPos{p.line, t.col}})
	}
}

// zkCloseSetup: ZooKeeper keys need a ZooKeeper-mode cluster, KRaft keys a KRaft one.
func (p *parser) zkCloseSetup() error {
	if p.s.zk.servers > 0 && len(p.s.zk.kraftOnly) > 0 {
		k := p.s.zk.kraftOnly[0]
		return p.errPos(k.at, "%s: a KRaft-only setting, and this cluster runs on ZooKeeper (zookeeper=%d)%s", k.key, p.s.zk.servers, p.turned())
	}
	if p.s.zk.servers == 0 && p.s.zk.socketTimeoutAt.line != 0 {
		return p.errPos(p.s.zk.socketTimeoutAt, "controller.socket.timeout.ms: the cluster runs KRaft%s; the key times the ZooKeeper-mode controller's requests to brokers (cluster ... zookeeper=N)", p.turned())
	}
	if p.s.zk.servers == 0 && p.s.zk.timeoutAt.line != 0 {
		return p.errPos(p.s.zk.timeoutAt, "zookeeper.session.timeout.ms: the cluster runs KRaft%s; ZooKeeper keys need cluster ... zookeeper=N", p.turned())
	}
	return nil
}

// zkNode resolves zK.
func (p *parser) zkNode(t token, isClient bool) (nodeRef, error) {
	k, err := strconv.Atoi(t.text[1:])
	exists := err == nil && k >= 1 && k <= p.s.zk.servers
	switch {
	case exists && isClient:
		return nodeRef{}, p.errTok(t, "%s is ambiguous: both ZooKeeper server %s and a client of that name (rename the client)", t.text, t.text)
	case exists:
		return nodeRef{id: node.ZooKeeperID(k), name: t.text}, nil
	case p.s.zk.servers == 0:
		return nodeRef{}, p.errTok(t, "%s: there is no ZooKeeper ensemble (the cluster runs KRaft%s; use cluster ... zookeeper=N)", t.text, p.turned())
	}
	return nodeRef{}, p.errTok(t, "ZooKeeper server %s does not exist (servers are z1..z%d)", t.text, p.s.zk.servers)
}

// zkLeaderCondition parses `zk.leader == zK` (or != , or none).
func (p *parser) zkLeaderCondition(k *cond, toks []token) (*cond, error) {
	w := toks[0]
	if p.s.zk.servers == 0 {
		return nil, p.errTok(w, "zk.leader: the cluster runs KRaft%s; there is no ZooKeeper ensemble (cluster ... zookeeper=N)", p.turned())
	}
	if len(toks) < 2 || (toks[1].text != "==" && toks[1].text != "!=") || toks[1].quoted {
		return nil, p.errAt(colAt(toks, 1), "zk.leader: expected == or !=, e.g. zk.leader == z2")
	}
	if len(toks) != 3 {
		return nil, p.errAt(colAt(toks, 2), "zk.leader %s: expected one ZooKeeper server or none", toks[1].text)
	}
	k.subj, k.op = sZkLeader, toks[1].text
	if toks[2].text == "none" {
		k.num = -1
		return k, nil
	}
	if !zooKeeperName.MatchString(toks[2].text) {
		return nil, p.errTok(toks[2], "zk.leader: %q is not a ZooKeeper server (servers are z1..z%d)", toks[2].text, p.s.zk.servers)
	}
	n, err := p.zkNode(toks[2], false)
	if err != nil {
		return nil, err
	}
	k.num = int64(n.id)
	return k, nil
}

// evalZkLeader judges zk.leader: the ensemble's established leader, or none.
func (k *cond) evalZkLeader(c *cluster.Cluster) (bool, string) {
	l := int64(c.ZkLeader())
	if l < 0 {
		l = int64(protocol.NoLeader)
	}
	return k.compare(l), "zk.leader is " + nodeName(l)
}

// zkControllerEpoch is controller.epoch in ZooKeeper mode: /controller_epoch.
func zkControllerEpoch(c *cluster.Cluster) (int64, bool, string) {
	if c.ZkLeader() < 0 {
		return 0, false, "controller.epoch is unknown (ZooKeeper has no leader)"
	}
	e := int64(c.ControllerEpoch())
	return e, true, fmt.Sprintf("controller.epoch is %d", e)
}

// zkOnly refuses a ZooKeeper-mode word in a KRaft cluster.
func (p *parser) zkOnly(w token) error {
	if p.s.zk.servers == 0 {
		return p.errTok(w, "%s: the cluster runs KRaft%s; the word is ZooKeeper mode's (cluster ... zookeeper=N)", w.text, p.turned())
	}
	return nil
}

// zkStaleRefused is stale.controller.refused: the requests of an older controller epoch the
// brokers refused with STALE_CONTROLLER_EPOCH (a zombie controller's).
func zkStaleRefused(c *cluster.Cluster) (int64, bool, string) {
	n := int64(c.StaleControllerRefusals())
	return n, true, fmt.Sprintf("stale.controller.refused is %d", n)
}
