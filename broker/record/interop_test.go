package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
)

// Reference: franz-go's consumer (kgo.ProcessFetchPartition) is an independent reader of the v2
// format: its own CRC check, decompressors and record parsing. Batches kafkasim writes, in every
// codec and concatenated as a fetch response carries them, must read back as the same records.
func TestFranzGoReadsOurBatches(t *testing.T) {
	for _, c := range Codecs {
		for _, vb := range []int{0, 200} {
			t.Run(fmt.Sprintf("%s/value.bytes=%d", c, vb), func(t *testing.T) {
				var fetch []byte
				var want []*protocol.RecordBatch
				next := int64(0)
				for _, name := range []string{"one unkeyed", "stamped idempotent", "transactional", "many"} {
					b := *samples()[name]
					b.BaseOffset, next = next, next+b.Count()
					want = append(want, &b)
					var err error
					if fetch, err = Append(fetch, &b, Options{Codec: c, ValueBytes: vb}); err != nil {
						t.Fatal(err)
					}
				}
				fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t"},
					&kmsg.FetchResponseTopicPartition{RecordBatches: fetch, HighWatermark: next, LastStableOffset: next},
					kgo.DefaultDecompressor(), nil)
				if fp.Err != nil {
					t.Fatal(fp.Err)
				}
				i := 0
				for _, b := range want {
					for j, r := range b.Records {
						if i >= len(fp.Records) {
							t.Fatalf("franz-go read %d records; want %d", len(fp.Records), next)
						}
						got := fp.Records[i]
						i++
						v, err := ParseValue(got.Value)
						if err != nil || v != r.Value || string(got.Key) != r.Key || got.Offset != b.BaseOffset+int64(j) {
							t.Fatalf("record %d: offset %d key %q value %q; want %d %q %d", i, got.Offset, got.Key, got.Value, b.BaseOffset+int64(j), r.Key, r.Value)
						}
						if (r.Key == "") != (got.Key == nil) {
							t.Fatalf("record %d: key %v; an empty model key is a null Kafka key", i, got.Key)
						}
						if got.ProducerID != b.ProducerID || got.ProducerEpoch != b.ProducerEpoch || got.LeaderEpoch != b.PartitionLeaderEpoch {
							t.Fatalf("record %d: pid %d epoch %d leader epoch %d; want %d %d %d", i, got.ProducerID, got.ProducerEpoch, got.LeaderEpoch, b.ProducerID, b.ProducerEpoch, b.PartitionLeaderEpoch)
						}
						if !got.Timestamp.Equal(time.UnixMilli(b.MaxTimestamp.Milliseconds())) {
							t.Fatalf("record %d: timestamp %v; want %v", i, got.Timestamp, b.MaxTimestamp)
						}
						if got.Attrs.CompressionType() != uint8(c) || got.Attrs.IsTransactional() != b.Transactional {
							t.Fatalf("record %d: codec %d transactional %v; want %d %v", i, got.Attrs.CompressionType(), got.Attrs.IsTransactional(), c, b.Transactional)
						}
					}
				}
				if i != len(fp.Records) {
					t.Fatalf("franz-go read %d records; want %d", len(fp.Records), i)
				}
			})
		}
	}
}

// The control batches kafkasim writes are transaction markers franz-go recognizes.
func TestFranzGoReadsOurMarkers(t *testing.T) {
	for _, name := range []string{"commit marker", "abort marker"} {
		b := samples()[name]
		enc, _ := Encode(b, Options{})
		fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{KeepControlRecords: true},
			&kmsg.FetchResponseTopicPartition{RecordBatches: enc, HighWatermark: b.NextOffset()}, kgo.DefaultDecompressor(), nil)
		if fp.Err != nil || len(fp.Records) != 1 {
			t.Fatalf("%s: %v, %d records", name, fp.Err, len(fp.Records))
		}
		r := fp.Records[0]
		var k kmsg.ControlRecordKey
		var m kmsg.EndTxnMarker
		if !r.Attrs.IsControl() || k.ReadFrom(r.Key) != nil || m.ReadFrom(r.Value) != nil || k.Type != markerType(b.Records[0].Key) || int64(m.CoordinatorEpoch) != b.Records[0].Value {
			t.Fatalf("%s: control %v key %x value %x", name, r.Attrs.IsControl(), r.Key, r.Value)
		}
		if len(enc) != 78 {
			t.Errorf("%s: %d bytes; want 78 (MemoryRecords.writeEndTransactionalMarker)", name, len(enc))
		}
	}
}

// A batch whose CRC does not match is refused by franz-go too: the check is the same.
func TestFranzGoRefusesOurCorruptBatch(t *testing.T) {
	enc, _ := Encode(samples()["stamped idempotent"], Options{Codec: Gzip})
	enc[len(enc)-3] ^= 1
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{}, &kmsg.FetchResponseTopicPartition{RecordBatches: enc}, kgo.DefaultDecompressor(), nil)
	if fp.Err == nil {
		t.Fatal("franz-go accepted a batch with a bad CRC")
	}
	wantCode(t, func() error { _, _, _, err := Decode(enc); return err }(), CORRUPT_MESSAGE, "the same batch")
}

