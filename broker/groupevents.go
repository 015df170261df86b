package broker

// The coordinator's host records its events (group.Watch) in the trace.

func (h coordinatorHost) Observe(ev any) { h.b.env.Observe(ev) }
func (h coordinatorHost) Node() int32    { return h.b.id }
