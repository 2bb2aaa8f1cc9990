package recording

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// maxEventSeconds bounds event times (about 31 years), which keeps every
// time exact to the microsecond through a float64.
const maxEventSeconds = 1e9

// Event is one recorded event.
type Event struct {
	Time time.Duration // since the start of the recording, to the microsecond
	// Kind is 'o' output, 'i' input, 'r' resize ("COLSxROWS"), 'm'
	// marker, or one of Lockbox's own: 'c' the exec command, 's' a signal
	// the client sent ("INT"), 'x' how the command ended ("0", "signal
	// KILL"); see the package documentation.
	Kind byte
	Data []byte
}

// Recording is a parsed recording.
type Recording struct {
	Header Header
	Events []Event
	// Truncated reports that the last line was incomplete or unreadable and
	// was dropped, as a crash while writing leaves it.
	Truncated bool
}

// Output returns the concatenated data of rec's output events: what the
// user's terminal was sent. It is raw terminal data; to show it, use Play or
// Sanitize.
func Output(rec *Recording) []byte {
	var out []byte
	for _, ev := range rec.Events {
		if ev.Kind == 'o' {
			out = append(out, ev.Data...)
		}
	}
	return out
}

// Read parses a recording of at most maxBytes bytes, uncompressed. It reads
// both plain and gzip-compressed asciicast files, as Writer makes them; a
// compressed one cut short (as a crash leaves it) is read up to where it
// ends, with Truncated set.
//
// The header must have version 2 and a width and height within
// 1..MaxDimension. Each event line must be a JSON array of exactly three
// elements: a time in seconds (a number, at least zero, never less than the
// time before it), a kind ("o", "i", "r", "m", "c", "s" or "x", and in
// recordings of the lockbox format 2, "O" and "I": output and input as
// base64, returned as 'o' and 'i' events) and a string; "r" data must be "COLSxROWS", "s" data a signal name and "x" data
// an exit status or "signal NAME". The last line is dropped, and Truncated set, if it fails
// those checks, since a crash leaves a partial last line; a last line that
// lacks only its newline is kept. Any other bad line is an error naming the
// line number; a larger input is an error wrapping ErrTooLarge.
func Read(r io.Reader, maxBytes int64) (*Recording, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("recording: size limit must be positive, got %d", maxBytes)
	}
	in, cut, err := decompressed(r)
	if err != nil {
		return nil, err
	}
	lr := &lineReader{br: bufio.NewReaderSize(&io.LimitedReader{R: in, N: maxBytes + 1}, 64<<10), max: maxBytes}
	line, _, err := lr.next()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty recording", ErrBadHeader)
	}
	if err != nil {
		return nil, err
	}
	h, format, err := parseHeader(line)
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	rec := &Recording{Header: h}
	var (
		prev    float64
		pending error // a bad line, fatal unless it turns out to be the last
	)
	for n := 2; ; n++ {
		line, complete, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if pending != nil {
			return nil, pending
		}
		ev, t, err := parseEvent(line, prev, format >= formatBytes)
		if err != nil {
			pending = fmt.Errorf("line %d: %w", n, err)
			if !complete {
				break
			}
			continue
		}
		rec.Events = append(rec.Events, ev)
		prev = t
	}
	rec.Truncated = pending != nil || cut()
	return rec, nil
}

// decompressed returns r's content, decompressed if it is gzip, and a
// function that reports, once it has been read, whether a compressed
// stream was cut short.
func decompressed(r io.Reader) (io.Reader, func() bool, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if !isGzip(magic) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("recording: reading: %w", err)
		}
		return br, func() bool { return false }, nil
	}
	z, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("recording: reading: %w", err)
	}
	ct := &cutTolerant{r: z}
	return ct, func() bool { return ct.cut }, nil
}

// lineReader splits input into lines and enforces the size limit.
type lineReader struct {
	br    *bufio.Reader
	total int64
	max   int64
}