// franzBatch encodes b the way franz-go's producer does (sink.go, recBatch.appendTo): kmsg
// records, compressed by kgo's own compressor, framed with kmsg and the CRC-32C.
func franzBatch(t *testing.T, b *protocol.RecordBatch, codec kgo.CompressionCodec, valueBytes int) ([]byte, kgo.CompressionCodecType) {
	t.Helper()
	var raw []byte
	for i, r := range b.Records {
		rec := kmsg.Record{OffsetDelta: int32(i), Value: AppendValue(nil, r.Value, valueBytes)}
		if r.Key != "" {
			rec.Key = []byte(r.Key)
		}
		// Length by kmsg: encode once, measure, encode again.
		probe := rec.AppendTo(nil)
		rec.Length = int32(len(probe) - 1)
		raw = rec.AppendTo(raw)
	}
	used := kgo.CodecNone
	if comp, err := kgo.DefaultCompressor(codec); err != nil {
		t.Fatal(err)
	} else if comp != nil {
		var out []byte
		out, used = comp.Compress(new(bytes.Buffer), raw)
		raw = bytes.Clone(out)
	}
	ts := b.MaxTimestamp.Milliseconds()
	rb := kmsg.RecordBatch{
		FirstOffset: b.BaseOffset, PartitionLeaderEpoch: b.PartitionLeaderEpoch, Magic: 2,
		Attributes: int16(used), LastOffsetDelta: int32(len(b.Records)) - 1, FirstTimestamp: ts, MaxTimestamp: ts,
		ProducerID: b.ProducerID, ProducerEpoch: b.ProducerEpoch, FirstSequence: b.BaseSequence,
		NumRecords: int32(len(b.Records)), Records: raw,
	}
	if b.Transactional {
		rb.Attributes |= AttrTransactional
	}
	enc := rb.AppendTo(nil)
	rb.Length = int32(len(enc) - 12)
	rb.CRC = int32(crc32.Checksum(enc[21:], crc32.MakeTable(crc32.Castagnoli)))
	return rb.AppendTo(nil), used
}

// Reference: the other direction. franz-go's producer framing differs from Java's: lz4 with
// 4 MiB blocks and a content checksum, zstd with a 64 KiB window, length varints it measures
// itself. kafkasim must read every codec it writes.
func TestWeReadFranzGoBatches(t *testing.T) {
	codecs := map[Codec]kgo.CompressionCodec{None: kgo.NoCompression(), Gzip: kgo.GzipCompression(),
		Snappy: kgo.SnappyCompression(), LZ4: kgo.Lz4Compression(), Zstd: kgo.ZstdCompression()}
	for _, c := range Codecs {
		for name, b := range samples() {
			if b.Control || len(b.Records) == 0 {
				continue // franz-go's producer writes neither markers nor empty batches
			}
			t.Run(fmt.Sprintf("%s/%s", c, name), func(t *testing.T) {
				enc, used := franzBatch(t, b, codecs[c], 300)
				if Codec(used) != c {
					t.Fatalf("franz-go compressed with %d; want %s (it falls back to none when compression does not pay)", used, c)
				}
				got, codec, n, err := Decode(enc)
				if err != nil {
					t.Fatal(err)
				}
				if codec != c || n != len(enc) {
					t.Fatalf("codec %s size %d; want %s %d", codec, n, c, len(enc))
				}
				want := *b
				want.MaxTimestamp = time.Duration(b.MaxTimestamp.Milliseconds()) * time.Millisecond
				if fmt.Sprint(got) != fmt.Sprint(&want) {
					t.Fatalf("decoded %+v; want %+v", got, &want)
				}
			})
		}
	}
}

// Snappy arrives raw (one block, no xerial header) from older franz-go and other Go clients;
// SnappyInputStream.readHeader falls back to a raw block, and so do we.
func TestWeReadRawSnappy(t *testing.T) {
	b := samples()["many"]
	xerial, _ := Encode(b, Options{Codec: Snappy, ValueBytes: 40})
	plain, _ := Encode(b, Options{ValueBytes: 40})
	raw := append(bytes.Clone(xerial[:BatchOverhead]), s2.EncodeSnappy(nil, plain[BatchOverhead:])...)
	finish(raw)
	got, _, _, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(b) {
		t.Fatal("raw snappy batch decoded to different records")
	}
	// And the record bytes survive a recompression to Kafka's framing.
	out, err := Recompress(raw, Zstd)
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(out[BatchOverhead:]) != 0x28b52ffd {
		t.Fatalf("recompressed records start %x; want the zstd magic", out[BatchOverhead:BatchOverhead+4])
	}
}
