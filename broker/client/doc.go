// Package client models Kafka's clients as simulated nodes: a producer (Java producer
// semantics of Kafka 4.x), a consumer with manually assigned partitions, and an admin client.
// They talk to brokers and controllers only through broker/protocol messages, do no I/O and
// read no clock (node.Env), and record every operation in the history (broker/history) through
// env.Observe when its outcome is known.
//
// Producer (Java's KafkaProducer, KIP-98 idempotence): metadata discovery and refresh, Kafka's built-in partitioner
// (KIP-794: murmur2 for keyed records, sticky batches for unkeyed ones), round-robin and
// key-hash partitioners, a record accumulator with batch.size and linger.ms, drain per leader
// with max.in.flight.requests.per.connection, acks 0/1/all, request and delivery timeouts,
// retries backing off from retry.backoff.ms to retry.backoff.max.ms with jitter (KIP-580; also
// the metadata refresh and, from reconnect.backoff.ms, the reconnect back-off), idempotence
// (InitProducerId, per-partition sequences kept across retries; KIP-360 as Java's TransactionManager does it: an OUT_OF_ORDER_SEQUENCE_NUMBER
// or UNKNOWN_PRODUCER_ID that shows a real gap bumps the epoch locally and restarts the
// unfinished batches' sequences at 0, which are retried, not failed; a batch expired after a
// retry leaves its partition's sequences unresolved until its other batches are done), and the
// fail / unknown classification of final errors (an error that may follow the leader's append,
// such as NOT_ENOUGH_REPLICAS_AFTER_APPEND or a timeout, is unknown).
// Its parts are one type each: workload (the records the application makes), partitioner,
// accumulator (RecordAccumulator), transactionManager (producer id and sequences), sender
// (Sender), outcomes (the send callback).
//
// Consumer (Java's KafkaConsumer with assign(), KIP-320): all partitions of its topics (one or several), initial position by
// auto.offset.reset through ListOffsets, one Fetch in flight per leader, isolation.level,
// records below the position skipped, one poll op per partition per fetch, position
// validation with OffsetForLeaderEpoch after a leader-epoch change and truncation detection
// (KIP-320, KAFKA-7747), OFFSET_OUT_OF_RANGE resets.
//
// Admin: one command at a time to the controller it believes active, retried on
// NOT_CONTROLLER and timeouts.
//
// Left out: consumer groups and committed offsets, transactions and read_committed filtering
// of aborted records, compression, max.block.ms (records wait for metadata until
// delivery.timeout.ms), adaptive partitioning by broker load (KIP-794's queue-size weights),
// max.poll.records and byte limits, connection state (a request timeout stands for a broken
// connection).
package client