// next returns the next line without its newline, and whether it had one.
// At the end of input it returns io.EOF.
func (lr *lineReader) next() (line []byte, complete bool, err error) {
	line, err = lr.br.ReadBytes('\n')
	lr.total += int64(len(line))
	if lr.total > lr.max {
		return nil, false, fmt.Errorf("%w of %d bytes", ErrTooLarge, lr.max)
	}
	switch {
	case err == nil:
		return line[:len(line)-1], true, nil
	case errors.Is(err, io.EOF) && len(line) > 0:
		return line, false, nil
	case errors.Is(err, io.EOF):
		return nil, false, io.EOF
	default:
		return nil, false, fmt.Errorf("recording: reading: %w", err)
	}
}

// parseEvent parses one event line; prev is the time of the event before,
// and byteEvents says whether the recording's format has byte events.
func parseEvent(line []byte, prev float64, byteEvents bool) (Event, float64, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil || len(raw) != 3 {
		return Event{}, 0, fmt.Errorf("%w: not a JSON array of three elements", ErrBadEvent)
	}
	t, err := parseTime(raw[0], prev)
	if err != nil {
		return Event{}, 0, err
	}
	kind, err := parseString(raw[1], "kind")
	if err != nil {
		return Event{}, 0, err
	}
	if len(kind) != 1 || !(strings.Contains(eventKinds, kind) || byteEvents && strings.Contains(byteKinds, kind)) {
		return Event{}, 0, fmt.Errorf("%w: unknown kind %q", ErrBadEvent, kind)
	}
	data, err := parseString(raw[2], "data")
	if err != nil {
		return Event{}, 0, err
	}
	switch kind {
	case "r":
		if _, _, ok := parseSize(data); !ok {
			return Event{}, 0, fmt.Errorf("%w: resize data %q is not COLSxROWS within 1..%d", ErrBadEvent, data, MaxDimension)
		}
	case "s":
		if !validSignal(data) {
			return Event{}, 0, fmt.Errorf("%w: signal %q is not a signal name", ErrBadEvent, data)
		}
	case "x":
		if !validExit(data) {
			return Event{}, 0, fmt.Errorf("%w: exit %q is neither a status nor \"signal NAME\"", ErrBadEvent, data)
		}
	}
	ev := Event{Time: time.Duration(math.Round(t*1e6)) * time.Microsecond, Kind: kind[0]}
	if k := strings.Index(byteKinds, kind); k >= 0 {
		ev.Kind = eventKinds[k] // byteKinds' streams are eventKinds' first
		// Strict decoding still skips line breaks; a Writer writes none.
		if ev.Data, err = base64.StdEncoding.Strict().DecodeString(data); err != nil || strings.ContainsAny(data, "\r\n") {
			return Event{}, 0, fmt.Errorf("%w: %q event is not base64", ErrBadEvent, kind)
		}
	} else {
		ev.Data = decodeData(data)
	}
	return ev, t, nil
}

func parseTime(raw json.RawMessage, prev float64) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, fmt.Errorf("%w: time is not a number", ErrBadEvent)
	}
	t, err := strconv.ParseFloat(string(raw), 64)
	switch {
	case err != nil || t > maxEventSeconds:
		return 0, fmt.Errorf("%w: time %s out of range", ErrBadEvent, raw)
	case t < 0:
		return 0, fmt.Errorf("%w: negative time %s", ErrBadEvent, raw)
	case t < prev:
		return 0, fmt.Errorf("%w: time %s is before the previous event", ErrBadEvent, raw)
	}
	return t, nil
}

func parseString(raw json.RawMessage, what string) (string, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%w: %s is not a string", ErrBadEvent, what)
	}
	return s, nil
}

// parseSize parses resize data, "COLSxROWS".
func parseSize(s string) (cols, rows int, ok bool) {
	c, r, found := strings.Cut(s, "x")
	if !found {
		return 0, 0, false
	}
	cols, ok1 := parseDimension(c)
	rows, ok2 := parseDimension(r)
	return cols, rows, ok1 && ok2
}

func parseDimension(s string) (int, bool) {
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && validDimension(n)
}
