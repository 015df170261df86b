package log

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// Errors of AppendAsFollower: the replicated batches do not continue the log.
var (
	ErrInvalidBatch = errors.New("log: invalid record batch")
	ErrOffsetGap    = errors.New("log: batches do not start at the log end offset")
)

// Files under a log's directory.
const (
	EpochCheckpointFile    = "leader-epoch-checkpoint"
	LogStartCheckpointFile = "log-start-offset"
	segmentSuffix          = ".log"
	offsetDigits           = 20
)

// SegmentInfo describes one segment (for the broker's metrics, the checker and the TUI).
type SegmentInfo struct {
	BaseOffset, NextOffset int64
	SizeBytes              int64
	Batches                int
}

// segment is a LogSegment: a file of batches, which are also l.batches[first:first+n].
type segment struct {
	base     int64
	file     string
	first, n int
	size     int64
	rollTime time.Duration // when the first batch was appended (its timestamp after a reload)
	maxTime  time.Duration // largest batch timestamp, for retention.ms
	dirty    bool          // appended or truncated since the last fsync
}

// Log is one replica's log of one partition (Kafka's UnifiedLog). It is not safe for
// concurrent use; the broker steps one input at a time.
type Log struct {
	disk      node.Disk
	dir       string
	cfg       config.Topic
	epochFile string
	startFile string

	// batches holds every retained batch, oldest first. Slices handed out (Read, Batches) are
	// never written through: truncation caps the slice so that later appends reallocate.
	batches []*protocol.RecordBatch
	pos     []int64 // pos[i]: bytes of the batches before batches[i], counted since load
	endPos  int64   // bytes of all batches, same origin as pos
	segs    []segment

	logStart      int64
	leo           int64
	recoveryPoint int64                   // offsets below it have been flushed since the last reopen
	cleanedTo     int64                   // the cleaner's checkpoint: offsets below it were compacted (cleaner.go)
	cleanings     []cleaning              // the cleaner's passes, oldest first (cleaner.go)
	tombstonesDue time.Duration           // when the first kept tombstone's or marker's delete horizon passes (-1: none)
	horizons      map[int64]time.Duration // delete horizons of markers without bytes (cleaner.go)
	lastFlush     time.Duration
	now           time.Duration // the latest time handed in

	epochs    epochCache
	producers producerState
	done      Housekeeping // what retention and the cleaner did so far (for the UI)

	// Room for the batches the leader stamps (stamp): structs and bytes are cut from arrays
	// of many, one allocation for many appends. Stamped batches are immutable and never
	// written again, even when truncated away; an array lives while any batch cut from it does.
	spare      []protocol.RecordBatch
	spareBytes []byte
}

// Open loads (or creates) the log stored under dir: segments, leader-epoch checkpoint,
// log-start-offset checkpoint, and producer state rebuilt by replaying batches. As Kafka's
// LogLoader does after any restart, a segment that does not continue the log ends it (the rest
// is deleted), epochs are re-assigned from the batches read, and the epoch cache is truncated
// to the LEO and to the log start offset.
func Open(disk node.Disk, dir string, cfg config.Topic, now time.Duration) *Log {
	l := &Log{
		disk:      disk,
		dir:       dir,
		cfg:       cfg,
		epochFile: dir + "/" + EpochCheckpointFile,
		startFile: dir + "/" + LogStartCheckpointFile,
		lastFlush: now,
		now:       now,
		producers: producerState{producers: make(map[int64]*producerEntry)},

		tombstonesDue: -1,
	}
	if es := disk.Read(l.startFile); len(es) > 0 {
		if v, ok := es[len(es)-1].(int64); ok && v > 0 {
			l.logStart = v
		}
	}
	loaded := 0
	for _, e := range disk.Read(l.epochFile) {
		if ee, ok := e.(EpochEntry); ok {
			l.epochs.assign(ee.Epoch, ee.StartOffset)
			loaded++
		}
	}
	epochsChanged := loaded != len(l.epochs.entries)
	l.loadSegments()

	// LogLoader: max(checkpoint, first segment's base offset).
	startChanged := false
	// (The first segment's base, not its first batch's: compaction may have removed that.)
	if len(l.segs) > 0 && l.segs[0].base > l.logStart {
		l.logStart = l.segs[0].base
		startChanged = true
	}
	if l.leo <= l.logStart { // nothing at or above the log start survived
		l.removeAllSegments()
		l.batches, l.pos, l.endPos = nil, nil, 0
		l.leo = l.logStart
	} else {
		l.dropSegmentsBelow(l.logStart)
	}
	if len(l.segs) == 0 {
		l.segs = append(l.segs, l.newSegment(l.leo))
	}

	// LogSegment.recover re-assigns epochs found in the batches (only epochs above the latest),
	// then LogLoader truncates the cache to the log's bounds.
	for _, b := range l.batches {
		if e := b.PartitionLeaderEpoch; e >= 0 && e > l.epochs.latestEpoch() {
			epochsChanged = l.epochs.assign(e, b.BaseOffset) || epochsChanged
		}
	}
	epochsChanged = l.epochs.truncateFromEnd(l.leo) || epochsChanged
	epochsChanged = l.epochs.truncateFromStart(l.logStart) || epochsChanged
	if epochsChanged {
		l.persistEpochs()
	}
	if startChanged || disk.Len(l.startFile) == 0 {
		// Also on creation, so that the directory exists on disk as Kafka's does.
		l.persistLogStart()
	}
	l.rebuildProducerState()
	l.recoveryPoint = l.leo
	return l
}

