// Package gateway lets real Kafka clients (franz-go, sarama, kafka-go, librdkafka's kcat, a
// Java application) into a simulated cluster: kafkasim serve. Each simulated broker gets a
// loopback listener of its own; the clients speak Kafka's wire protocol, decoded and encoded by
// franz-go's kmsg.
//
// Two halves, split where determinism demands:
//
//   - Outside the world (server.go): listeners, one goroutine per connection, and the pacing
//     loop that advances the world with the wall clock (--speed). A connection's frames are
//     read one at a time; one that is not a request served here (garbage, an unknown key, a
//     version outside the advertised range, a body kmsg cannot read) closes the connection
//     before anything reaches the world. ApiVersions is answered here, from a static table
//     (frame.go). Every other frame is handed to the pacing loop, which injects it at the
//     virtual time it drains it and records it (session.go): the world only ever sees recorded
//     inputs, so `kafkasim run --replay` re-runs a session without sockets to the same trace.
//   - Inside the world (conn.go, groups.go): one node per client connection, a client machine
//     on the simulated network. It turns each Kafka request into the model's protocol message,
//     sends it to its broker over the simulated network (so latency, cuts, partitions and
//     crashes apply), and turns the answer back into a Kafka response, observed as a trace
//     event the pacing loop writes to the socket. It records the client's sends, polls and
//     group commits in the history for the checker (a poll belongs to the group of the member
//     of its client.id that owns the partition, groups.go). A broker's death resets the connection, and its port
//     refuses new ones until it restarts.
//
// Attached (attach.go): kafkasim tui --listen opens the same listeners on the terminal UI's
// world, which the UI steps; it calls Pump each frame to bring the requests in, and paces the
// world to the wall clock itself. Nothing is recorded then.
//
// Records: the producer's v2 batch is checked (size, magic, codec, CRC-32C) and kept as it
// came (store.go); the model sees one record per record with a value id of its own, which the
// checker follows. Fetches answer with the producer's own bytes, stamped with the offset and
// leader epoch the log gave them, so keys, values, headers, timestamps and the codec round-trip
// byte-exact; batches written by the scenario's own producers are encoded by broker/record.
//
// Transactions (txn.go): a transaction.version 1 producer's AddPartitionsToTxn, AddOffsetsToTxn,
// TxnOffsetCommit and EndTxn go to the model's coordinators; read_committed fetches get the last
// stable offset and the aborted transactions. A transactional send enters the history when its
// transaction ends.
//
// Fetch sessions (fetchsession.go): a client's KIP-227 session goes to the leader's
// FetchSessionCache, so consumers that use them (franz-go) fetch incrementally.
//
// Not modelled: transaction.version 2 (KIP-890) over the wire, topic ids on the wire
// (Produce and Fetch stop at v12), ListOffsets by timestamp (answered as the log end), quotas
// and throttling, SASL and TLS, more than one batch per partition in a Produce, a classic
// group's protocol other than "consumer" (its metadata is passed through undecoded).
package gateway
