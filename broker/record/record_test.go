package record

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/protocol"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// samples are the batches every codec must carry: the shapes the model makes today.
func samples() map[string]*protocol.RecordBatch {
	many := make([]protocol.Record, 3000) // > 64 KiB padded: several lz4 blocks and xerial chunks
	for i := range many {
		many[i] = protocol.Record{Key: fmt.Sprintf("k%d", i%17), Value: int64(1_000_000 + i)}
	}
	return map[string]*protocol.RecordBatch{
		"one unkeyed": {BaseOffset: 0, PartitionLeaderEpoch: -1, ProducerID: protocol.NoProducerID, ProducerEpoch: -1,
			BaseSequence: protocol.NoSequence, MaxTimestamp: 1500 * time.Millisecond, Records: []protocol.Record{{Value: 42}}},
		"stamped idempotent": {BaseOffset: 1234567, PartitionLeaderEpoch: 7, ProducerID: 9001, ProducerEpoch: 3,
			BaseSequence: 2147483000, MaxTimestamp: 86400 * time.Second,
			Records: []protocol.Record{{Key: "a", Value: -5}, {Key: "b", Value: 0}, {Key: "group\x00{\"json\":1}", Value: 9223372036854775807}}},
		"transactional": {BaseOffset: 10, PartitionLeaderEpoch: 2, ProducerID: 5, ProducerEpoch: 1, BaseSequence: 0,
			MaxTimestamp: time.Second, Transactional: true, Records: []protocol.Record{{Value: 1}, {Value: 2}}},
		"commit marker": {BaseOffset: 12, PartitionLeaderEpoch: 2, ProducerID: 5, ProducerEpoch: 1, BaseSequence: protocol.NoSequence,
			MaxTimestamp: 2 * time.Second, Control: true, Transactional: true, Records: []protocol.Record{{Key: protocol.MarkerCommit, Value: 4}}},
		"abort marker": {BaseOffset: 13, ProducerID: 5, ProducerEpoch: 1, BaseSequence: protocol.NoSequence,
			Control: true, Transactional: true, Records: []protocol.Record{{Key: protocol.MarkerAbort}}},
		"empty": {BaseOffset: 3, ProducerID: protocol.NoProducerID, BaseSequence: protocol.NoSequence, Records: []protocol.Record{}},
		"many":  {BaseOffset: 100, PartitionLeaderEpoch: 1, ProducerID: 77, ProducerEpoch: 0, BaseSequence: 40, MaxTimestamp: time.Hour, Records: many},
	}
}

func TestRoundTripEveryCodec(t *testing.T) {
	for name, b := range samples() {
		for _, c := range Codecs {
			for _, vb := range []int{0, 100, 1000} {
				t.Run(fmt.Sprintf("%s/%s/value.bytes=%d", name, c, vb), func(t *testing.T) {
					enc, err := Encode(b, Options{Codec: c, ValueBytes: vb})
					if err != nil {
						t.Fatal(err)
					}
					got, codec, n, err := Decode(enc)
					if err != nil {
						t.Fatal(err)
					}
					if codec != c || n != len(enc) {
						t.Fatalf("codec %s size %d; want %s %d", codec, n, c, len(enc))
					}
					if !reflect.DeepEqual(got, b) {
						t.Fatalf("decoded %+v; want %+v", got, b)
					}
					again, _ := Encode(b, Options{Codec: c, ValueBytes: vb})
					if !bytes.Equal(again, enc) {
						t.Fatal("two encodes of the same batch differ: encoding is not deterministic")
					}
				})
			}
		}
	}
}

// Reference: DefaultRecord javadoc; the "hello" batch of 73 bytes, here with the 5-byte value
// "12345".
func TestGoldenOneRecordBatch(t *testing.T) {
	b := &protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1,
		Records: []protocol.Record{{Value: 12345}}}
	enc, err := Encode(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != 73 {
		t.Fatalf("size %d; want 73", len(enc))
	}
	if l := binary.BigEndian.Uint32(enc[8:]); l != 61 {
		t.Fatalf("batchLength %d; want 61", l)
	}
	if got, want := hex.EncodeToString(enc[61:]), "160000000"+"10a3132333435"+"00"; got != want {
		t.Fatalf("record bytes %s; want %s", got, want)
	}
	if enc[16] != 2 {
		t.Fatalf("magic %d; want 2", enc[16])
	}
}

