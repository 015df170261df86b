package protocol

// Behavior: broker lifecycle in KRaft (KIP-631, KIP-841): BrokerRegistration (API key 62)
// gives the broker its broker epoch; BrokerHeartbeat (63) keeps its session, reports how far it
// has replayed the metadata log (unfencing waits for that), asks to be fenced or to shut down
// (controlled shutdown). A broker that restarts after a clean shutdown registers with its
// previous broker epoch; any other restart is unclean (KAFKA-15586).

// BrokerRegistrationRequest registers a broker with the active controller.
type BrokerRegistrationRequest struct {
	CorrelationID       int64
	BrokerID            int32
	IncarnationID       uint64 // new at every process start
	PreviousBrokerEpoch int64  // the epoch of the last session if it shut down cleanly, else -1
}

// BrokerRegistrationResponse answers BrokerRegistrationRequest.
type BrokerRegistrationResponse struct {
	CorrelationID int64
	Error         ErrorCode
	BrokerEpoch   int64
}

// BrokerHeartbeatRequest is sent every broker.heartbeat.interval.ms.
type BrokerHeartbeatRequest struct {
	CorrelationID         int64
	BrokerID              int32
	BrokerEpoch           int64
	CurrentMetadataOffset int64
	WantFence             bool
	WantShutDown          bool
}

// BrokerHeartbeatResponse answers BrokerHeartbeatRequest.
type BrokerHeartbeatResponse struct {
	CorrelationID  int64
	Error          ErrorCode
	IsCaughtUp     bool
	IsFenced       bool
	ShouldShutDown bool
}
