package recording

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// DefaultFlushEvery is how often a Writer flushes and syncs by default.
const DefaultFlushEvery = time.Second

// File is what a Writer writes to. *os.File satisfies it.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// WriterOptions tune a Writer. The zero value is ready to use.
type WriterOptions struct {
	// FlushEvery bounds how long an event can sit in memory before it is
	// written to the file and the file is synced. Zero means
	// DefaultFlushEvery.
	FlushEvery time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Writer writes one asciicast v2 recording, gzip-compressed (see
// compress.go). It is safe for concurrent use.
//
// The first error writing or syncing the file is sticky: every later call
// returns it. The caller must then end the session, since what happens next
// would not be recorded. The caller must call Close, which stops the
// Writer's flushing goroutine and closes the file.
type Writer struct {
	f       File
	clock   func() time.Time
	start   time.Time
	onClose func()
	stop    chan struct{}
	done    chan struct{}

	mu           sync.Mutex
	pending      *[]byte       // encoded events not yet compressed; nil while there are none
	last         time.Duration // time of the latest event; times never go back
	carry        [2]carry      // output, input
	unsynced     bool          // compressed data written since the last sync
	pendingBytes int           // how much of pending is base64 data of byte events
	cheap        int           // members still to code with Huffman coding alone, or store
	cheapStore   bool          // store those that are mostly byte events
	closed       bool
	err          error
}

// eventBufs holds buffers of encoded events, shared by all Writers so that
// an idle session holds none.
var eventBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// carry holds an incomplete UTF-8 sequence from the end of a stream's last
// chunk.
type carry struct {
	buf [utf8Max - 1]byte
	n   int
}

const utf8Max = 4

// Stream indexes into Writer.carry.
const (
	streamOutput = 0
	streamInput  = 1
)

// NewWriter writes the header h to f, flushes and syncs it, and returns a
// Writer for the events. Event times count from this call. A zero
// h.Timestamp is replaced by the current time.
//
// The Writer owns f from then on; if NewWriter returns an error, f is
// neither closed nor removed, and that is up to the caller.
func NewWriter(f File, h Header, opts WriterOptions) (*Writer, error) {
	return newWriter(f, h, opts, nil, false)
}

// newWriter makes a Writer; a managed one has no flushing goroutine of its
// own: its Spool flushes all its writers from one.
func newWriter(f File, h Header, opts WriterOptions, onClose func(), managed bool) (*Writer, error) {
	if opts.FlushEvery < 0 {
		return nil, fmt.Errorf("recording: negative FlushEvery %v", opts.FlushEvery)
	}
	if opts.FlushEvery == 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	start := opts.Clock()
	if h.Timestamp.IsZero() {
		h.Timestamp = start
	}
	line, err := h.marshal()
	if err != nil {
		return nil, err
	}
	if _, err := compressMember(f, line, gzip.BestSpeed); err != nil {
		return nil, fmt.Errorf("recording: writing header: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("recording: syncing header: %w", err)
	}
	w := &Writer{f: f, clock: opts.Clock, start: start, onClose: onClose}
	if !managed {
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.flushLoop(opts.FlushEvery)
	}
	return w, nil
}

// Output records p as terminal output ("o"). p may end in the middle of a
// UTF-8 character; the rest is expected in the next call.
func (w *Writer) Output(p []byte) error { return w.stream(streamOutput, 'o', p) }

// Input records p as input typed by the user ("i").
func (w *Writer) Input(p []byte) error { return w.stream(streamInput, 'i', p) }

// Resize records a change of terminal size ("r"). A size outside
// 1..MaxDimension is refused with ErrBadSize and not recorded; that error is
// not sticky.
func (w *Writer) Resize(cols, rows int) error {
	if !validDimension(cols) || !validDimension(rows) {
		return fmt.Errorf("%w: %dx%d", ErrBadSize, cols, rows)
	}
	data := strconv.AppendInt(nil, int64(cols), 10)
	data = append(data, 'x')
	data = strconv.AppendInt(data, int64(rows), 10)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event('r', data)
}

// Marker records a marker ("m"), such as why the session ended.
func (w *Writer) Marker(label string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event('m', []byte(label))
}

// Err returns the first error writing or syncing the file, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close writes any carried bytes, flushes, syncs and closes the file, and
// stops the flushing goroutine. It returns the sticky error if there was
// one. Calls after the first return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.flushCarry(streamOutput, 'o')
	w.flushCarry(streamInput, 'i')
	w.closed = true
	w.mu.Unlock()

	if w.stop != nil {
		close(w.stop)
		<-w.done
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.compress()
	w.release()
	if w.err == nil { // always: a flush may still be syncing without the lock
		if err := w.f.Sync(); err != nil {
			w.fail("syncing", err)
		}
	}
	if err := w.f.Close(); err != nil && w.err == nil {
		w.fail("closing", err)
	}
	if w.onClose != nil {
		w.onClose()
	}
	return w.err
}

// stream records p on an output or input stream, holding back an
// incomplete trailing character.
func (w *Writer) stream(idx int, kind byte, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	c := &w.carry[idx]
	data := p
	if c.n > 0 {
		joined := eventBufs.Get().(*[]byte)
		defer eventBufs.Put(joined)
		*joined = append(append((*joined)[:0], c.buf[:c.n]...), p...)
		data = *joined
	}
	if mostlyNotText(data) {
		c.n = 0
		return w.bytesEvent(byteKinds[idx], data)
	}
	tail := incompleteTail(data)
	body := data[:len(data)-tail]
	c.n = copy(c.buf[:], data[len(body):])
	if len(body) == 0 {
		return nil
	}
	return w.event(kind, body)
}

// flushCarry writes a stream's carried bytes as an event of their own.
func (w *Writer) flushCarry(idx int, kind byte) {
	c := &w.carry[idx]
	if c.n > 0 && w.usable() == nil {
		w.event(kind, c.buf[:c.n])
	}
	c.n = 0
}

// event appends one event to the pending batch, and compresses the batch
// once it is a member's worth. A run of runLen or more copies of one
// escaped byte in data (binary zeros, say, each six bytes as \u0000) is
// neither encoded nor compressed: it goes to the file as copies of a
// member made once for that byte (see runMember). w.mu must be held.
func (w *Writer) event(kind byte, data []byte) error {
	if err := w.beginEvent(kind); err != nil {
		return err
	}
	for len(data) > 0 {
		piece := data[:min(len(data), encodePiece)]
		var n int
		*w.pending, n = appendText(*w.pending, piece)
		data = data[n:]
		if n == len(piece) {
			continue
		}
		reps := runLength(data) / runLen
		w.compress()
		w.writeRuns(data[0], reps)
		data = data[reps*runLen:]
	}
	return w.endEvent()
}

// encodePiece is how much of an event's data is encoded at a time:
// appendText reserves room for the worst case (six bytes for each), and
// the pending buffer, which stays pooled up to four members' worth,
// should not grow past that for one event of a bulk read (128 KiB).
const encodePiece = 32 << 10

// bytesEvent appends one event of data as base64 (kind "O" or "I"), for
// output that is mostly not text: JSON would write most of its bytes as
// three (U+F700+b) or six (\u0000) and the compressor would code all of
// those, where base64 writes four bytes for three. w.mu must be held.
func (w *Writer) bytesEvent(kind byte, data []byte) error {
	if err := w.beginEvent(kind); err != nil {
		return err
	}
	before := len(*w.pending)
	*w.pending = appendBase64(*w.pending, data)
	w.pendingBytes += len(*w.pending) - before
	return w.endEvent()
}

// beginEvent appends an event's line up to the opening quote of its data,
// taking a pending buffer if the Writer holds none. w.mu must be held.
func (w *Writer) beginEvent(kind byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	t := max(w.clock().Sub(w.start), w.last)
	w.last = t
	if w.pending == nil {
		w.pending = eventBufs.Get().(*[]byte)
		*w.pending = (*w.pending)[:0]
	}
	*w.pending = append(appendEventStart(*w.pending, t, kind), '"')
	return nil
}

// endEvent closes the event's line and compresses the batch once it is a
// member's worth. w.mu must be held.
func (w *Writer) endEvent() error {
	*w.pending = append(*w.pending, "\"]\n"...)
	if len(*w.pending) >= memberSize {
		w.compress()
	}
	return w.err
}

// writeRuns writes reps runs of runLen copies of b, as members.
// w.mu must be held.
func (w *Writer) writeRuns(b byte, reps int) {
	if w.err != nil {
		return
	}
	m := runMember(b)
	out := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(out)
	out.Reset()
	for range reps {
		out.Write(m)
	}
	if _, err := w.f.Write(out.Bytes()); err != nil {
		w.fail("writing", err)
		return
	}
	w.unsynced = true
}

// compress writes the pending events to the file as one gzip member.
// w.mu must be held.
func (w *Writer) compress() {
	if w.err != nil || w.pending == nil || len(*w.pending) == 0 {
		return
	}
	size := len(*w.pending)
	bytesMember := w.pendingBytes*4 >= size*3 // mostly byte events
	level := gzip.BestSpeed
	if w.cheap > 0 {
		w.cheap--
		level = gzip.HuffmanOnly
		if w.cheapStore && bytesMember {
			level = gzip.NoCompression
		}
	}
	n, err := compressMember(w.f, *w.pending, level)
	if err != nil {
		w.fail("writing", err)
		return
	}
	if level == gzip.BestSpeed && size >= judgeSize && n*poorRatio > size {
		w.cheap = cheapRun
		w.cheapStore = bytesMember && n*storeRatio > size*(storeRatio-1)
	}
	*w.pending = (*w.pending)[:0]
	w.pendingBytes = 0
	w.unsynced = true
}

// release gives the pending buffer back to the pool, so that a session
// that has gone quiet holds none. w.mu must be held.
func (w *Writer) release() {
	if w.pending != nil && cap(*w.pending) <= 4*memberSize {
		eventBufs.Put(w.pending)
	}
	w.pending = nil
}

// usable returns why no more events can be written, if that is so.
func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

// fail records the first error. w.mu must be held.
func (w *Writer) fail(doing string, err error) {
	if w.err == nil {
		w.err = fmt.Errorf("recording: %s: %w", doing, err)
	}
}

// flushLoop flushes and syncs every interval until Close.
func (w *Writer) flushLoop(every time.Duration) {
	defer close(w.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.flushAndSync()
		}
	}
}

// flushAndSync compresses and writes pending events under the lock, then
// syncs without holding it so that a slow disk does not stall the session.
func (w *Writer) flushAndSync() {
	w.mu.Lock()
	if w.err != nil || w.closed {
		w.mu.Unlock()
		return
	}
	w.compress()
	w.release()
	needSync := w.err == nil && w.unsynced
	w.unsynced = false
	w.mu.Unlock()
	if !needSync {
		return
	}
	if err := w.f.Sync(); err != nil {
		w.mu.Lock()
		w.fail("syncing", err)
		w.mu.Unlock()
	}
}