// loadSegments reads the segment files in offset order. Every loaded segment is marked dirty:
// after a process kill its data may still sit in the page cache only.
func (l *Log) loadSegments() {
	prefix := l.dir + "/"
	next := int64(-1)
	broken := false
	for _, f := range filesIn(l.disk, l.dir) {
		base, ok := parseSegmentFile(f, prefix)
		if !ok {
			continue
		}
		if broken {
			l.disk.Remove(f)
			continue
		}
		entries := l.disk.Read(f)
		seg := segment{base: base, file: f, first: len(l.batches), dirty: true}
		valid := 0
		for _, e := range entries {
			b, ok := e.(*protocol.RecordBatch)
			if !ok || b == nil || b.Count() < 1 || b.BaseOffset < base || (next >= 0 && !l.continues(b, next)) || !intact(b) {
				broken = true
				break
			}
			size := b.SizeBytes()
			if valid == 0 {
				seg.rollTime = b.MaxTimestamp
			}
			seg.maxTime = max(seg.maxTime, b.MaxTimestamp)
			seg.size += size
			seg.n++
			l.batches = append(l.batches, b)
			l.pos = append(l.pos, l.endPos)
			l.endPos += size
			next = b.NextOffset()
			valid++
		}
		if valid == 0 {
			l.disk.Remove(f)
			continue
		}
		if valid < len(entries) {
			l.disk.Truncate(f, valid)
			l.disk.Flush(f)
		}
		l.segs = append(l.segs, seg)
	}
	if next >= 0 {
		l.leo = next
	}
}

// continues reports whether b may follow a batch that ended at next: at next exactly, or after
// it in a compacted log, whose cleaner leaves gaps between batches.
func (l *Log) continues(b *protocol.RecordBatch, next int64) bool {
	return b.BaseOffset == next || (l.cfg.Compact && b.BaseOffset > next)
}

// intact reports whether a batch read back from a segment passes its CRC check: recovery
// (LogSegment.recover) stops at the first batch that does not, and the log is truncated there.
func intact(b *protocol.RecordBatch) bool {
	if b.Bytes == nil {
		return true
	}
	_, err := record.Check(b.Bytes)
	return err == nil
}

// dropSegmentsBelow deletes whole segments that end at or below offset (the log start
// checkpoint is ahead of them).
func (l *Log) dropSegmentsBelow(offset int64) {
	k := 0
	for k < len(l.segs)-1 && l.segs[k+1].base <= offset {
		k++
	}
	if k > 0 {
		l.deleteFirstSegments(k)
	}
}

func (l *Log) newSegment(base int64) segment {
	return segment{base: base, file: segmentFile(l.dir, base), first: len(l.batches)}
}

// segmentFile is "<dir>/<20-digit base offset>.log", Kafka's file name.
func segmentFile(dir string, base int64) string {
	var b [offsetDigits]byte
	for i := offsetDigits - 1; i >= 0; i-- {
		b[i] = byte('0' + base%10)
		base /= 10
	}
	return dir + "/" + string(b[:]) + segmentSuffix
}

func parseSegmentFile(f, prefix string) (int64, bool) {
	if !strings.HasPrefix(f, prefix) || !strings.HasSuffix(f, segmentSuffix) {
		return 0, false
	}
	name := f[len(prefix) : len(f)-len(segmentSuffix)]
	if len(name) != offsetDigits {
		return 0, false
	}
	var v int64
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, v >= 0
}

