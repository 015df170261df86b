// Package record writes and reads Kafka's record batches as bytes: the v2 format (magic 2) of
// DefaultRecordBatch and DefaultRecord, through franz-go's kmsg, compressed by Kafka's five
// codecs with Kafka's own framing, so the bytes are what a real client writes and reads.
//
// Behavior:
//   - Append/Encode turn a protocol.RecordBatch into one v2 batch: the 61-byte header (base
//     offset, length, partition leader epoch, magic, CRC-32C over attributes..end, attributes
//     with the codec in bits 0-2, transactional 0x10 and control 0x20, last offset delta,
//     timestamps, producer id/epoch, base sequence, record count) and the records, compressed
//     as one blob after the count. Timestamps are the batch's MaxTimestamp in milliseconds
//     (records have no timestamp of their own in the model). A value is the decimal text of
//     the model's int64, padded to value.bytes with words (AppendValue); an empty key is null.
//     A control batch holds ControlRecordKey/EndTxnMarker records whose type is the record's
//     Key (protocol.MarkerAbort 0, protocol.MarkerCommit 1) and coordinator epoch its Value.
//   - Codecs (CompressionType ids): none 0; gzip 1 (an RFC 1952 member, header as
//     GZIPOutputStream writes it, level 6); snappy 2 (snappy-java's xerial stream: a 16-byte
//     header, then 32 KiB chunks each behind a big-endian length; a raw block is read too, as
//     SnappyInputStream.readHeader allows); lz4 3 (the LZ4 frame of Kafka's
//     Lz4BlockOutputStream: 64 KiB independent blocks, no checksums, header 04 22 4d 18 60 40
//     82, KIP-57); zstd 4 (one frame at level 3). Reading accepts any valid framing of a codec
//     (franz-go's 4 MiB lz4 blocks with content checksum, several zstd frames).
//   - Decode checks what the broker checks before it trusts a batch (DefaultRecordBatch.ensureValid,
//     then the record iterator): size, magic 2, known codec, CRC-32C -> CORRUPT_MESSAGE; record
//     count, record lengths, trailing bytes -> INVALID_RECORD. Check does only the first part,
//     without decompressing, as a follower does on a replicated append. Recompress is the
//     leader's rebuild when a topic's compression.type differs from the batch's codec.
//   - Filter is the log cleaner's rewrite of a batch (MemoryRecords.filterTo): the kept records at
//     their offset deltas, the original last offset delta, the batch's codec, a new CRC; an
//     emptied batch kept for its producer is writeEmptyHeader's 61 bytes; a batch keeping a
//     tombstone carries KIP-534's delete horizon as its base timestamp. Decode reads such
//     batches into protocol.RecordBatch.Gaps. A tombstone's null value carries its number in a
//     kafkasim.value header.
//   - Not modelled: other record headers (ignored on read), per-record timestamps,
//     LogAppendTime, compression levels (compression.gzip.level and friends), and
//     franz-go's fallback to no compression when compressing does not pay (Java never falls
//     back, and neither does kafkasim). Decode answers these with a plain error saying so.
//
// # Integration
//
// Where encoding happens. The producer's sender encodes each batch once, when it closes it
// (broker/client/sender.go prepare), with the producer's compression.type and value.bytes, and
// sends the bytes in the ProduceRequest; a retry sends the same bytes. The leader validates them
// (broker/log validate: Check, then per LogValidator a codec the topic does not want goes
// through Recompress; the in-place path only rewrites the base offset and the partition leader
// epoch, bytes 0-7 and 12-15, which lie outside the CRC, on a copy: protocol.StampBytes).
// Batches the broker builds (transaction markers, coordinator records) are encoded by the
// leader in the topic's codec. Followers receive the leader's bytes in FetchResponses and
// append them unchanged after Check; recovery after a crash stops at the first batch that fails
// Check. protocol.RecordBatch carries the bytes (Bytes) beside their model view (Records, or
// the compact FirstValue and NumValues of a run of keyless values: the decode of the bytes,
// which the producer already holds), so no replica or consumer decodes a batch the cluster
// encoded; a batch arriving as bytes alone is decoded once by the leader, into the explicit
// form. Encode writes both forms of the same records to the same bytes.
//
// How the log stores bytes. A segment keeps its batches as []byte slices plus the few header
// fields the log reads on every step (base offset, last offset, epoch, max timestamp, producer
// id/epoch/sequence), parsed once at append, so truncation, leader-epoch lookups and producer
// state never decode records. A fetch answers with the slices from the batch holding the fetch
// offset (whole batches, as LogSegment.read does). The model view a consumer, the checker and
// the TUI need (keys and int64 values) comes from Decode, memoized on the shared batch so a
// batch is decoded once per run however many replicas store it and consumers read it.
//
// Sizes. segment.bytes, retention.bytes and fetch byte limits count real stored bytes,
// LOG_OVERHEAD plus the length field of each batch after compression (RecordBatch.SizeBytes of
// a batch with bytes); the producer's batch.size still counts its estimate of the records
// before compression, as RecordAccumulator does.
// Measured here: an uncompressed record of a 5-byte key and value.bytes=0 takes about 18 bytes
// in a 100-record batch (78 alone); with value.bytes=1000, 1015 bytes uncompressed, 256 with
// gzip, 260 zstd, 378 snappy, 412 lz4 (ratios 2.5-4 on the padding text). The minimum
// segment.bytes of 1 MiB (KIP-1030, enforced as in Kafka 4.x) then holds a realistic number of
// batches; scenarios that teach with kilobyte segments set internal.segment.bytes, as Kafka's
// own tests do (broker/config/segment.go).
//
// The speed budget. The uncompressed classroom (kafkasim bench: 1,000 records/s, RF 3, one
// consumer, 60 simulated seconds, sim_speed ≈ 370 on this machine, so ≈ 160 ms of wall time
// for 60,000 records) must keep ≥ 85% of its speed: ≤ 24 ms more, ≈ 400 ns per record for
// everything. Measured per record without compression: encode 41 ns in 100-record batches and
// 148 ns for a batch of one; Check 2.4 ns; decode 180 ns in 100-record batches, 370 ns for one.
// So: encode once, Check (never decode) on the leader and followers, decode once per batch
// (memoized), and the budget holds even for one-record batches. Compressed runs pay the codec
// (a few µs per record at value.bytes=1000, see BenchmarkEncode) and are not bound by it.
package record
