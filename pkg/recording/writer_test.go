package recording

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestWriterRecordsEventsWithClockTimes(t *testing.T) {
	clock := newFakeClock()
	w, f := newTestWriter(t, WriterOptions{Clock: clock.Now})
	clock.Advance(1500 * time.Millisecond)
	mustNil(t, w.Output([]byte("$ ls\r\n")))
	clock.Advance(time.Microsecond)
	mustNil(t, w.Input([]byte("q")))
	clock.Advance(2 * time.Second)
	mustNil(t, w.Resize(120, 40))
	clock.Set(t0) // a clock going back must not make times go back
	mustNil(t, w.Marker("session ended: idle for 15m0s"))
	mustNil(t, w.Close())

	rec := readBytes(t, f.bytes())
	want := &Recording{
		Header: testHeader(),
		Events: []Event{
			{Time: 1500 * time.Millisecond, Kind: 'o', Data: []byte("$ ls\r\n")},
			{Time: 1500*time.Millisecond + time.Microsecond, Kind: 'i', Data: []byte("q")},
			{Time: 3500*time.Millisecond + time.Microsecond, Kind: 'r', Data: []byte("120x40")},
			{Time: 3500*time.Millisecond + time.Microsecond, Kind: 'm', Data: []byte("session ended: idle for 15m0s")},
		},
	}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("recording (-want +got):\n%s", diff)
	}
}

func TestWriterHeaderRoundTrips(t *testing.T) {
	f := newMemFile()
	h := Header{
		Width: 132, Height: 50, Timestamp: t0.Add(700 * time.Millisecond), Term: "screen", Title: "deploy",
		Command: "systemctl restart app", Session: "0f3c-aa", User: "bob", Resource: "db-1", Role: "dba", Request: "req-9",
	}
	w, err := NewWriter(f, h, WriterOptions{FlushEvery: time.Hour})
	mustNil(t, err)
	mustNil(t, w.Close())
	h.Timestamp = t0 // kept to the second
	if diff := cmp.Diff(h, readBytes(t, f.bytes()).Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if line, _, _ := strings.Cut(string(plainText(t, f.bytes())), "\n"); !strings.Contains(line, `"lockbox":{"session":"0f3c-aa"`) {
		t.Errorf("header line lacks the lockbox object: %s", line)
	}
}

func TestWriterZeroTimestampUsesClock(t *testing.T) {
	clock := newFakeClock()
	h := testHeader()
	h.Timestamp = time.Time{}
	f := newMemFile()
	w, err := NewWriter(f, h, WriterOptions{Clock: clock.Now, FlushEvery: time.Hour})
	mustNil(t, err)
	mustNil(t, w.Close())
	if got := readBytes(t, f.bytes()).Header.Timestamp; !got.Equal(t0) {
		t.Errorf("Timestamp = %v, want %v", got, t0)
	}
}

func TestNewWriterRefusesBadHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Header)
	}{
		{"zero width", func(h *Header) { h.Width = 0 }},
		{"height over limit", func(h *Header) { h.Height = MaxDimension + 1 }},
		{"invalid UTF-8 in user", func(h *Header) { h.User = "al\xffce" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHeader()
			tc.edit(&h)
			f := newMemFile()
			if _, err := NewWriter(f, h, WriterOptions{}); !errors.Is(err, ErrBadHeader) {
				t.Fatalf("NewWriter = %v, want ErrBadHeader", err)
			}
			if len(f.bytes()) != 0 {
				t.Errorf("wrote %q for a refused header", f.bytes())
			}
		})
	}
}

func TestNewWriterSyncsHeaderBeforeReturning(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{})
	defer w.Close()
	if diff := cmp.Diff([]string{"write", "sync"}, f.opLog()); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
	if _, err := Read(bytes.NewReader(f.bytes()), 1<<20); err != nil {
		t.Errorf("header alone is not a valid recording: %v", err)
	}
}

func TestWriterBuffersUntilFlush(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{FlushEvery: time.Hour})
	header := len(f.bytes())
	mustNil(t, w.Output([]byte("hello")))
	if got := len(f.bytes()); got != header {
		t.Errorf("an event reached the file (%d bytes) before any flush", got-header)
	}
	mustNil(t, w.Close())
	if got := Output(readBytes(t, f.bytes())); string(got) != "hello" {
		t.Errorf("after Close, output = %q", got)
	}
}

func TestWriterFlushesAndSyncsWithinFlushEvery(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{FlushEvery: 50 * time.Millisecond})
	defer w.Close()
	written := time.Now()
	mustNil(t, w.Output([]byte("hello")))
	waitFor(t, 5*time.Second, "the event to be written and synced", func() bool {
		ops := f.opLog()
		return bytes.Contains(f.bytes(), []byte(`"hello"`)) && ops[len(ops)-1] == "sync"
	})
	// Generous bound: the ticker fires every 50ms, but a loaded -race run
	// can be slow to schedule it.
	if took := time.Since(written); took > time.Second {
		t.Errorf("event took %v to reach the file", took)
	}
	rec := readBytes(t, f.bytes())
	if rec.Truncated || string(Output(rec)) != "hello" {
		t.Errorf("file before Close: %+v", rec)
	}
}