// Dir is the log's directory on its disk, e.g. "orders-0".
func (l *Log) Dir() string { return l.dir }

// SetConfig replaces the topic configuration (a dynamic config change); it applies from the
// next append, roll, flush check or retention pass.
func (l *Log) SetConfig(cfg config.Topic) { l.cfg = cfg }

// Config is the topic configuration in force.
func (l *Log) Config() config.Topic { return l.cfg }

// LogStartOffset is the first retained offset.
func (l *Log) LogStartOffset() int64 { return l.logStart }

// LogEndOffset is the LEO: the offset the next record gets.
func (l *Log) LogEndOffset() int64 { return l.leo }

// SizeBytes is the size of all retained batches.
func (l *Log) SizeBytes() int64 { return l.endPos - l.posAt(0) }

// LatestEpoch is the latest epoch in the leader-epoch cache, -1 when the cache is empty.
func (l *Log) LatestEpoch() int32 { return l.epochs.latestEpoch() }

// LastBatchEpoch is the leader epoch of the last batch, -1 for an empty log (a follower's
// lastFetchedEpoch).
func (l *Log) LastBatchEpoch() int32 {
	if len(l.batches) == 0 {
		return -1
	}
	return l.batches[len(l.batches)-1].PartitionLeaderEpoch
}

// EpochEntries is a copy of the leader-epoch cache, oldest first.
func (l *Log) EpochEntries() []EpochEntry {
	return append([]EpochEntry(nil), l.epochs.entries...)
}

// AssignEpochStartOffset records that epoch starts at offset, as Partition.makeLeader does
// with (new leader epoch, LEO) and as every append does with its batches' epochs. Kafka's
// rule after KIP-279 (PR #5678): nothing changes when epoch is already the latest at the same
// or an earlier offset; otherwise the entries the new one conflicts with (epoch ≥ epoch or
// start offset ≥ offset) are removed and it is appended. The checkpoint is written and
// fsynced on change. Negative values are ignored.
func (l *Log) AssignEpochStartOffset(epoch int32, offset int64) {
	if l.epochs.assign(epoch, offset) {
		l.persistEpochs()
	}
}

// EndOffsetForEpoch answers OffsetsForLeaderEpoch (KIP-279): the largest cached epoch ≤
// epoch and the start offset of the next cached epoch, or the LEO when it is the latest; for an
// epoch below the earliest cached one, (epoch, earliest start offset). An empty cache, an
// undefined (negative) epoch or an epoch above the latest cached one answer (-1, -1), as
// LeaderEpochFileCache.endOffsetFor does.
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) {
	return l.epochs.endOffsetFor(epoch, l.leo)
}

// AppendAsLeader validates a producer batch and appends a copy stamped at the LEO with leader
// epoch epoch (the batch's BaseOffset is ignored). Idempotent batches are checked as
// ProducerAppendInfo does for origin CLIENT (KIP-98): a batch with the same producer epoch and
// sequence range as one of the producer's last 5 is a duplicate: nothing is appended and the
// original batch and base offset come back with dup=true; a producer epoch below the known one
// is INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0 and a known epoch must
// continue at lastSeq+1, else OUT_OF_ORDER_SEQUENCE_NUMBER; an unknown producer may start
// anywhere, except at a log that has never held a record, where it must start at sequence 0
// (KAFKA-15591). A nil or empty batch or a negative epoch is INVALID_REQUEST.
func (l *Log) AppendAsLeader(b *protocol.RecordBatch, epoch int32, now time.Duration) (appended *protocol.RecordBatch, baseOffset int64, dup bool, err protocol.ErrorCode) {
	l.now = now
	if b == nil || (b.Len() == 0 && b.Bytes == nil) || epoch < 0 {
		return nil, -1, false, protocol.INVALID_REQUEST
	}
	// LogValidator first (UnifiedLog.analyzeAndValidateRecords: the CRC and the header), then the
	// records and the topic's compression.type.
	valid, code := l.validate(b)
	if code != protocol.NONE {
		return nil, -1, false, code
	}
	b = valid
	if b.Idempotent() {
		d, isDup, code := l.producers.checkClient(b, l.leo == 0)
		if code != protocol.NONE {
			return nil, -1, false, code
		}
		if isDup {
			return l.BatchAt(d.baseOffset), d.baseOffset, true, protocol.NONE
		}
	} else if b.Control && b.ProducerID >= 0 {
		// ProducerAppendInfo.appendEndTxnMarker: checkProducerEpoch, then checkCoordinatorEpoch (a
		// marker from a coordinator older than the last marker's is a zombie's).
		if e := l.producers.producers[b.ProducerID]; e != nil && b.ProducerEpoch < e.epoch {
			return nil, -1, false, protocol.INVALID_PRODUCER_EPOCH
		} else if e != nil && b.Len() > 0 && int64(e.coordinatorEpoch) > b.Value(0) {
			return nil, -1, false, protocol.TRANSACTION_COORDINATOR_FENCED
		}
	}
	s := l.stamp(b, epoch, now)
	l.append(s, now)
	l.producers.update(s)
	l.maybeFlush(now)
	return s, s.BaseOffset, false, protocol.NONE
}

