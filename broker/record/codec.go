package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec is a compression codec as Kafka numbers it in the low three bits of a v2 batch's
// attributes (CompressionType: NONE 0, GZIP 1, SNAPPY 2, LZ4 3, ZSTD 4).
type Codec int8

const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

// Codecs lists every codec in attribute order.
var Codecs = []Codec{None, Gzip, Snappy, LZ4, Zstd}

// Batch attribute bits (DefaultRecordBatch.computeAttributes), counted from bit 0.
const (
	AttrCodecMask       int16 = 0x07 // CompressionType id
	AttrLogAppendTime   int16 = 0x08 // TimestampType.LOG_APPEND_TIME
	AttrTransactional   int16 = 0x10
	AttrControl         int16 = 0x20
	AttrDeleteHorizonMs int16 = 0x40 // KIP-534: baseTimestamp holds the delete horizon
)

// String is the codec's name as the producer's compression.type spells it (CompressionType.name).
func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Valid reports whether c is one of Kafka's five codecs.
func (c Codec) Valid() bool { return c >= None && c <= Zstd }

// producerNames are the values of the producer's compression.type (ProducerConfig,
// CompressionType.forName).
const producerNames = "none, gzip, snappy, lz4, zstd"

// ParseCodec reads a producer's compression.type. An unknown name is an error that lists the
// valid ones.
func ParseCodec(name string) (Codec, error) {
	for _, c := range Codecs {
		if c.String() == name {
			return c, nil
		}
	}
	return None, fmt.Errorf("compression.type %q is not a codec (valid: %s)", name, producerNames)
}

// TopicCompression is a topic's compression.type (BrokerCompressionType): `producer` keeps the
// codec each batch arrived with; `uncompressed` or a codec name makes the leader store every
// batch in that codec, recompressing those that differ (LogValidator's rebuild path).
type TopicCompression struct {
	Producer bool  // `producer`: keep the batch's own codec (the default)
	Codec    Codec // the target codec when !Producer
}

// topicNames are the values of a topic's compression.type (BrokerCompressionType).
const topicNames = "uncompressed, zstd, lz4, snappy, gzip, producer"

// ParseTopicCompression reads a topic's compression.type. Note that the topic spells no
// compression `uncompressed`, the producer `none` (BrokerCompressionType.UNCOMPRESSED).
func ParseTopicCompression(name string) (TopicCompression, error) {
	switch name {
	case "producer":
		return TopicCompression{Producer: true}, nil
	case "uncompressed":
		return TopicCompression{Codec: None}, nil
	case "none":
	default:
		if c, err := ParseCodec(name); err == nil {
			return TopicCompression{Codec: c}, nil
		}
	}
	return TopicCompression{}, fmt.Errorf("compression.type %q is not a topic compression type (valid: %s)", name, topicNames)
}

// String is the topic-config spelling.
func (t TopicCompression) String() string {
	switch {
	case t.Producer:
		return "producer"
	case t.Codec == None:
		return "uncompressed"
	}
	return t.Codec.String()
}

// Target is the codec the leader stores a batch that arrived in source with
// (BrokerCompressionType.targetCompression).
func (t TopicCompression) Target(source Codec) Codec {
	if t.Producer {
		return source
	}
	return t.Codec
}

// MaxDecompressedBytes bounds what one batch may inflate to, so a hostile batch cannot exhaust
// memory (franz-go's decompressor caps at math.MaxInt32). Kafka's default max.message.bytes is
// 1 MiB of compressed batch; 64 MiB leaves room for the best text ratios.
const MaxDecompressedBytes = 64 << 20

// snappyMaxRatio bounds the length a snappy block may claim: snappy's densest element, a 3-byte
// copy of 64 bytes, expands about 21 times, so a larger claim is a lie, refused before the
// claimed buffer is allocated.
const snappyMaxRatio = 32

// Kafka's framing constants.
var (
	// xerialMagic opens snappy-java's stream format (SnappyCodec.MAGIC_HEADER): the bytes
	// 0x82 "SNAPPY" 0x00, then version 1 and min-compatible version 1, both int32 big-endian.
	xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
)

// xerialBlockSize is SnappyOutputStream's default block size: each chunk holds this much
// input.
const xerialBlockSize = 32 << 10

// gzip, lz4 and zstd keep reusable state; the pools make the package safe to call from
// parallel sweeps. Every codec's output depends only on its input, never on what a pooled
// writer compressed before, so reuse keeps runs deterministic.
var (
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression) // Deflater.DEFAULT_COMPRESSION
		return w
	}}
	gzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}
	lz4Writers  = sync.Pool{New: func() any {
		w := lz4.NewWriter(nil)
		// Kafka's Lz4BlockOutputStream: 64 KiB independent blocks, no block or content
		// checksum; the default level 9 uses lz4-java's fast compressor.
		_ = w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false),
			lz4.BlockChecksumOption(false), lz4.CompressionLevelOption(lz4.Fast), lz4.ConcurrencyOption(1))
		return w
	}}
	lz4Readers = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
	buffers    = sync.Pool{New: func() any { return new(bytes.Buffer) }}

	// zstd's EncodeAll and DecodeAll may be called concurrently; neither starts goroutines.
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), // level 3
		zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(MaxDecompressedBytes))
)

