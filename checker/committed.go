package checker

import "slices"

// committedLog is the records of a partition known committed, from offset start to end, kept
// in runs: consecutive offsets of one leader epoch whose values count up by one are one run.
// A producer numbers its values in order and a batch holds consecutive ones, so a run is
// usually a batch or more: a few numbers where a slice of every record of a half-hour run
// took 16 bytes a record.
type committedLog struct {
	start, end int64
	runs       []recRun // by offset; runs[i] covers runs[i].off up to runs[i+1].off (the last, up to end)
}

// recRun is a run of records: the first's offset and value, and their leader epoch.
type recRun struct {
	off, value int64
	epoch      int32
}

// reset empties the log, which starts again at offset start.
func (c *committedLog) reset(start int64) {
	c.start, c.end, c.runs = start, start, c.runs[:0]
}

// add appends the record at offset end.
func (c *committedLog) add(r recID) {
	if n := len(c.runs); n > 0 {
		last := &c.runs[n-1]
		if last.epoch == r.epoch && last.value+(c.end-last.off) == r.value {
			c.end++
			return
		}
	}
	c.runs = append(c.runs, recRun{off: c.end, value: r.value, epoch: r.epoch})
	c.end++
}

// at is the record at offset off (start ≤ off < end).
func (c *committedLog) at(off int64) recID {
	i, found := slices.BinarySearchFunc(c.runs, off, func(r recRun, off int64) int {
		switch {
		case r.off < off:
			return -1
		case r.off > off:
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	r := c.runs[i]
	return recID{value: r.value + (off - r.off), epoch: r.epoch}
}

// dropBefore forgets the records below offset start (start ≤ end), as retention does.
func (c *committedLog) dropBefore(start int64) {
	i, found := slices.BinarySearchFunc(c.runs, start, func(r recRun, off int64) int {
		switch {
		case r.off < off:
			return -1
		case r.off > off:
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	if i > 0 {
		c.runs = append(c.runs[:0], c.runs[i:]...)
	}
	c.start = start
}