// validate checks a batch the leader is asked to append, as LogValidator does: its bytes must
// pass Check (size, magic, codec, CRC-32C: CORRUPT_MESSAGE); bytes without their model view are
// decoded once (INVALID_RECORD for a bad record); a batch in a codec the topic's
// compression.type does not keep is rebuilt in the topic's codec (Recompress). A batch built on
// the broker without bytes (a transaction marker, a coordinator's records) is encoded in stamp.
func (l *Log) validate(b *protocol.RecordBatch) (*protocol.RecordBatch, protocol.ErrorCode) {
	if b.Bytes == nil {
		return b, protocol.NONE
	}
	if _, err := record.Check(b.Bytes); err != nil {
		return nil, record.CodeOf(err)
	}
	if b.Records == nil && !b.Compact() {
		d, _, _, err := record.Decode(b.Bytes)
		if err != nil {
			return nil, record.CodeOf(err)
		}
		c := *b
		c.Records, c.FirstValue, c.NumValues = d.Records, d.FirstValue, d.NumValues
		b = &c
	}
	if b.Len() == 0 {
		return nil, protocol.INVALID_REQUEST
	}
	if l.cfg.Compact && !b.Control { // LogValidator.validateKey
		for i := range b.Len() {
			if b.Key(i) == "" {
				return nil, protocol.INVALID_RECORD // "Compacted topic cannot accept message without key"
			}
		}
	}
	source := record.CodecOf(b.Bytes)
	if target := l.cfg.Compression.Target(source); target != source {
		bs, err := record.Recompress(b.Bytes, target)
		if err != nil {
			return nil, record.CodeOf(err)
		}
		c := *b
		c.Bytes = bs
		b = &c
	}
	return b, protocol.NONE
}

// stamp places a validated batch at the LEO in leader epoch epoch. A batch with no bytes yet is
// encoded here in the codec the topic's compression.type wants (none when it keeps the
// producer's), as a broker-side MemoryRecords builder writes it.
func (l *Log) stamp(b *protocol.RecordBatch, epoch int32, now time.Duration) *protocol.RecordBatch {
	if b.Bytes != nil {
		// b.Stamp(l.leo, epoch, now), in the log's spare room.
		s := l.newBatch()
		*s = *b
		s.BaseOffset, s.PartitionLeaderEpoch = l.leo, epoch
		s.Bytes = l.newBytes(len(b.Bytes))
		copy(s.Bytes, b.Bytes)
		binary.BigEndian.PutUint64(s.Bytes[0:], uint64(l.leo)) // as protocol.StampBytes
		binary.BigEndian.PutUint32(s.Bytes[12:], uint32(epoch))
		if b.MaxTimestamp == 0 { // a batch without a timestamp takes the append time
			s.MaxTimestamp = now
			record.SetTimestamps(s.Bytes, now)
		}
		return s
	}
	c := *b
	c.BaseOffset, c.PartitionLeaderEpoch = l.leo, epoch
	if c.MaxTimestamp == 0 {
		c.MaxTimestamp = now
	}
	bs, err := record.Encode(&c, record.Options{Codec: l.cfg.Compression.Target(record.None)})
	if err != nil { // the topic's codec was checked when its configuration was read
		panic(fmt.Sprintf("log %s: encoding a broker batch: %v", l.dir, err))
	}
	c.Bytes = bs
	return &c
}

// newBatch is a zeroed batch from the log's spare room, which grows with the appends it
// serves up to 64 batches an allocation.
func (l *Log) newBatch() *protocol.RecordBatch {
	if len(l.spare) == cap(l.spare) {
		l.spare = make([]protocol.RecordBatch, 0, min(64, 2*cap(l.spare)+1))
	}
	l.spare = l.spare[:len(l.spare)+1]
	return &l.spare[len(l.spare)-1]
}