// compress appends src compressed with c in Kafka's framing to dst.
func compress(dst, src []byte, c Codec) ([]byte, error) {
	switch c {
	case None:
		return append(dst, src...), nil
	case Gzip:
		buf := buffers.Get().(*bytes.Buffer)
		defer buffers.Put(buf)
		buf.Reset()
		w := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(w)
		w.Reset(buf)
		w.Header.OS = 0 // GZIPOutputStream writes OS 0 where Go writes 255 (unknown)
		if _, err := w.Write(src); err != nil {
			return dst, err
		}
		if err := w.Close(); err != nil {
			return dst, err
		}
		return append(dst, buf.Bytes()...), nil
	case Snappy:
		return appendXerial(dst, src), nil
	case LZ4:
		buf := buffers.Get().(*bytes.Buffer)
		defer buffers.Put(buf)
		buf.Reset()
		w := lz4Writers.Get().(*lz4.Writer)
		defer lz4Writers.Put(w)
		w.Reset(buf)
		if _, err := w.Write(src); err != nil {
			return dst, err
		}
		if err := w.Close(); err != nil {
			return dst, err
		}
		return append(dst, buf.Bytes()...), nil
	case Zstd:
		return zstdEncoder.EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("unknown compression codec %d", int8(c))
}

// appendXerial frames src as snappy-java's SnappyOutputStream does: the 16-byte header, then
// per 32 KiB of input a big-endian int32 length and one raw snappy block.
func appendXerial(dst, src []byte) []byte {
	dst = append(dst, xerialHeader...)
	for len(src) > 0 {
		n := min(xerialBlockSize, len(src))
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = append(dst, make([]byte, s2.MaxEncodedLen(n))...)
		block := s2.EncodeSnappy(dst[at+4:], src[:n])
		binary.BigEndian.PutUint32(dst[at:], uint32(len(block)))
		dst = dst[:at+4+len(block)]
		src = src[n:]
	}
	return dst
}

var errTooLarge = fmt.Errorf("decompressed records exceed %d bytes", MaxDecompressedBytes)

// decompress returns src decompressed with c. Snappy accepts xerial framing and, as
// SnappyInputStream.readHeader does, a single raw block without it.
func decompress(src []byte, c Codec) ([]byte, error) {
	switch c {
	case None:
		return src, nil
	case Gzip:
		r := gzipReaders.Get().(*gzip.Reader)
		defer gzipReaders.Put(r)
		if err := r.Reset(bytes.NewReader(src)); err != nil {
			return nil, err
		}
		return readBounded(r)
	case Snappy:
		if len(src) >= len(xerialHeader) && bytes.HasPrefix(src, xerialHeader[:8]) {
			return decodeXerial(src[len(xerialHeader):])
		}
		return decodeSnappyBlock(nil, src)
	case LZ4:
		r := lz4Readers.Get().(*lz4.Reader)
		defer lz4Readers.Put(r)
		r.Reset(bytes.NewReader(src))
		return readBounded(r)
	case Zstd:
		return zstdDecoder.DecodeAll(src, nil)
	}
	return nil, fmt.Errorf("unknown compression codec %d", int8(c))
}

func readBounded(r io.Reader) ([]byte, error) {
	var out bytes.Buffer
	n, err := out.ReadFrom(io.LimitReader(r, MaxDecompressedBytes+1))
	if err != nil {
		return nil, err
	}
	if n > MaxDecompressedBytes {
		return nil, errTooLarge
	}
	return out.Bytes(), nil
}

func decodeSnappyBlock(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	if n > MaxDecompressedBytes-len(dst) {
		return nil, errTooLarge
	}
	if n > snappyMaxRatio*len(block)+64 {
		return nil, fmt.Errorf("snappy block of %d bytes claims %d decoded bytes", len(block), n)
	}
	out, err := s2.Decode(make([]byte, n), block)
	if err != nil {
		return nil, err
	}
	return append(dst, out...), nil
}

var errXerial = errors.New("malformed xerial snappy framing")

// decodeXerial reads the chunks after the xerial header (SnappyInputStream.hasNextChunk).
func decodeXerial(src []byte) ([]byte, error) {
	var out []byte
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, errXerial
		}
		n := int32(binary.BigEndian.Uint32(src))
		src = src[4:]
		if n < 0 || int(n) > len(src) {
			return nil, errXerial
		}
		var err error
		if out, err = decodeSnappyBlock(out, src[:n]); err != nil {
			return nil, err
		}
		src = src[n:]
	}
	return out, nil
}

// codecNames is the list for error messages.
func codecNames() string {
	names := make([]string, len(Codecs))
	for i, c := range Codecs {
		names[i] = fmt.Sprintf("%d %s", int8(c), c)
	}
	return strings.Join(names, ", ")
}

// UncompressedSize is the size the batch at the start of src would have uncompressed: its
// header plus its records decompressed (the batch's own size when it is not compressed). The
// TUI reads a topic's compression ratio from it.
func UncompressedSize(src []byte) (int, error) {
	size, err := Size(src)
	if err != nil {
		return 0, err
	}
	c := CodecOf(src)
	if c == None {
		return size, nil
	}
	data, err := decompress(src[BatchOverhead:size], c)
	if err != nil {
		return 0, corrupt("Records could not be decompressed with %s: %v", c, err)
	}
	return BatchOverhead + len(data), nil
}
