package sim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A trace file is a kept trace as text: one header line naming the run, then one line per
// event as Trace.Describe words it ("TIME KIND node=N …"). `kafkasim run --trace` writes it
// with WriteTraceFile; `kafkasim tui --trace` reads it with a TraceFileReader, replaying the
// run its header names or browsing its lines.

// traceFileMark starts a trace file's header line.
const traceFileMark = "# kafkasim trace"

// TraceFileHeader names the run a trace file records: the same scenario and seed give the same
// trace, so the header is enough to replay it.
type TraceFileHeader struct {
	Scenario string // the scenario's file name
	Seed     uint64
	Hash     uint64 // Trace.Hash
	Events   int    // Trace.Len
}

// WriteTraceFile writes t as a trace file: the header naming scenario and seed, then every
// event, one a line. t must be kept (Trace.Kept).
func WriteTraceFile(w io.Writer, scenario string, seed uint64, t *Trace) error {
	bw := bufio.NewWriter(w)
	WriteTraceHeader(bw, scenario, seed, t)
	var line []byte
	for i := 0; i < t.Len(); i++ {
		e := t.At(i)
		line = append(t.AppendDescription(line[:0], &e), '\n')
		bw.Write(line)
	}
	return bw.Flush()
}

// WriteTraceHeader writes a trace file's header line for the finished run t: what goes ahead
// of the event lines that Options.TraceLines received.
func WriteTraceHeader(w io.Writer, scenario string, seed uint64, t *Trace) error {
	_, err := fmt.Fprintf(w, "%s scenario=%s seed=%d hash=%016x events=%d\n", traceFileMark, scenario, seed, t.Hash(), t.Len())
	return err
}

// TraceLine is one event line of a trace file.
type TraceLine struct {
	Kind string // the EventKind's name: deliver, fault, observe, …
	Text string // the whole line, as Trace.Describe wrote it
}

// maxTraceLine bounds one line of a trace file (64 MiB). An event line is short (a message
// described in words), but a line may be long (a big batch, a long caption) and must still
// read; a line longer than this is refused with FILE:LINE rather than read into memory without
// end. A variable so that a test can lower it.
var maxTraceLine = 64 << 20

// TraceFileReader reads a trace file: its header, then its event lines in order. Lines that
// start with # (the header among them) are not events.
type TraceFileReader struct {
	name      string // the file's name, for errors
	br        *bufio.Reader
	eof       bool
	n         int // lines read
	header    TraceFileHeader
	hasHeader bool
	pending   *string // the first line, when it is not the header
	err       error
}

// NewTraceFileReader reads the header of the trace file r, called name in errors.
func NewTraceFileReader(name string, r io.Reader) *TraceFileReader {
	tr := &TraceFileReader{name: name, br: bufio.NewReaderSize(r, 1<<16)}
	first, ok := tr.line()
	if !ok {
		return tr
	}
	tr.header, tr.hasHeader = parseTraceFileHeader(first)
	if !strings.HasPrefix(first, "#") {
		tr.pending = &first
	}
	return tr
}

// Header is the run the file records; ok is false when the file has no header naming both a
// scenario and a seed.
func (r *TraceFileReader) Header() (h TraceFileHeader, ok bool) { return r.header, r.hasHeader }

// Next returns the next event line; ok is false at the end of the file or at an error (Err).
// A line without at least a time and a kind is an error naming FILE:LINE.
func (r *TraceFileReader) Next() (l TraceLine, ok bool) {
	for r.err == nil {
		var text string
		switch {
		case r.pending != nil:
			text, r.pending = *r.pending, nil
		default:
			var ok bool
			if text, ok = r.line(); !ok {
				return TraceLine{}, false
			}
		}
		if strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 {
			r.err = fmt.Errorf("%s:%d: not a trace line (want TIME KIND node=N …)", r.name, r.n)
			return TraceLine{}, false
		}
		return TraceLine{Kind: f[1], Text: text}, true
	}
	return TraceLine{}, false
}

// line reads the next line, of any length up to maxTraceLine, without its end of line (\n or
// \r\n). ok is false at the end of the file or at an error, which it sets in r.err naming
// FILE:LINE.
func (r *TraceFileReader) line() (string, bool) {
	if r.eof || r.err != nil {
		return "", false
	}
	var buf []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxTraceLine {
			r.err = fmt.Errorf("%s:%d: line longer than %d MiB", r.name, r.n+1, maxTraceLine>>20)
			return "", false
		}
		buf = append(buf, chunk...)
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
		case io.EOF:
			r.eof = true
			if len(buf) == 0 {
				return "", false
			}
		default:
			r.err = fmt.Errorf("%s:%d: %w", r.name, r.n+1, err)
			return "", false
		}
		r.n++
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		return string(buf), true
	}
}

// Err is the error that stopped Next, nil at the end of the file.
func (r *TraceFileReader) Err() error { return r.err }

// parseTraceFileHeader reads "# kafkasim trace scenario=F seed=N hash=H events=E".
func parseTraceFileHeader(line string) (h TraceFileHeader, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), traceFileMark+" ")
	if !found {
		return TraceFileHeader{}, false
	}
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "scenario":
			h.Scenario = v
		case "seed":
			if h.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
				return TraceFileHeader{}, false
			}
		case "hash":
			h.Hash, _ = strconv.ParseUint(v, 16, 64)
		case "events":
			h.Events, _ = strconv.Atoi(v)
		}
	}
	return h, h.Scenario != "" && h.Seed != 0
}
