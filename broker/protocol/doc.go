// Package protocol holds the messages nodes exchange, as plain structs named after the Kafka
// API they model (ProduceRequest, FetchRequest, AlterPartitionRequest, …), and Kafka's error
// codes with their real names.
//
// Messages travel through the simulated network as Go values, never serialized. They are
// immutable once sent: a receiver may keep references (record batches are shared between a
// leader's log, fetch responses and followers' logs) but never modifies them.
//
// Every request carries a CorrelationID that its response echoes, as in Kafka's request header.
// A request whose response does not come back within the client's timeout is treated as failed
// with an unknown outcome, as a real client does when a connection breaks.
package protocol

// TopicPartition names one partition, shown as TOPIC/INDEX.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "/" + itoa(int64(tp.Partition)) }

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Sentinels used across the API, as in Kafka.
const (
	NoLeader       int32 = -1 // leader id of a partition without a leader
	UnknownEpoch   int32 = -1 // leader epoch not known / not sent
	UnknownOffset  int64 = -1
	ConsumerID     int32 = -1 // ReplicaID of a fetch from a consumer
	NoProducerID   int64 = -1
	NoSequence     int32 = -1
	LatestOffset   int64 = -1 // ListOffsets timestamp for the end of the log
	EarliestOffset int64 = -2 // ListOffsets timestamp for the log start
)
