package recording

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// splitChunks cuts data into chunks whose lengths come from splits, so the
// fuzzer controls where chunk boundaries fall.
func splitChunks(data, splits []byte) [][]byte {
	var chunks [][]byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if i < len(splits) {
			n = min(int(splits[i])%17, len(data)) // 0..16: empty chunks too
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	return chunks
}

func FuzzWriteRead(f *testing.F) {
	f.Add([]byte("hello\r\n\x1b[31mred\x1b[0m"), []byte{3, 1, 0, 5})
	f.Add([]byte("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), []byte{4, 1, 3, 2, 2, 1})
	f.Add([]byte("\xff\xfe\x80\xc3\xed\xa0\x80\uf700\uf7ff"), []byte{1, 1, 1})
	f.Add([]byte("\xef\x9c\xef\x9c\x80\xc3"), []byte{2})
	f.Add(slices.Concat([]byte("text \xe2"), randomBytes(600), []byte("\x82\xac more text")), []byte{0, 3, 1}) // byte events between text
	f.Add(slices.Concat([]byte("text \xe2"), randomBytes(600)), []byte{6})                                     // a carried byte starts a byte event
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		w, file := newTestWriter(t, WriterOptions{Clock: newFakeClock().Now})
		for _, c := range splitChunks(data, splits) {
			mustNil(t, w.Output(c))
		}
		for _, c := range splitChunks(data, slices.Concat(splits[len(splits)/2:], splits)) {
			mustNil(t, w.Input(c))
		}
		mustNil(t, w.Marker(string(data)))
		mustNil(t, w.Close())

		raw := file.bytes()
		rec := readBytes(t, raw)
		if got := Output(rec); !bytes.Equal(got, data) {
			t.Fatalf("output stream = %q, want %q", got, data)
		}
		var in []byte
		for _, ev := range rec.Events {
			if ev.Kind == 'i' {
				in = append(in, ev.Data...)
			}
		}
		if !bytes.Equal(in, data) {
			t.Fatalf("input stream = %q, want %q", in, data)
		}
		var markers [][]byte
		for _, ev := range rec.Events {
			if ev.Kind == 'm' {
				markers = append(markers, ev.Data)
			}
		}
		if len(markers) != 1 || !bytes.Equal(markers[0], data) {
			t.Fatalf("markers = %q, want one of %q", markers, data)
		}
		if rec.Truncated {
			t.Fatalf("a closed recording reads as truncated")
		}
	})
}

// FuzzRead checks that Read never panics and that whatever it accepts
// survives being written again: exactly, event for event, when written as
// events (the path the Writer's methods use after their UTF-8 carry), and
// stream for stream when written through Output, Input and Marker, whose
// carry may move bytes between events.
func FuzzRead(f *testing.F) {
	f.Add([]byte(validHeader + "\n" + `[0.5, "o", "hi\u001b[0m"]` + "\n" + `[1, "i", "x"]` + "\n" + `[1.25, "r", "100x40"]` + "\n" + `[2, "m", "end"]` + "\n"))
	f.Add([]byte(validHeader + "\n" + `[0.1234567, "o", "\uf7c3"]` + "\n" + `[0.2, "o", "\uf7a9\uf700"]` + "\n" + `[3, "o", "partial`))
	f.Add([]byte(`{"version": 2, "width": 1, "height": 1}` + "\n" + `[1e2, "o", "\ud800"]` + "\n" + "garbage\n"))
	f.Add([]byte(`{"version": 2, "width": 1, "height": 1, "timestamp": -5}` + "\n" + `[0, "o", ""]`))
	f.Add([]byte(validHeader + "\n" + `[0.1, "c", "ls -l"]` + "\n" + `[0.2, "s", "INT"]` + "\n" + `[0.3, "x", "130"]` + "\n" + `[0.4, "x", "signal KILL"]` + "\n"))
	f.Add([]byte(bytesHeader + "\n" + `[0.1, "O", "/4AAYQ=="]` + "\n" + `[0.2, "I", "AAEC"]` + "\n" + `[0.3, "O", "YR=="]` + "\n"))
	f.Add([]byte(validHeader + "\n" + `[0.1, "s", "SIG INT"]` + "\n" + `[0.3, "x", "007"]` + "\n" + `[0.4, "x", "signal "]` + "\n"))
	// Compressed, as the bastion writes them: the fuzzer mutates the
	// compressed bytes too.
	var z bytes.Buffer
	if _, err := compressMember(&z, []byte(validHeader+"\n"+`[0.5, "o", "hi"]`+"\n"), gzip.BestSpeed); err != nil {
		f.Fatal(err)
	}
	if _, err := compressMember(&z, []byte(`[1, "i", "x"]`+"\n"), gzip.HuffmanOnly); err != nil {
		f.Fatal(err)
	}
	f.Add(z.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Read(bytes.NewReader(data), 1<<20)
		if !isGzip(data) {
			// The same text compressed reads the same.
			zrec, zerr := Read(bytes.NewReader(gzipped(t, string(data))), 1<<20)
			if (err == nil) != (zerr == nil) {
				t.Fatalf("plain: %v; compressed: %v", err, zerr)
			}
			if diff := cmp.Diff(rec, zrec); err == nil && diff != "" {
				t.Fatalf("compressed reads differently (-plain +compressed):\n%s", diff)
			}
		}
		if err != nil {
			return
		}
		clock := newFakeClock()
		h := rec.Header

		// Exact: each event written as itself.
		file := newMemFile()
		w, err := NewWriter(file, h, WriterOptions{Clock: clock.Now, FlushEvery: time.Hour})
		if err != nil {
			t.Fatalf("NewWriter refused a header Read accepted: %v", err)
		}
		for _, ev := range rec.Events {
			clock.Set(t0.Add(ev.Time))
			w.mu.Lock()
			err := w.event(ev.Kind, ev.Data)
			w.mu.Unlock()
			mustNil(t, err)
		}
		mustNil(t, w.Close())
		again := readBytes(t, file.bytes())
		if h.Timestamp.IsZero() {
			h.Timestamp = t0 // the Writer fills it in
		}
		want := &Recording{Header: h, Events: rec.Events}
		if diff := cmp.Diff(want, again); diff != "" {
			t.Fatalf("rewritten recording differs (-want +got):\n%s", diff)
		}

		// Streams: through the public methods.
		file = newMemFile()
		w, err = NewWriter(file, h, WriterOptions{Clock: clock.Now, FlushEvery: time.Hour})
		mustNil(t, err)
		for _, ev := range rec.Events {
			switch ev.Kind {
			case 'o':
				mustNil(t, w.Output(ev.Data))
			case 'i':
				mustNil(t, w.Input(ev.Data))
			case 'm':
				mustNil(t, w.Marker(string(ev.Data)))
			case 'r':
				cols, rows, _ := parseSize(string(ev.Data))
				mustNil(t, w.Resize(cols, rows))
			case 'c':
				mustNil(t, w.Exec(string(ev.Data)))
			case 's':
				mustNil(t, w.Signal(string(ev.Data)))
			case 'x':
				if name, ok := strings.CutPrefix(string(ev.Data), "signal "); ok {
					mustNil(t, w.ExitSignal(name))
				} else {
					status, err := strconv.ParseUint(string(ev.Data), 10, 32)
					mustNil(t, err)
					mustNil(t, w.ExitStatus(uint32(status)))
				}
			}
		}
		mustNil(t, w.Close())
		again = readBytes(t, file.bytes())
		if diff := cmp.Diff(streams(rec), streams(again)); diff != "" {
			t.Fatalf("rewritten streams differ (-want +got):\n%s", diff)
		}

		// Exported: plain asciicast that reads back, with nothing a
		// terminal would act on outside the screen.
		var cast bytes.Buffer
		mustNil(t, Export(&cast, rec))
		exported, err := Read(bytes.NewReader(cast.Bytes()), int64(cast.Len())+1)
		if err != nil {
			t.Fatalf("the export does not read back: %v\n%s", err, cast.Bytes())
		}
		for _, ev := range exported.Events {
			if !strings.ContainsRune("orm", rune(ev.Kind)) {
				t.Fatalf("the export holds a %q event", ev.Kind)
			}
		}
		if !utf8.Valid(cast.Bytes()) {
			t.Fatalf("the export is not UTF-8: %q", cast.Bytes())
		}
		for _, line := range bytes.Split(bytes.TrimSpace(cast.Bytes()), []byte("\n"))[1:] {
			var ev [3]string
			var secs float64
			if err := json.Unmarshal(line, &[]any{&secs, &ev[1], &ev[2]}); err != nil {
				t.Fatalf("export line %s: %v", line, err)
			}
			if ev[1] == "o" && strings.Contains(ev[2], "\x1b]") {
				t.Fatalf("exported output holds an OSC: %q", ev[2])
			}
		}
	})
}

