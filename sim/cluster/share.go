package cluster

// ShareHistory makes c's record of client operations share, with p's, the chunks that hold
// the same operations (history.Log.Share): a timeline the terminal UI forks re-simulates its
// parent's course, so its history repeats the parent's up to the fork. What c reads does not
// change. It returns the bytes c no longer holds on its own.
func (c *Cluster) ShareHistory(p *Cluster) int64 { return c.history.Share(&p.history) }

// SharedHistoryBytes is how many bytes of c's history are p's chunks (ShareHistory).
func (c *Cluster) SharedHistoryBytes(p *Cluster) int64 { return c.history.SharedBytes(&p.history) }