// newBytes is n bytes from the log's spare room, which grows with the appends it serves up to
// 32 KiB an allocation; a batch larger than a quarter of that has an allocation of its own.
func (l *Log) newBytes(n int) []byte {
	const most = 32 << 10
	if n > most/4 {
		return make([]byte, n)
	}
	if cap(l.spareBytes)-len(l.spareBytes) < n {
		l.spareBytes = make([]byte, 0, min(most, max(2*cap(l.spareBytes), 2*n)))
	}
	k := len(l.spareBytes)
	l.spareBytes = l.spareBytes[:k+n]
	return l.spareBytes[k : k+n : k+n]
}

// AppendAsFollower appends batches copied from the leader, already stamped. Leading batches
// wholly below the LEO are skipped; the rest must continue the log exactly (the first at the
// LEO, each next at the previous one's next offset), else nothing is appended and an error
// wrapping ErrOffsetGap (or ErrInvalidBatch for a nil or empty batch) comes back. Epochs are
// assigned to the epoch cache and producer state is updated without sequence checks (origin
// REPLICATION).
func (l *Log) AppendAsFollower(bs []*protocol.RecordBatch, now time.Duration) error {
	l.now = now
	start := 0
	next := l.leo
	for i, b := range bs {
		if b == nil || b.Count() < 1 { // a cleaned batch may hold no record, never no offset
			return fmt.Errorf("%w: batch %d of %d is nil or empty", ErrInvalidBatch, i, len(bs))
		}
		if i == start && b.NextOffset() <= l.leo {
			start++
			continue
		}
		// ReplicaManager appends replicated records after the batch's own checks
		// (UnifiedLog.appendAsFollower → analyzeAndValidateRecords: DefaultRecordBatch.ensureValid).
		if b.Bytes != nil {
			if _, err := record.Check(b.Bytes); err != nil {
				return fmt.Errorf("%w: batch at offset %d: %v", ErrInvalidBatch, b.BaseOffset, err)
			}
		}
		if !l.continues(b, next) {
			return fmt.Errorf("%w: batch at offset %d, expected %d (log end offset %d)", ErrOffsetGap, b.BaseOffset, next, l.leo)
		}
		next = b.NextOffset()
	}
	for _, b := range bs[start:] {
		l.append(b, now)
		l.producers.update(b)
	}
	if start < len(bs) {
		l.maybeFlush(now)
	}
	return nil
}

// append puts a stamped batch at the end of the log, rolling first if the active segment is
// full or old (segment.bytes, segment.ms), and assigns its epoch.
func (l *Log) append(b *protocol.RecordBatch, now time.Duration) {
	size := b.SizeBytes()
	seg := &l.segs[len(l.segs)-1]
	if seg.n > 0 && (seg.size+size > l.cfg.SegmentBytes || now-seg.rollTime >= l.cfg.SegmentRoll) {
		// Kafka flushes the rolled segment (flushUptoOffsetExclusive(newSegment.baseOffset)).
		l.flush(now)
		l.segs = append(l.segs, l.newSegment(l.leo))
		seg = &l.segs[len(l.segs)-1]
	}
	if seg.n == 0 {
		seg.rollTime = now
		seg.maxTime = b.MaxTimestamp
	}
	l.disk.Append(seg.file, b)
	l.batches = append(l.batches, b)
	l.pos = append(l.pos, l.endPos)
	l.endPos += size
	seg.n++
	seg.size += size
	seg.maxTime = max(seg.maxTime, b.MaxTimestamp)
	seg.dirty = true
	l.leo = b.NextOffset()
	if l.epochs.assign(b.PartitionLeaderEpoch, b.BaseOffset) {
		l.persistEpochs()
	}
}

// posAt is the byte position before batch i (i may be len(batches)).
func (l *Log) posAt(i int) int64 {
	if i < len(l.pos) {
		return l.pos[i]
	}
	return l.endPos
}

