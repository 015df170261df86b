// Package log is one replica's partition log: Kafka's UnifiedLog with its LogSegments, the
// LeaderEpochFileCache and the ProducerStateManager, as a pure data structure. The broker drives
// it; it sends no messages and sets no timers. Time is handed in as `now`.
//
// What it models:
//
//   - Offsets: log start offset, log end offset (LEO, the next offset), batches stamped by the
//     leader with offsets and its leader epoch (protocol.RecordBatch.Stamp; batches are never
//     modified once built).
//
//   - Bytes: a batch is stored as Kafka's v2 bytes (broker/record). A leader validates what it
//     appends as LogValidator does (CRC-32C, magic, codec: CORRUPT_MESSAGE; records:
//     INVALID_RECORD), recompresses into the topic's compression.type when it is a codec, and
//     encodes the batches the broker builds; a follower checks the CRC of replicated batches.
//     Sizes are the bytes' length.
//
//   - Segments: files "<dir>/<20-digit base offset>.log" holding batches, rolled on
//     segment.bytes and segment.ms; a rolled segment is flushed. Every batch is also kept in
//     memory (one slice, segments hold index bounds); the disk is the durable copy and Open
//     rebuilds everything from it alone.
//
//   - Flush policy: flush.messages and flush.ms (Kafka's defaults never flush: durability comes
//     from replication, which is what several historic bugs turn on). A power loss drops what
//     was not flushed.
//
//   - Leader-epoch cache ("<dir>/leader-epoch-checkpoint", written and fsynced on every change)
//     with the KIP-279 / PR #5678 assign rule, truncateFromEnd, truncateFromStart and
//     endOffsetFor (OffsetsForLeaderEpoch).
//
//   - Log start offset checkpoint ("<dir>/log-start-offset", written and fsynced on change).
//
//   - Producer state for idempotence (KIP-98): per producer id its epoch and the metadata of its
//     last 5 batches (ProducerStateEntry.NUM_BATCHES_TO_RETAIN); client appends are checked
//     (duplicate, INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER), replicated appends are
//     not. The state is rebuilt by replaying the batches on Open and after truncation.
//
//   - Retention: delete-policy by retention.ms (the segment's largest timestamp) and
//     retention.bytes, only for non-active segments below the high watermark.
//
//   - Recovery on Open (LogLoader): segments are read, a gap ends the log (later data is
//     dropped), a batch whose CRC fails ends it too (LogSegment.recover), epochs are re-assigned from the batches, the epoch cache is truncated to the LEO
//     and to the log start offset.
//
//   - Compaction (cleanup.policy=compact, cleaner.go): the LogCleaner's pass keeps each key's
//     last record and removes superseded records below the first uncleanable offset (inside
//     batches, as MemoryRecords.filterTo), when the dirty ratio reaches
//     min.cleanable.dirty.ratio; tombstones stay delete.retention.ms; an aborted transaction's
//     records are removed and a transaction's marker goes delete.retention.ms after its
//     transaction's last record did (CleanedTransactionMetadata); offsets stay, so a compacted log
//     has gaps between batches, which its followers and its reload accept.
//
// What it leaves out: offset and time indexes (lookups are binary searches over the in-memory
// batches), DeleteRecords (the log start offset is always a batch boundary), producer-state
// snapshots (replay instead; a producer whose batches were all deleted by retention is
// forgotten, which Kafka does too), producer id expiration, the cleaner checkpoint file, and
// tiered storage.
package log