// Reference: KIP-57 (the LZ4 frame header Kafka writes), snappy-java's SnappyCodec header, RFC
// 1952 and RFC 8878 magics.
func TestCodecFraming(t *testing.T) {
	b := samples()["many"]
	want := map[Codec]string{
		Gzip:   "1f8b0800000000000000", // no mtime, XFL 0, OS 0 as GZIPOutputStream writes
		Snappy: "82534e41505059000000000100000001",
		LZ4:    "04224d18604082",
		Zstd:   "28b52ffd",
	}
	for c, prefix := range want {
		enc, err := Encode(b, Options{Codec: c, ValueBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(enc[BatchOverhead:]); !strings.HasPrefix(got, prefix) {
			t.Errorf("%s records start %s; want %s", c, got[:len(prefix)], prefix)
		}
		if got := CodecOf(enc); got != c {
			t.Errorf("CodecOf = %s; want %s", got, c)
		}
	}
	if enc, _ := Encode(b, Options{Codec: LZ4, ValueBytes: 100}); !bytes.HasSuffix(enc, []byte{0, 0, 0, 0}) {
		t.Errorf("lz4 frame does not end with the EndMark")
	}
}

func TestCompressionShrinksPaddedValues(t *testing.T) {
	b := samples()["many"]
	plain, _ := Encode(b, Options{ValueBytes: 1000})
	for _, c := range Codecs[1:] {
		enc, _ := Encode(b, Options{Codec: c, ValueBytes: 1000})
		ratio := float64(len(plain)) / float64(len(enc))
		t.Logf("%-6s %8d bytes, ratio %.2f", c, len(enc), ratio)
		if ratio < 1.5 || ratio > 20 {
			t.Errorf("%s ratio %.2f; want a realistic 1.5..20 for text values", c, ratio)
		}
	}
}

func TestCorruptBatchIsCorruptMessage(t *testing.T) {
	for _, c := range Codecs {
		enc, _ := Encode(samples()["stamped idempotent"], Options{Codec: c, ValueBytes: 50})
		for i := attributesOffset; i < len(enc); i++ {
			bad := bytes.Clone(enc)
			bad[i] ^= 0x10
			_, _, _, err := Decode(bad)
			wantCode(t, err, CORRUPT_MESSAGE, fmt.Sprintf("%s, byte %d flipped", c, i))
		}
		for i := range BatchOverhead {
			if _, _, _, err := Decode(enc[:i]); err == nil {
				t.Errorf("%s cut to %d bytes: decoded", c, i)
			}
		}
		_, _, _, err := Decode(enc[:len(enc)-1])
		wantCode(t, err, CORRUPT_MESSAGE, "truncated batch")
	}
}

// The base offset and the partition leader epoch lie before the CRC: the leader stamps them
// without touching it (DefaultRecordBatch.setLastOffset, setPartitionLeaderEpoch).
func TestStampingOutsideTheCRC(t *testing.T) {
	enc, _ := Encode(samples()["transactional"], Options{Codec: Zstd})
	binary.BigEndian.PutUint64(enc[0:], 999)
	binary.BigEndian.PutUint32(enc[12:], 42)
	got, _, _, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.BaseOffset != 999 || got.PartitionLeaderEpoch != 42 {
		t.Fatalf("offset %d epoch %d; want 999 42", got.BaseOffset, got.PartitionLeaderEpoch)
	}
}

func TestUnknownCodec(t *testing.T) {
	enc, _ := Encode(samples()["one unkeyed"], Options{})
	for id := 5; id <= 7; id++ {
		bad := bytes.Clone(enc)
		bad[attributesOffset+1] |= byte(id)
		finish(bad)
		_, _, _, err := Decode(bad)
		wantCode(t, err, CORRUPT_MESSAGE, fmt.Sprintf("codec id %d", id))
		if err != nil && !strings.Contains(err.Error(), "zstd") {
			t.Errorf("error %q does not list the valid codecs", err)
		}
	}
	if _, err := Encode(samples()["one unkeyed"], Options{Codec: 6}); err == nil || !strings.Contains(err.Error(), "4 zstd") {
		t.Errorf("Encode with codec 6: %v; want an error naming the valid codecs", err)
	}
	if _, err := Recompress(enc, 7); err == nil {
		t.Error("Recompress to codec 7: no error")
	}
}

// A record whose length claims more or fewer bytes than its fields use is INVALID_RECORD
// (DefaultRecord.readFrom), and so is a count that does not match the records.
func TestInvalidRecords(t *testing.T) {
	b := samples()["stamped idempotent"]
	enc, _ := Encode(b, Options{})
	cases := map[string]func([]byte) []byte{
		"record length too long": func(e []byte) []byte { e[BatchOverhead] += 2; return e },
		"record length too short": func(e []byte) []byte {
			e[BatchOverhead] -= 2
			return e
		},
		"count too high":   func(e []byte) []byte { binary.BigEndian.PutUint32(e[57:], 4); return e },
		"count too low":    func(e []byte) []byte { binary.BigEndian.PutUint32(e[57:], 2); return e },
		"count negative":   func(e []byte) []byte { binary.BigEndian.PutUint32(e[57:], 0xffffffff); return e },
		"trailing garbage": func(e []byte) []byte { return append(e, 0, 0, 0) },
		"garbage in record": func(e []byte) []byte {
			// Grow the first record by one byte after its header count: the fields end early.
			l := int(e[BatchOverhead]) / 2
			out := append(bytes.Clone(e[:BatchOverhead+1+l]), 0)
			out = append(out, e[BatchOverhead+1+l:]...)
			out[BatchOverhead] = byte((l + 1) * 2)
			return out
		},
	}
	for name, mutate := range cases {
		bad := mutate(bytes.Clone(enc))
		finish(bad)
		_, _, _, err := Decode(bad)
		wantCode(t, err, INVALID_RECORD, name)
	}
}

// A tombstone (DefaultRecord with a null value, the deletion of its key on a compacted topic)
// decodes as one: kafkasim's carries its number in a header, a real client's has none (-1).
// Both round-trip, and kmsg reads kafkasim's value as null.
func TestTombstoneRecordHasNullValue(t *testing.T) {
	enc, _ := Encode(samples()["one unkeyed"], Options{})
	tomb := bytes.Clone(enc[:BatchOverhead])
	tomb = append(tomb, 0x0c, 0, 0, 0, 1, 1, 0) // length 6, null key, null value, no headers
	finish(tomb)
	b, _, _, err := Decode(tomb)
	if err != nil || len(b.Records) != 1 || !b.Records[0].Tombstone || b.Records[0].Value != -1 {
		t.Fatalf("a client's tombstone decodes as %+v, %v", b, err)
	}
	ours := &protocol.RecordBatch{ProducerID: -1, BaseSequence: -1, Records: []protocol.Record{{Key: "k1", Value: 7}, {Key: "k1", Value: 8, Tombstone: true}}}
	for _, c := range []Codec{None, Gzip, Snappy, LZ4, Zstd} {
		enc, err := Encode(ours, Options{Codec: c, ValueBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		got, _, _, err := Decode(enc)
		if err != nil || !slices.Equal(got.Records, ours.Records) {
			t.Fatalf("%s: %+v, %v; want %+v", c, got, err, ours.Records)
		}
		var kb kmsg.RecordBatch
		if err := kb.ReadFrom(enc); err != nil {
			t.Fatal(err)
		}
		if c == None {
			var r kmsg.Record
			data := kb.Records
			n, _ := readRecord(&r, data)
			if err := r.ReadFrom(data[n:]); err != nil || r.Value != nil || len(r.Headers) != 1 || r.Headers[0].Key != TombstoneHeader {
				t.Fatalf("kmsg reads the tombstone as %+v, %v", r, err)
			}
		}
	}
}

func wantCode(t *testing.T, err error, code protocol.ErrorCode, what string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %v; want %d", what, err, code)
		return
	}
	if e.Code != code {
		t.Errorf("%s: %v; want code %d", what, err, code)
	}
}

// Reference: LogValidator's rebuild path (buildRecordsAndAssignOffsets) and the in-place path.
func TestRecompressEveryPair(t *testing.T) {
	b := samples()["many"]
	for _, from := range Codecs {
		src, _ := Encode(b, Options{Codec: from, ValueBytes: 64})
		for _, to := range Codecs {
			out, err := Recompress(src, to)
			if err != nil {
				t.Fatalf("%s→%s: %v", from, to, err)
			}
			if from == to && &out[0] != &src[0] {
				t.Errorf("%s→%s: copied; want the same bytes (in place)", from, to)
			}
			if want, _ := Encode(b, Options{Codec: to, ValueBytes: 64}); !bytes.Equal(out, want) {
				t.Errorf("%s→%s: bytes differ from a producer encoding in %s", from, to, to)
			}
		}
	}
}

func TestParseNames(t *testing.T) {
	for _, c := range Codecs {
		if got, err := ParseCodec(c.String()); err != nil || got != c {
			t.Errorf("ParseCodec(%q) = %v, %v", c, got, err)
		}
	}
	if _, err := ParseCodec("brotli"); err == nil || !strings.Contains(err.Error(), "none, gzip, snappy, lz4, zstd") {
		t.Errorf("ParseCodec(brotli): %v; want an error listing the codecs", err)
	}
	if _, err := ParseCodec("uncompressed"); err == nil {
		t.Error("the producer accepted `uncompressed`, a topic-only name")
	}
	tcs := map[string]TopicCompression{"producer": {Producer: true}, "uncompressed": {}, "lz4": {Codec: LZ4}, "zstd": {Codec: Zstd}}
	for name, want := range tcs {
		got, err := ParseTopicCompression(name)
		if err != nil || got != want || got.String() != name {
			t.Errorf("ParseTopicCompression(%q) = %+v, %v", name, got, err)
		}
	}
	for _, bad := range []string{"none", "brotli", ""} {
		if _, err := ParseTopicCompression(bad); err == nil || !strings.Contains(err.Error(), "producer") {
			t.Errorf("ParseTopicCompression(%q): %v; want an error listing the topic types", bad, err)
		}
	}
	if got := (TopicCompression{Producer: true}).Target(Snappy); got != Snappy {
		t.Errorf("producer target %s; want snappy", got)
	}
	if got := (TopicCompression{Codec: Gzip}).Target(Snappy); got != Gzip {
		t.Errorf("gzip topic target %s; want gzip", got)
	}
}

func TestValuePadding(t *testing.T) {
	for _, v := range []int64{0, 7, -123, 1 << 40, -9223372036854775808} {
		for _, n := range []int{0, 1, 5, 20, 100, 1000} {
			b := AppendValue(nil, v, n)
			if num := len(fmt.Sprint(v)); len(b) != max(n, num) {
				t.Errorf("AppendValue(%d, %d) is %d bytes; want %d", v, n, len(b), max(n, num))
			}
			got, err := ParseValue(b)
			if err != nil || got != v {
				t.Errorf("ParseValue(%q) = %d, %v; want %d", b, got, err, v)
			}
			if !bytes.Equal(b, AppendValue(nil, v, n)) {
				t.Errorf("AppendValue(%d, %d) is not deterministic", v, n)
			}
		}
	}
	for _, bad := range []string{"", "x", "12x", "-", " 1", "99999999999999999999"} {
		if _, err := ParseValue([]byte(bad)); err == nil {
			t.Errorf("ParseValue(%q) accepted", bad)
		}
	}
}

// LogValidator's LogAppendTime path rewrites the timestamps and the CRC: the batch stays valid
// and decodes with the new time.
func TestSetTimestampsKeepsTheBatchValid(t *testing.T) {
	b := samples()["many"]
	enc, err := Encode(b, Options{Codec: LZ4})
	if err != nil {
		t.Fatal(err)
	}
	SetTimestamps(enc, 90*time.Second)
	d, _, _, err := Decode(enc)
	if err != nil {
		t.Fatalf("after SetTimestamps: %v", err)
	}
	if d.MaxTimestamp != 90*time.Second || len(d.Records) != len(b.Records) {
		t.Fatalf("decoded max timestamp %v with %d records; want 1m30s with %d", d.MaxTimestamp, len(d.Records), len(b.Records))
	}
}

// UncompressedSize: a batch compressed with any codec measures what it measures uncompressed.
func TestUncompressedSizeOfEveryCodec(t *testing.T) {
	b := &protocol.RecordBatch{ProducerID: -1, BaseSequence: -1}
	for i := range 50 {
		b.Records = append(b.Records, protocol.Record{Key: "k", Value: int64(i)})
	}
	plain, _ := Encode(b, Options{ValueBytes: 500})
	for _, c := range []Codec{None, Gzip, Snappy, LZ4, Zstd} {
		enc, _ := Encode(b, Options{Codec: c, ValueBytes: 500})
		n, err := UncompressedSize(enc)
		if err != nil || n != len(plain) {
			t.Errorf("%s: %d, %v; want %d", c, n, err, len(plain))
		}
		if c != None && len(enc)*2 > len(plain) {
			t.Errorf("%s: %d bytes of %d: the padding text should compress at least 2:1", c, len(enc), len(plain))
		}
	}
}