func TestWriterCloseFlushesSyncsThenCloses(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{FlushEvery: time.Hour})
	mustNil(t, w.Output([]byte("x")))
	mustNil(t, w.Close())
	want := []string{"write", "sync", "write", "sync", "close"}
	if diff := cmp.Diff(want, f.opLog()); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := w.Output([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Errorf("Output after Close = %v, want ErrClosed", err)
	}
}

func TestWriterErrorsAreSticky(t *testing.T) {
	f := newMemFile()
	w, err := NewWriter(f, testHeader(), WriterOptions{FlushEvery: time.Hour})
	mustNil(t, err)
	f.mu.Lock()
	f.failAfter = f.buf.Len() + 100
	f.mu.Unlock()

	// Bigger than the buffer, so it reaches the file at once.
	err = w.Output(bytes.Repeat([]byte("a"), 200<<10))
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Output = %v, want the disk error", err)
	}
	calls := map[string]func() error{
		"Output": func() error { return w.Output([]byte("b")) },
		"Input":  func() error { return w.Input([]byte("c")) },
		"Resize": func() error { return w.Resize(10, 10) },
		"Marker": func() error { return w.Marker("m") },
		"Err":    w.Err,
		"Close":  w.Close,
	}
	for _, name := range []string{"Output", "Input", "Resize", "Marker", "Err", "Close"} {
		if err := calls[name](); !errors.Is(err, errDiskFull) {
			t.Errorf("%s after a write error = %v, want the disk error", name, err)
		}
	}
	if ops := f.opLog(); ops[len(ops)-1] != "close" {
		t.Errorf("file not closed after a write error: %v", ops)
	}
}

func TestWriterSyncErrorIsSticky(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{FlushEvery: 20 * time.Millisecond})
	defer w.Close()
	f.mu.Lock()
	f.syncErr = errDiskFull
	f.mu.Unlock()
	mustNil(t, w.Output([]byte("x")))
	waitFor(t, 5*time.Second, "the sync error", func() bool { return w.Err() != nil })
	if err := w.Output([]byte("y")); !errors.Is(err, errDiskFull) {
		t.Errorf("Output after a sync error = %v, want the sync error", err)
	}
}

func TestWriterResizeRefusesOutOfRangeWithoutFailing(t *testing.T) {
	w, _ := newTestWriter(t, WriterOptions{})
	defer w.Close()
	for _, size := range [][2]int{{0, 24}, {80, 0}, {-1, 5}, {MaxDimension + 1, 24}} {
		if err := w.Resize(size[0], size[1]); !errors.Is(err, ErrBadSize) {
			t.Errorf("Resize(%d, %d) = %v, want ErrBadSize", size[0], size[1], err)
		}
	}
	if err := w.Err(); err != nil {
		t.Errorf("a refused resize made the writer fail: %v", err)
	}
}

func TestWriterJoinsCharacterSplitAcrossWrites(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{})
	chunks := []string{"caf\xc3", "\xa9 \xe2\x82", "\xac", "\xf0\x9f", "\x98", "\x80!"}
	for _, c := range chunks {
		mustNil(t, w.Output([]byte(c)))
	}
	mustNil(t, w.Close())
	rec := readBytes(t, f.bytes())
	if got := string(Output(rec)); got != "café €😀!" {
		t.Errorf("output = %q", got)
	}
	for _, ev := range rec.Events {
		if !utf8.Valid(ev.Data) {
			t.Errorf("event %q is not whole characters", ev.Data)
		}
	}
	if bytes.ContainsRune(f.bytes(), rawBase+0xC3) {
		t.Errorf("a split character was escaped instead of joined:\n%s", f.bytes())
	}
}