// streams returns a recording's output, input, markers and sizes.
func streams(rec *Recording) map[byte]string {
	m := map[byte]string{}
	for _, ev := range rec.Events {
		switch ev.Kind {
		case 'm', 'r', 'c', 's', 'x':
			m[ev.Kind] += string(ev.Data) + "\x00"
		default: // the Writer records no empty output or input
			if len(ev.Data) > 0 {
				m[ev.Kind] += string(ev.Data)
			}
		}
	}
	return m
}

func FuzzSanitize(f *testing.F) {
	for _, tc := range dangerousSequences {
		f.Add([]byte("a"+tc.seq+"b"), []byte{1, 2, 3})
	}
	for _, tc := range harmlessSequences {
		f.Add([]byte(tc.seq), []byte{4, 1})
	}
	f.Add([]byte("\xc3\x1b]0;x\x07\x9b6n\xc2\x1b[c\x9b1m"), []byte{1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		out := Sanitize(data)
		if what := unsafeIn(out); what != "" {
			t.Fatalf("Sanitize(%q) = %q, which contains %s", data, out, what)
		}
		if got := sanitizeChunks(splitChunks(data, splits)...); got != string(out) {
			t.Fatalf("streaming result %q differs from one-shot %q", got, out)
		}
		// What Sanitize emits, it would emit again: nothing in it is a
		// sequence it removes. (The newline completes a trailing 0xC2,
		// which alone would be held back.)
		again := append(bytes.Clone(out), '\n')
		if twice := Sanitize(again); !bytes.Equal(twice, again) {
			t.Fatalf("Sanitize(%q) = %q, but Sanitize(that+newline) = %q", data, out, twice)
		}
	})
}

