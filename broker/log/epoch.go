package log

// EpochEntry is one leader-epoch cache entry: the first offset written in Epoch (KIP-101). It is
// also the entry type of the "<dir>/leader-epoch-checkpoint" file.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is Kafka's LeaderEpochFileCache: entries with strictly increasing epochs and
// start offsets. Persisting is the Log's job; every mutator reports whether it changed
// anything.
type epochCache struct {
	entries []EpochEntry
}

func (c *epochCache) latest() (EpochEntry, bool) {
	if len(c.entries) == 0 {
		return EpochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

func (c *epochCache) latestEpoch() int32 {
	if e, ok := c.latest(); ok {
		return e.Epoch
	}
	return -1
}

// assign is LeaderEpochFileCache.assign after KIP-279 (PR #5678): an update is needed unless
// the epoch is the latest one at the same or a later start offset; the new entry first removes
// every entry it conflicts with (an epoch ≥ its epoch or a start offset ≥ its start offset),
// so both columns stay strictly increasing.
func (c *epochCache) assign(epoch int32, startOffset int64) bool {
	if epoch < 0 || startOffset < 0 {
		return false
	}
	if last, ok := c.latest(); ok && last.Epoch == epoch && startOffset >= last.StartOffset {
		return false
	}
	n := len(c.entries)
	for n > 0 && (c.entries[n-1].Epoch >= epoch || c.entries[n-1].StartOffset >= startOffset) {
		n--
	}
	c.entries = append(c.entries[:n], EpochEntry{Epoch: epoch, StartOffset: startOffset})
	return true
}

// truncateFromEnd removes the entries starting at or after endOffset (truncation of the log to
// endOffset).
func (c *epochCache) truncateFromEnd(endOffset int64) bool {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].StartOffset >= endOffset {
		n--
	}
	if n == len(c.entries) {
		return false
	}
	c.entries = c.entries[:n]
	return true
}

// truncateFromStart removes the entries starting at or before startOffset and keeps the last of
// them moved to startOffset, so the epoch in force at the new log start stays known.
func (c *epochCache) truncateFromStart(startOffset int64) bool {
	k := 0
	for k < len(c.entries) && c.entries[k].StartOffset <= startOffset {
		k++
	}
	if k == 0 {
		return false
	}
	kept := EpochEntry{Epoch: c.entries[k-1].Epoch, StartOffset: startOffset}
	if k == 1 && c.entries[0] == kept {
		return false
	}
	n := copy(c.entries[1:], c.entries[k:])
	c.entries[0] = kept
	c.entries = c.entries[:1+n]
	return true
}

// endOffsetFor is LeaderEpochFileCache.endOffsetFor (KIP-279): for the requested epoch,
// the largest cached epoch ≤ it and the start offset of the next cached epoch, or the LEO when
// it is the latest. Below the earliest cached epoch the answer is (requested, earliest start
// offset) (PR #5678). An undefined request, an empty cache or an epoch above the latest (which
// Kafka notes "should never be hit") answer (-1, -1).
func (c *epochCache) endOffsetFor(requested int32, leo int64) (int32, int64) {
	if requested < 0 || len(c.entries) == 0 {
		return -1, -1
	}
	if last := c.entries[len(c.entries)-1]; last.Epoch == requested {
		return requested, leo
	} else if requested > last.Epoch {
		return -1, -1
	}
	// First entry with an epoch above the requested one (exists: requested < latest).
	lo, hi := 0, len(c.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.entries[m].Epoch > requested {
			hi = m
		} else {
			lo = m + 1
		}
	}
	higher := c.entries[lo]
	if lo == 0 {
		return requested, higher.StartOffset
	}
	return c.entries[lo-1].Epoch, higher.StartOffset
}