func TestWriterStreamsCarrySeparately(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{Clock: newFakeClock().Now})
	mustNil(t, w.Output([]byte("\xc3")))
	mustNil(t, w.Input([]byte("\xc5")))
	mustNil(t, w.Input([]byte("\x90")))
	mustNil(t, w.Output([]byte("\xa9")))
	mustNil(t, w.Close())
	rec := readBytes(t, f.bytes())
	want := []Event{{Kind: 'i', Data: []byte("Ő")}, {Kind: 'o', Data: []byte("é")}}
	if diff := cmp.Diff(want, rec.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestWriterRoundTripsBytesThatAreNotUTF8(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"invalid byte", "a\xffb"},
		{"lone continuation bytes", "\x80\x90\x9f\xbf"},
		{"encoded surrogate", "\xed\xa0\x80"},
		{"overlong encoding", "\xc0\xaf"},
		{"truncated character at the end", "x\xe2\x82"},
		{"escape range character", "\uf700\uf7ff\uf7c3"},
		{"escape range bytes and character mixed", "\xef\x9c\xef\x9c\x80\xff"},
		{"replacement character", "\ufffd"},
		{"controls and quotes", "\x1b[31m\"\\\x00\x7f\u2028"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, f := newTestWriter(t, WriterOptions{})
			mustNil(t, w.Output([]byte(tc.data)))
			mustNil(t, w.Marker(tc.data))
			mustNil(t, w.Close())
			if !utf8.Valid(plainText(t, f.bytes())) {
				t.Errorf("file is not valid UTF-8")
			}
			rec := readBytes(t, f.bytes())
			if got := string(Output(rec)); got != tc.data {
				t.Errorf("output = %q, want %q", got, tc.data)
			}
			var markers []string
			for _, ev := range rec.Events {
				if ev.Kind == 'm' {
					markers = append(markers, string(ev.Data))
				}
			}
			if diff := cmp.Diff([]string{tc.data}, markers); diff != "" {
				t.Errorf("markers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriterIsSafeForConcurrentUse(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{FlushEvery: time.Millisecond})
	const n = 500
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			check(t, w.Output(fmt.Appendf(nil, "o%d,", i)))
		}
	})
	wg.Go(func() {
		for i := range n {
			check(t, w.Input(fmt.Appendf(nil, "i%d,", i)))
		}
	})
	wg.Go(func() {
		for i := range n / 10 {
			check(t, w.Resize(80+i, 24))
			check(t, w.Marker("m"))
			_ = w.Err()
		}
	})
	wg.Wait()
	mustNil(t, w.Close())

	rec := readBytes(t, f.bytes())
	var out, in strings.Builder
	for _, ev := range rec.Events {
		switch ev.Kind {
		case 'o':
			out.Write(ev.Data)
		case 'i':
			in.Write(ev.Data)
		}
	}
	var wantOut, wantIn strings.Builder
	for i := range n {
		fmt.Fprintf(&wantOut, "o%d,", i)
		fmt.Fprintf(&wantIn, "i%d,", i)
	}
	if out.String() != wantOut.String() || in.String() != wantIn.String() {
		t.Errorf("streams were mixed up or lost events")
	}
	if len(rec.Events) != 2*n+2*(n/10) {
		t.Errorf("got %d events, want %d", len(rec.Events), 2*n+2*(n/10))
	}
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// check reports err without stopping the goroutine, so it may be called
// from goroutines other than the test's.
func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}

// Output that is mostly not UTF-8 (binary data) is written as base64 byte
// events, other output as text, and both read back byte for byte.
func TestWriterWritesBinaryOutputAsByteEvents(t *testing.T) {
	random := randomBytes(4 << 10)
	terminal := terminalLike() // the odd invalid byte among text
	short := random[:bytesMin-1]
	w, f := newTestWriter(t, WriterOptions{})
	mustNil(t, w.Output([]byte("x\xe2\x82"))) // a character cut short, carried into the next event
	mustNil(t, w.Output(random))
	mustNil(t, w.Output(terminal))
	mustNil(t, w.Output(short))
	mustNil(t, w.Input(random))
	mustNil(t, w.Close())

	text := plainText(t, f.bytes())
	if !utf8.Valid(text) {
		t.Errorf("file is not valid UTF-8")
	}
	if !bytes.Contains(text, []byte(`"lockbox":{`)) || !bytes.Contains(text, []byte(`"format":2`)) {
		t.Errorf("header does not declare format 2: %.300s", text)
	}
	var kinds []string
	for line := range bytes.Lines(text) {
		if line[0] == '[' {
			kinds = append(kinds, string(line[bytes.IndexByte(line, '"')+1]))
		}
	}
	if diff := cmp.Diff([]string{"o", "O", "o", "o", "I"}, kinds); diff != "" {
		t.Errorf("event kinds in the file (-want +got):\n%s", diff)
	}
	rec := readBytes(t, f.bytes())
	want := slices.Concat([]byte("x\xe2\x82"), random, terminal, short)
	if got := Output(rec); !bytes.Equal(got, want) {
		t.Errorf("output read back (%d bytes) differs from what was written (%d bytes)", len(got), len(want))
	}
	last := rec.Events[len(rec.Events)-1]
	if last.Kind != 'i' || !bytes.Equal(last.Data, random) {
		t.Errorf("last event %q of %d bytes, want the input", last.Kind, len(last.Data))
	}
}

// One event of a bulk read (128 KiB) is encoded a piece at a time, so the
// pending buffer stays small enough to go back to the pool between
// flushes, and the event reads back whole.
func TestBulkEventKeepsThePendingBufferPoolable(t *testing.T) {
	var file bytes.Buffer
	w, err := NewWriter(discardFile{&file}, testHeader(), WriterOptions{FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("lockbox bench: the quick brown fox\n"), 4<<10)[:128<<10]
	if err := w.Output(chunk); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	held := cap(*w.pending)
	w.mu.Unlock()
	if held > 4*memberSize {
		t.Errorf("the pending buffer grew to %d bytes for one event of %d, over the %d that go back to the pool", held, len(chunk), 4*memberSize)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rec, err := Read(&file, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if got := Output(rec); !bytes.Equal(got, chunk) {
		t.Errorf("read back %d bytes of output, want the %d written", len(got), len(chunk))
	}
}
