// Package record writes and reads Kafka's record batches as bytes: the v2 format (magic 2) of
// DefaultRecordBatch and DefaultRecord, through franz-go's kmsg, compressed by the five codecs
// with Kafka's own framing.
package record
