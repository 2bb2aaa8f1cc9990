package recording

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var errDiskFull = errors.New("disk full")

// memFile is an in-memory File that records what was done to it and can be
// told to fail.
type memFile struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	ops       []string // "write", "sync", "close"
	failAfter int      // writes fail once this many bytes are written; <0 never
	syncErr   error
}

func newMemFile() *memFile { return &memFile{failAfter: -1} }

func (f *memFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "write")
	if f.failAfter >= 0 && f.buf.Len()+len(p) > f.failAfter {
		n := f.failAfter - f.buf.Len()
		f.buf.Write(p[:n])
		return n, errDiskFull
	}
	return f.buf.Write(p)
}

func (f *memFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "sync")
	return f.syncErr
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "close")
	return nil
}

func (f *memFile) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.buf.Bytes())
}

func (f *memFile) opLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testHeader() Header {
	return Header{
		Width: 80, Height: 24, Timestamp: t0, Term: "xterm-256color",
		Session: "s-1", User: "alice", Resource: "web-1", Role: "admin", Request: "r-1",
	}
}

// newTestWriter returns a Writer on a memFile that flushes only when closed,
// unless opts says otherwise.
func newTestWriter(t testing.TB, opts WriterOptions) (*Writer, *memFile) {
	t.Helper()
	f := newMemFile()
	if opts.FlushEvery == 0 {
		opts.FlushEvery = time.Hour
	}
	w, err := NewWriter(f, testHeader(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return w, f
}

// plainText returns a recording file's asciicast text: it decompresses its
// gzip members.
func plainText(t testing.TB, b []byte) []byte {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("recording file is not gzip: %v", err)
	}
	out, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("decompressing the recording: %v", err)
	}
	return out
}

// gzipped compresses text as one gzip member.
func gzipped(t testing.TB, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := compressMember(&b, []byte(text), gzip.BestSpeed); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readBytes parses a recording with a generous limit.
func readBytes(t testing.TB, b []byte) *Recording {
	t.Helper()
	rec, err := Read(bytes.NewReader(b), 1<<30)
	if err != nil {
		t.Fatalf("Read: %v\n%s", err, b)
	}
	return rec
}