func TestUnsafeInRecognisesDangerousOutput(t *testing.T) {
	for _, s := range []string{"\x1b]0;x\x07", "\x1bP", "\x1b[6n", "\x1b[>c", "\x1b[21t", "\x9b6n", "\xc2\x9b6n", "\x9d", "\xc2\x90", "\x1bZ"} {
		if unsafeIn([]byte(s)) == "" {
			t.Errorf("unsafeIn(%q) found nothing", s)
		}
	}
	for _, s := range []string{"\xc3\x9b6n", "\xc5\x90", "\xe3\x90", "\xf0\x9f\x9dx", "\x1b[1m", "plain"} {
		if what := unsafeIn([]byte(s)); what != "" {
			t.Errorf("unsafeIn(%q) = %s, want nothing", s, what)
		}
	}
}

// plainRun, eight bytes at a time, agrees with testing byte by byte.
func FuzzPlainRun(f *testing.F) {
	f.Add([]byte("abcdefgh\"ijklmnop"))
	f.Add([]byte("0123456789abcdef\x1f\\\x7f\x80"))
	f.Add([]byte("\x00abcdefghijklmnopqrstuvwxyz \xff"))
	f.Fuzz(func(t *testing.T, p []byte) {
		want := 0
		for want < len(p) && plain[p[want]] {
			want++
		}
		if got := plainRun(p); got != want {
			t.Fatalf("plainRun(%q) = %d, want %d", p, got, want)
		}
	})
}