// indexOf is the index of the first batch ending after offset: the batch containing offset,
// or the first one after it, or len(batches).
func (l *Log) indexOf(offset int64) int {
	lo, hi := 0, len(l.batches)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.batches[m].NextOffset() > offset {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// Read returns the whole batches with LastOffset ≥ from and BaseOffset < maxOffset, oldest
// first: at least one if there is any, then as many as fit in maxBytes. The result is a
// read-only view of the log that later appends and truncations never change; it allocates
// nothing. Out-of-range offsets (below the log start or at/after the LEO) give nil: the caller
// answers OFFSET_OUT_OF_RANGE.
func (l *Log) Read(from, maxOffset int64, maxBytes int) []*protocol.RecordBatch {
	if from < l.logStart || from >= l.leo {
		return nil
	}
	i := l.indexOf(from)
	// j: first batch with BaseOffset ≥ maxOffset.
	lo, hi := i, len(l.batches)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.batches[m].BaseOffset >= maxOffset {
			hi = m
		} else {
			lo = m + 1
		}
	}
	j := lo
	if i >= j {
		return nil
	}
	// Largest end in (i+1, j] whose bytes fit; at least one batch.
	start, limit := l.pos[i], int64(maxBytes)
	lo, hi = i+1, j
	for lo < hi {
		m := int(uint(lo+hi+1) >> 1)
		if l.posAt(m)-start <= limit {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return l.batches[i:lo:lo]
}

// BatchAt returns the batch containing offset, or nil.
func (l *Log) BatchAt(offset int64) *protocol.RecordBatch {
	i := l.indexOf(offset)
	if i < len(l.batches) && l.batches[i].BaseOffset <= offset {
		return l.batches[i]
	}
	return nil
}

// Batches returns every retained batch, oldest first, as a read-only view.
func (l *Log) Batches() []*protocol.RecordBatch {
	n := len(l.batches)
	return l.batches[:n:n]
}

// TruncateTo removes every record at or after offset, by whole batches (a batch containing
// offset goes entirely). The epoch cache is truncated from the end and the producer state
// rebuilt. A no-op when offset ≥ LEO; below the log start it is TruncateFullyAndStartAt
// (Kafka's truncateTo does the same). The truncated segment is fsynced so that a crash cannot
// bring back what was cut.
func (l *Log) TruncateTo(offset int64) {
	if offset >= l.leo {
		return
	}
	if offset < l.logStart {
		l.TruncateFullyAndStartAt(offset)
		return
	}
	k := l.indexOf(offset)
	newLEO := l.logStart
	if k > 0 {
		newLEO = l.batches[k-1].NextOffset()
	}
	for len(l.segs) > 1 && l.segs[len(l.segs)-1].base > newLEO {
		l.disk.Remove(l.segs[len(l.segs)-1].file)
		l.segs = l.segs[:len(l.segs)-1]
	}
	seg := &l.segs[len(l.segs)-1]
	if keep := k - seg.first; keep < seg.n {
		if keep < 0 { // impossible: the first segment starts at or below the log start
			panic(fmt.Sprintf("log %s: truncating to %d (batch %d) below segment %d (batch %d)", l.dir, offset, k, seg.base, seg.first))
		}
		l.disk.Truncate(seg.file, keep)
		l.disk.Flush(seg.file)
		seg.n = keep
		seg.size = l.posAt(k) - l.posAt(seg.first)
		seg.maxTime = 0
		for _, b := range l.batches[seg.first:k] {
			seg.maxTime = max(seg.maxTime, b.MaxTimestamp)
		}
	}
	l.endPos = l.posAt(k)
	l.batches = l.batches[:k:k]
	l.pos = l.pos[:k:k]
	l.leo = newLEO
	l.recoveryPoint = min(l.recoveryPoint, newLEO)
	l.cleanedTo = min(l.cleanedTo, newLEO)
	for off := range l.horizons { // deletions only: the order does not matter
		if off >= newLEO {
			delete(l.horizons, off)
		}
	}
	if l.epochs.truncateFromEnd(newLEO) {
		l.persistEpochs()
	}
	l.rebuildProducerState()
}

// TruncateFullyAndStartAt empties the log and restarts it at offset, as a follower does when
// the leader's log start is beyond its LEO: every segment is deleted, the epoch cache and the
// producer state are cleared, and the log start offset becomes offset (checkpointed).
// A negative offset counts as 0.
func (l *Log) TruncateFullyAndStartAt(offset int64) {
	offset = max(offset, 0)
	l.removeAllSegments()
	l.batches, l.pos, l.endPos = nil, nil, 0
	l.leo, l.logStart, l.recoveryPoint, l.cleanedTo = offset, offset, offset, 0
	l.cleanings, l.tombstonesDue, l.horizons = nil, -1, nil
	l.segs = append(l.segs[:0], l.newSegment(offset))
	if len(l.epochs.entries) > 0 {
		l.epochs.entries = l.epochs.entries[:0]
		l.persistEpochs()
	}
	l.producers.reset()
	l.persistLogStart()
}

func (l *Log) removeAllSegments() {
	for i := range l.segs {
		l.disk.Remove(l.segs[i].file)
	}
	l.segs = l.segs[:0]
}

// DeleteOldSegments applies retention (UnifiedLog.deleteOldSegments, cleanup.policy=delete) and
// returns how many segments went. Only non-active segments whose next segment starts at or below
// highWatermark are candidates, oldest first and while the rule holds: first retention.ms (now −
// the segment's largest timestamp > retention.ms), then retention.bytes (while the log stays at or
// above retention.bytes without the segment). The log start offset moves to the first remaining
// segment's base, the epoch cache is truncated from the start, and producers with no batch left are
// forgotten.
func (l *Log) DeleteOldSegments(now time.Duration, highWatermark int64) (deleted int) {
	l.now = now
	if !l.cfg.Delete { // cleanup.policy=compact alone: no retention
		return 0
	}
	deletable := func(i int) bool {
		return i < len(l.segs)-1 && l.segs[i+1].base <= highWatermark
	}
	if r := l.cfg.Retention; r >= 0 && r != config.Forever {
		for deletable(deleted) && now-l.segs[deleted].maxTime > r {
			deleted++
		}
	}
	if r := l.cfg.RetentionBytes; r >= 0 {
		diff := l.endPos - l.posAt(l.segs[deleted].first) - r
		for deletable(deleted) && diff-l.segs[deleted].size >= 0 {
			diff -= l.segs[deleted].size
			deleted++
		}
	}
	if deleted == 0 {
		return 0
	}
	l.done.RetentionRuns++
	l.done.SegmentsDeleted += deleted
	l.done.BytesDeleted += l.posAt(l.segs[deleted].first) - l.posAt(0)
	l.deleteFirstSegments(deleted)
	return deleted
}

// Housekeeping counts what retention and the log cleaner did to a log since it was opened:
// the runs that changed it and what they removed. The UI logs a run when a count moves.
type Housekeeping struct {
	RetentionRuns   int   // DeleteOldSegments calls that deleted segments
	SegmentsDeleted int   // segments they deleted
	BytesDeleted    int64 // and their bytes
	CleanerRuns     int   // cleanings that removed records or batches
	RecordsCleaned  int64 // records the cleaner removed (markers included)
	BytesCleaned    int64 // bytes by which it shrank the log
}

// Housekeeping is what retention and the cleaner did to the log since it was opened.
func (l *Log) Housekeeping() Housekeeping { return l.done }

// deleteFirstSegments removes segments [0, k) and moves the log start to segment k's base.
func (l *Log) deleteFirstSegments(k int) {
	for i := 0; i < k; i++ {
		l.disk.Remove(l.segs[i].file)
	}
	cut := l.segs[k].first
	l.batches = l.batches[cut:]
	l.pos = l.pos[cut:]
	n := copy(l.segs, l.segs[k:])
	l.segs = l.segs[:n]
	for i := range l.segs {
		l.segs[i].first -= cut
	}
	if b := l.segs[0].base; b > l.logStart {
		l.logStart = b
		l.persistLogStart()
	}
	if l.epochs.truncateFromStart(l.logStart) {
		l.persistEpochs()
	}
	l.producers.removeBefore(l.logStart)
}

// Flush fsyncs every segment written since the last flush (the checkpoints are fsynced when
// written).
func (l *Log) Flush() { l.flush(l.now) }

func (l *Log) flush(now time.Duration) {
	for i := range l.segs {
		if l.segs[i].dirty {
			l.disk.Flush(l.segs[i].file)
			l.segs[i].dirty = false
		}
	}
	l.recoveryPoint = l.leo
	l.lastFlush = now
}

// MaybeFlush applies the flush policy (flush.messages, flush.ms) and reports whether it
// flushed. Appends call it; the broker may also call it from a periodic timer, as Kafka's log
// flusher task does for flush.ms.
func (l *Log) MaybeFlush(now time.Duration) bool {
	l.now = now
	return l.maybeFlush(now)
}

func (l *Log) maybeFlush(now time.Duration) bool {
	if l.leo > l.recoveryPoint && (l.leo-l.recoveryPoint >= l.cfg.FlushMessages || now-l.lastFlush >= l.cfg.FlushInterval) {
		l.flush(now)
		return true
	}
	return false
}

// UnflushedMessages is the number of offsets appended since the last flush (LEO − recovery
// point). After Open it counts from the reopen.
func (l *Log) UnflushedMessages() int64 { return l.leo - l.recoveryPoint }

// Segments describes the segments, oldest first; the last one is active.
func (l *Log) Segments() []SegmentInfo {
	out := make([]SegmentInfo, len(l.segs))
	for i, s := range l.segs {
		next := s.base
		if s.n > 0 {
			next = l.batches[s.first+s.n-1].NextOffset()
		}
		out[i] = SegmentInfo{BaseOffset: s.base, NextOffset: next, SizeBytes: s.size, Batches: s.n}
	}
	return out
}

// ProducerLastSequence is what the log knows of a producer: its epoch and the last sequence
// of its last retained batch (NoSequence when none is retained, e.g. right after an epoch
// bump by a transaction marker).
func (l *Log) ProducerLastSequence(pid int64) (epoch int16, lastSeq int32, ok bool) {
	e := l.producers.producers[pid]
	if e == nil {
		return 0, protocol.NoSequence, false
	}
	return e.epoch, e.lastSeq(), true
}

// OngoingTxn reports whether producer pid has a transaction open in this log, and its producer
// epoch (ProducerStateEntry.currentTxnFirstOffset; ReplicaManager asks before it appends a
// transactional batch, KIP-890).
func (l *Log) OngoingTxn(pid int64) (epoch int16, ongoing bool) {
	e := l.producers.producers[pid]
	if e == nil {
		return noProducerEpoch, false
	}
	return e.epoch, e.currentTxnFirstOffset >= 0
}

// OpenTxn is a transaction open in a log: its producer, epoch and first offset.
type OpenTxn struct {
	ProducerID  int64
	Epoch       int16
	FirstOffset int64
}

// OpenTransactions lists the transactions open in this log, oldest first (DescribeProducers'
// currentTxnStartOffset per producer, KIP-664).
func (l *Log) OpenTransactions() []OpenTxn {
	var out []OpenTxn
	for pid, e := range l.producers.producers { // sorted below
		if e.currentTxnFirstOffset >= 0 {
			out = append(out, OpenTxn{ProducerID: pid, Epoch: e.epoch, FirstOffset: e.currentTxnFirstOffset})
		}
	}
	slices.SortFunc(out, func(a, b OpenTxn) int {
		return cmp.Or(cmp.Compare(a.FirstOffset, b.FirstOffset), cmp.Compare(a.ProducerID, b.ProducerID))
	})
	return out
}

// FirstUnstableOffset is the first offset of the oldest ongoing transaction, -1 with none
// (UnifiedLog.firstUnstableOffset).
func (l *Log) FirstUnstableOffset() int64 { return l.producers.firstUnstableOffset() }

// LastStableOffset is UnifiedLog.lastStableOffset: the first unstable offset, capped by the high
// watermark hw.
func (l *Log) LastStableOffset(hw int64) int64 {
	if f := l.producers.firstUnstableOffset(); f >= 0 && f < hw {
		return f
	}
	return hw
}

// AbortedTransactions lists the aborted transactions that overlap [from, upper)
// (UnifiedLog.collectAbortedTransactions): those whose ABORT marker is at or after from and whose
// first record is before upper.
func (l *Log) AbortedTransactions(from, upper int64) []protocol.AbortedTransaction {
	var out []protocol.AbortedTransaction
	for _, a := range l.producers.aborted {
		if a.lastOffset >= from && a.firstOffset < upper {
			out = append(out, protocol.AbortedTransaction{ProducerID: a.pid, FirstOffset: a.firstOffset})
		}
	}
	return out
}

// rebuildProducerState replays every retained batch (linear in the number of batches).
func (l *Log) rebuildProducerState() {
	l.producers.reset()
	for _, b := range l.batches {
		l.producers.update(b)
	}
}

// persistEpochs writes and fsyncs the leader-epoch checkpoint, as Kafka does on every change.
func (l *Log) persistEpochs() {
	es := make([]any, len(l.epochs.entries))
	for i, e := range l.epochs.entries {
		es[i] = e
	}
	l.disk.Write(l.epochFile, es)
	l.disk.Flush(l.epochFile)
}

// persistLogStart writes and fsyncs the log-start-offset checkpoint.
func (l *Log) persistLogStart() {
	l.disk.Write(l.startFile, []any{l.logStart})
	l.disk.Flush(l.startFile)
}
