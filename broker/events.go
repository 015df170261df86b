package broker

import "kafkasim/broker/protocol"

// Events a broker records in the trace through node.Env.Observe. They say what changed inside
// the broker, for the trace, the checker and the terminal UI.

// BecameLeader: this broker leads TP in Epoch from log end offset StartOffset.
type BecameLeader struct {
	Broker      int32
	TP          protocol.TopicPartition
	Epoch       int32
	StartOffset int64
	HW          int64
}

// BecameFollower: this broker follows Leader for TP in Epoch (Leader -1: the partition is
// offline and nobody is fetched).
type BecameFollower struct {
	Broker int32
	TP     protocol.TopicPartition
	Leader int32
	Epoch  int32
}

// Truncated: the replica's log was cut from From to To (records at offsets ≥ To removed).
type Truncated struct {
	Broker int32
	TP     protocol.TopicPartition
	From   int64
	To     int64
	Reason string // "diverging-epoch", "high-watermark", "out-of-range"
}

// IsrProposed: the leader sent an AlterPartition for TP.
type IsrProposed struct {
	Broker int32
	TP     protocol.TopicPartition
	ISR    []int32
	Expand bool
}

// Registered: the broker registered with the controller and got Epoch.
type Registered struct {
	Broker int32
	Epoch  int64
	Clean  bool // it restarted after a clean shutdown (KAFKA-15586)
}

// TraceArg gives the trace a number to hash for each event.
func (e *BecameLeader) TraceArg() int64   { return int64(e.Epoch)<<32 | int64(uint32(e.StartOffset)) }
func (e *BecameFollower) TraceArg() int64 { return int64(e.Epoch)<<32 | int64(uint32(e.Leader)) }
func (e *Truncated) TraceArg() int64      { return e.From<<32 | e.To&0xffffffff }
func (e *IsrProposed) TraceArg() int64    { return int64(len(e.ISR)) }
func (e *Registered) TraceArg() int64     { return e.Epoch }
