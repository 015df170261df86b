package quorum

import (
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// epochStart is one entry of the leader-epoch cache: the first offset written in an epoch.
type epochStart struct {
	epoch int32
	start int64
}

// metaLog is the metadata log in memory, mirrored entry for entry to LogFile on disk. Entry i is
// at offset i (no snapshots, so the log starts at 0).
type metaLog struct {
	disk    node.Disk
	entries []protocol.MetadataEntry
	epochs  []epochStart // ascending; the leader-epoch cache of KIP-101
}

// recoverLog rebuilds the log from what the disk holds. A file that does not read as a log
// (wrong type, offsets out of order, epochs going down) is cut at the first bad entry.
func recoverLog(disk node.Disk) metaLog {
	l := metaLog{disk: disk}
	stored := disk.Read(LogFile)
	for i, v := range stored {
		var e protocol.MetadataEntry
		switch x := v.(type) {
		case protocol.MetadataEntry:
			e = x
		case *protocol.MetadataEntry:
			if x == nil {
				l.cutDisk(i)
				return l
			}
			e = *x
		default:
			l.cutDisk(i)
			return l
		}
		if e.Offset != int64(i) || e.Epoch < l.lastEpoch() {
			l.cutDisk(i)
			return l
		}
		l.push(e)
	}
	return l
}

func (l *metaLog) cutDisk(n int) {
	l.disk.Truncate(LogFile, n)
	l.disk.Flush(LogFile)
}

// end is the log end offset (LEO).
func (l *metaLog) end() int64 { return int64(len(l.entries)) }

// lastEpoch is the epoch of the last entry, 0 for an empty log.
func (l *metaLog) lastEpoch() int32 {
	if len(l.epochs) == 0 {
		return 0
	}
	return l.epochs[len(l.epochs)-1].epoch
}

// push appends in memory only.
func (l *metaLog) push(e protocol.MetadataEntry) {
	if len(l.epochs) == 0 || l.epochs[len(l.epochs)-1].epoch != e.Epoch {
		l.epochs = append(l.epochs, epochStart{epoch: e.Epoch, start: e.Offset})
	}
	l.entries = append(l.entries, e)
}

// append adds e at the end in memory and in the page cache; flush makes it durable.
func (l *metaLog) append(e protocol.MetadataEntry) {
	l.push(e)
	l.disk.Append(LogFile, e)
}

func (l *metaLog) flush() { l.disk.Flush(LogFile) }

// truncate keeps the first n entries. The slice is clipped so that later appends never write
// into an array that fetch responses in flight still reference.
func (l *metaLog) truncate(n int64) {
	if n < 0 {
		n = 0
	}
	if n >= l.end() {
		return
	}
	l.entries = l.entries[:n:n]
	for len(l.epochs) > 0 && l.epochs[len(l.epochs)-1].start >= n {
		l.epochs = l.epochs[:len(l.epochs)-1]
	}
	l.disk.Truncate(LogFile, int(n))
}

// endOffsetFor answers OffsetsForLeaderEpoch locally (LeaderEpochFileCache.endOffsetFor): the
// largest epoch ≤ epoch in the log and the offset where it ends (the start of the next epoch,
// or the LEO). Without such an epoch it returns (UnknownEpoch, 0).
func (l *metaLog) endOffsetFor(epoch int32) (int32, int64) {
	for i := len(l.epochs) - 1; i >= 0; i-- {
		if l.epochs[i].epoch <= epoch {
			if i+1 < len(l.epochs) {
				return l.epochs[i].epoch, l.epochs[i+1].start
			}
			return l.epochs[i].epoch, l.end()
		}
	}
	return protocol.UnknownEpoch, 0
}

// view returns entries [from, to) clipped to the log, as a read-only slice whose capacity is
// clipped too (an append by the caller cannot reach the log).
func (l *metaLog) view(from, to int64) []protocol.MetadataEntry {
	if from < 0 {
		from = 0
	}
	if to > l.end() {
		to = l.end()
	}
	if from >= to {
		return nil
	}
	return l.entries[from:to:to]
}

// divergence checks a fetch as a partition leader does (Partition.fetchRecords, KIP-595's
// DivergingEpoch): it returns the diverging (epoch, end offset) when the fetcher's log does not
// match this one at FetchOffset, and ok=false when it matches.
func (l *metaLog) divergence(fetchOffset int64, lastFetchedEpoch int32) (protocol.EpochEndOffset, bool) {
	if fetchOffset <= 0 {
		return protocol.NoDivergence, false
	}
	e, end := l.endOffsetFor(lastFetchedEpoch)
	if e < lastFetchedEpoch || end < fetchOffset {
		return protocol.EpochEndOffset{Epoch: e, EndOffset: end}, true
	}
	return protocol.NoDivergence, false
}

// applyFetch applies a successful fetch response on a follower or observer: truncation on a
// DivergingEpoch, or the entries appended at the LEO, then flushes, and returns the new high
// watermark given the old one. ok is false when the response does not fit the log (a stale
// answer): nothing changed.
func (l *metaLog) applyFetch(resp *protocol.QuorumFetchResponse, hw int64) (newHW int64, ok bool) {
	if d := resp.DivergingEpoch; d.EndOffset >= 0 {
		// KIP-279: truncate to the largest common prefix, as far as this answer shows it.
		_, localEnd := l.endOffsetFor(d.Epoch)
		t := min(d.EndOffset, localEnd, l.end())
		l.truncate(t)
		l.flush()
		return min(hw, t), true
	}
	if len(resp.Entries) > 0 {
		if resp.Entries[0].Offset != l.end() {
			return hw, false
		}
		for i := range resp.Entries {
			e := resp.Entries[i]
			if e.Offset != l.end() || e.Epoch < l.lastEpoch() {
				break // malformed answer: keep the valid prefix
			}
			l.append(e)
		}
		l.flush()
	}
	if h := min(resp.HighWatermark, l.end()); h > hw {
		hw = h
	}
	return hw, true
}
