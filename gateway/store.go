package gateway

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// valueBase is the first value id the gateway hands out: far above the values the scenario's
// producers write (1,000,000 per producer), so the checker tells every record apart.
const valueBase int64 = 1 << 48

// store is what a gateway's connections share, inside the world: the broker addresses the
// clients are told, the batches real producers sent (their bytes, kept to answer fetches with
// exactly those bytes) and the value ids that stand for their records in the model. It is
// changed only by the connection nodes as the world steps them, so it is as deterministic as
// the nodes are.
type store struct {
	addrs       map[int32]string // broker id → host:port of its listener
	controllers []int32
	brokers     int
	next        int64                   // the next value id
	batches     map[int64][]byte        // first value id of a batch → the producer's bytes
	idempotent  map[seqKey]int64        // an idempotent batch → its first value id (a retry reuses it)
	invoked     map[int64]time.Duration // first value id → when its batch was first sent
	recorded    map[int64]bool          // first value id → its sends are in the history
	joins       map[memberKey][]byte
	assigned    map[assignKey][]byte
	owners      map[string][]*owner      // client.id → its members' partitions, in the order they joined (groups.go)
	txns        map[producerKey]*openTxn // transactional producers' open transactions (txn.go)
	txnBatches  map[int64]*txnBatch      // their batches by first value id
	fetches     FetchStats               // the real clients' fetches by session (fetchsession.go)
	sessions    fetchSessions            // their fetch sessions' offsets
	watched     map[string]*watched      // client.id → what watchers see of it (watch.go)
	watchOrder  []string                 // client.ids in the order first seen
	tv2         map[string]bool          // transactional.ids whose client speaks transaction.version 2 (txn.go)
}

type seqKey struct {
	tp       protocol.TopicPartition
	pid      int64
	epoch    int16
	sequence int32
}

// memberKey names a member's subscription bytes for one protocol.
type memberKey struct{ group, member, protocol string }

// assignKey names the leader's assignment bytes for a member in a generation.
type assignKey struct {
	group      string
	generation int32
	member     string
}

func newStore(addrs map[int32]string, controllers []int32) *store {
	return &store{
		addrs: addrs, controllers: controllers, brokers: len(addrs), next: valueBase,
		batches: map[int64][]byte{}, idempotent: map[seqKey]int64{}, invoked: map[int64]time.Duration{}, recorded: map[int64]bool{},
		joins: map[memberKey][]byte{}, assigned: map[assignKey][]byte{}, owners: map[string][]*owner{},
		txns: map[producerKey]*openTxn{}, txnBatches: map[int64]*txnBatch{}, sessions: fetchSessions{}, tv2: map[string]bool{},
	}
}

// hostPort splits broker id's address.
func (s *store) hostPort(id int32) (string, int32, bool) {
	a, ok := s.addrs[id]
	if !ok {
		return "", 0, false
	}
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, false
	}
	return h, int32(port), true
}

// toModel reads a producer's v2 batch for tp into the model: the header as it is (producer id,
// epoch, base sequence, transactional) and one model record per record, each with a value id
// of its own. The bytes are checked as the broker checks them before it decompresses
// (DefaultRecordBatch.ensureValid: size, magic, codec, CRC-32C) and kept, so fetches answer
// with them. The model's records are keyless with consecutive values, so the batch takes the
// compact form (protocol.RecordBatch.SetValues). One batch per partition, as every client sends. An idempotent producer's retry
// (the same producer id, epoch and sequence) gets the values of its first attempt.
func (s *store) toModel(now time.Duration, tp protocol.TopicPartition, raw []byte) (*protocol.RecordBatch, protocol.ErrorCode) {
	size, err := record.Check(raw)
	if err != nil {
		return nil, record.CORRUPT_MESSAGE
	}
	if size != len(raw) {
		return nil, record.INVALID_RECORD // several batches in one partition's records
	}
	var h kmsg.RecordBatch
	if err := h.ReadFrom(raw); err != nil || h.NumRecords <= 0 || h.Attributes&record.AttrControl != 0 {
		return nil, record.INVALID_RECORD
	}
	b := &protocol.RecordBatch{
		ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch, BaseSequence: h.FirstSequence,
		Transactional: h.Attributes&record.AttrTransactional != 0,
	}
	first := int64(-1)
	key := seqKey{tp, h.ProducerID, h.ProducerEpoch, h.FirstSequence}
	if b.Idempotent() {
		if v, ok := s.idempotent[key]; ok && len(s.batches[v]) == len(raw) {
			first = v
		}
	}
	if first < 0 {
		first = s.next
		s.next += int64(h.NumRecords)
		s.batches[first] = append([]byte(nil), raw...)
		s.invoked[first] = now
		if b.Idempotent() {
			s.idempotent[key] = first
		}
	}
	b.SetValues(first, int(h.NumRecords))
	return b, protocol.NONE
}

// appendWire appends b as v2 bytes: a real producer's own bytes with the offset and leader
// epoch the log gave them (both lie before the CRC, as the leader stamps them in
// LogValidator), else the model's records encoded by broker/record.
func (s *store) appendWire(dst []byte, b *protocol.RecordBatch) []byte {
	// A batch the cleaner filtered (Gaps) is no longer the producer's bytes; none reaches here
	// today, since real clients' records carry no model key and compacted topics refuse them.
	if b.Len() > 0 && b.Gaps == nil {
		if raw, ok := s.batches[b.Value(0)]; ok {
			start := len(dst)
			dst = append(dst, raw...)
			binary.BigEndian.PutUint64(dst[start:], uint64(b.BaseOffset))
			binary.BigEndian.PutUint32(dst[start+12:], uint32(b.PartitionLeaderEpoch))
			return dst
		}
	}
	out, err := record.Append(dst, b, record.Options{})
	if err != nil {
		return dst
	}
	return out
}

// topicID is a topic's id as Metadata v10+ carries it: a hash of its name, the same in every
// run.
func topicID(name string) [16]byte {
	var id [16]byte
	h := fnv.New128a()
	h.Write([]byte(name))
	copy(id[:], h.Sum(nil))
	return id
}

// clientName names a connection's client in the history: its client.id and the connection.
func clientName(clientID string, conn int) string {
	if clientID == "" {
		clientID = "client"
	}
	return fmt.Sprintf("%s#%d", clientID, conn)
}
