package recording

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countMembers counts the gzip members in b.
func countMembers(t *testing.T, b []byte) int {
	t.Helper()
	r := bytes.NewReader(b)
	z, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		z.Multistream(false)
		if _, err := io.Copy(io.Discard, z); err != nil {
			t.Fatalf("member %d: %v", n, err)
		}
		n++
		if err := z.Reset(r); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatalf("member %d: %v", n, err)
		}
	}
}

func TestWriterCompressesEachBatchAsAMember(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{})
	chunk := bytes.Repeat([]byte("0123456789abcdef\r\n"), 2000) // 36,000 bytes
	var want []byte
	for range 10 {
		mustNil(t, w.Output(chunk))
		want = append(want, chunk...)
	}
	mustNil(t, w.Close())
	// The header, then 360,000 bytes of events in 128 KiB members and
	// what was left at Close.
	if got := countMembers(t, f.bytes()); got != 4 {
		t.Errorf("file holds %d gzip members, want 4", got)
	}
	if got := Output(readBytes(t, f.bytes())); !bytes.Equal(got, want) {
		t.Errorf("output read back differs from what was written")
	}
	if ratio := float64(len(plainText(t, f.bytes()))) / float64(len(f.bytes())); ratio < 20 {
		t.Errorf("repetitive output compressed only %.1f times", ratio)
	}
}

func TestWriterHoldsNoBufferOnceFlushed(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{})
	mustNil(t, w.Output([]byte("$ ")))
	if w.pending == nil {
		t.Fatal("no pending events after Output")
	}
	w.flushAndSync()
	if w.pending != nil {
		t.Error("a flushed Writer still holds its event buffer")
	}
	if got := Output(readBytes(t, f.bytes())); string(got) != "$ " {
		t.Errorf("output after flush = %q", got)
	}
	w.flushAndSync() // nothing new: no write, no sync
	f.mu.Lock()
	ops := strings.Join(f.ops, " ")
	f.mu.Unlock()
	if want := "write sync write sync"; ops != want {
		t.Errorf("file operations = %q, want %q", ops, want)
	}
	mustNil(t, w.Close())
}

// A crash can leave the last member cut anywhere: every prefix of the file
// from the end of the header member on reads without error, as a prefix
// of the events, marked truncated when a member was cut.
func TestReadCompressedRecordingCutAnywhere(t *testing.T) {
	clock := newFakeClock()
	w, f := newTestWriter(t, WriterOptions{Clock: clock.Now})
	var events []Event
	for i := range 40 {
		clock.Advance(time.Second)
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 100+i*50)
		mustNil(t, w.Output(data))
		events = append(events, Event{Time: time.Duration(i+1) * time.Second, Kind: 'o', Data: data})
		if i%7 == 0 {
			w.flushAndSync()
		}
	}
	mustNil(t, w.Close())
	full := f.bytes()
	headerLen := len(gzipped(t, string(mustMarshal(t, testHeader()))))
	for n := headerLen; n <= len(full); n++ {
		rec, err := Read(bytes.NewReader(full[:n]), 1<<20)
		if err != nil {
			t.Fatalf("cut at %d of %d bytes: %v", n, len(full), err)
		}
		if len(rec.Events) > len(events) {
			t.Fatalf("cut at %d: %d events, more than were written", n, len(rec.Events))
		}
		got := rec.Events
		if k := len(got); k > 0 && len(got[k-1].Data) < len(events[k-1].Data) {
			got = got[:k-1] // the last event may be cut short
		}
		if !slices.EqualFunc(events[:len(got)], got, sameEvent) {
			diff := cmp.Diff(events[:len(got)], got)
			t.Fatalf("cut at %d: events are not a prefix of those written (-want +got):\n%s", n, diff)
		}
		if n == len(full) && (rec.Truncated || len(rec.Events) != len(events)) {
			t.Fatalf("whole file: truncated=%v, %d events", rec.Truncated, len(rec.Events))
		}
	}
}

func sameEvent(a, b Event) bool {
	return a.Time == b.Time && a.Kind == b.Kind && bytes.Equal(a.Data, b.Data)
}

func mustMarshal(t *testing.T, h Header) []byte {
	t.Helper()
	b, err := h.marshal()
	mustNil(t, err)
	return b
}

func TestReadCompressedRefusesCorruption(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{})
	mustNil(t, w.Output([]byte("hello")))
	mustNil(t, w.Close())
	data := f.bytes()
	data[len(data)-5] ^= 0xff // the last member's CRC-32
	if _, err := Read(bytes.NewReader(data), 1<<20); err == nil {
		t.Error("a member with a bad checksum was accepted")
	}
}

// The size limit counts decompressed bytes: a small file cannot expand
// into more than the reader allows.
func TestReadLimitsDecompressedSize(t *testing.T) {
	w, f := newTestWriter(t, WriterOptions{})
	for range 64 {
		mustNil(t, w.Output(make([]byte, 32<<10)))
	}
	mustNil(t, w.Close())
	if len(f.bytes()) > 64<<10 {
		t.Fatalf("12 MiB of zero bytes compressed to %d bytes", len(f.bytes()))
	}
	if _, err := Read(bytes.NewReader(f.bytes()), 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read of a file that expands past the limit = %v, want ErrTooLarge", err)
	}
}

// Recordings written before compression, or decompressed with gzip -d,
// read as they are.
func TestReadAcceptsPlainAndCompressedAlike(t *testing.T) {
	text := validHeader + "\n" + `[0.5, "o", "hi"]` + "\n" + `[1, "m", "end"]` + "\n"
	plain := readBytes(t, []byte(text))
	compressed := readBytes(t, gzipped(t, text))
	if diff := cmp.Diff(plain, compressed); diff != "" {
		t.Errorf("plain and compressed recordings differ (-plain +compressed):\n%s", diff)
	}
}

// Long runs of one escaped byte go to the file as copies of a cached
// member; the recording reads back byte for byte, wherever the runs fall.
func TestWriterWritesLongRunsAsCachedMembers(t *testing.T) {
	run := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	for _, tc := range []struct {
		name   string
		chunks [][]byte
	}{
		{"just under a run", [][]byte{run(0, runLen-1)}},
		{"exactly a run", [][]byte{run(0, runLen)}},
		{"runs with text between", [][]byte{slices.Concat([]byte("head"), run(0, 3*runLen+5), []byte("mid\xc3\xa9"), run('"', runLen+1), []byte("tail"))}},
		{"a run split across chunks", [][]byte{run(0x1b, runLen/2), run(0x1b, runLen), run('\\', 2*runLen)}},
		{"invalid bytes are not runs", [][]byte{run(0xff, 2*runLen)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, f := newTestWriter(t, WriterOptions{})
			var want []byte
			for _, c := range tc.chunks {
				mustNil(t, w.Output(c))
				want = append(want, c...)
			}
			mustNil(t, w.Input(run(0, 2*runLen)))
			mustNil(t, w.Close())
			rec := readBytes(t, f.bytes())
			if got := Output(rec); !bytes.Equal(got, want) {
				t.Fatalf("output read back (%d bytes) differs from what was written (%d bytes)", len(got), len(want))
			}
			if n := len(rec.Events); n != len(tc.chunks)+1 || rec.Events[n-1].Kind != 'i' || !bytes.Equal(rec.Events[n-1].Data, run(0, 2*runLen)) {
				t.Fatalf("events: %d, last %q", n, rec.Events[n-1].Kind)
			}
			if !bytes.Contains(f.bytes(), runMember(0)) {
				t.Error("the input run was not written as the cached member")
			}
		})
	}
}

// Output that does not compress switches the Writer to cheaper coding for
// a while, then back to BestSpeed: random bytes (byte events) are stored,
// random printable text is coded with Huffman coding alone.
func TestWriterCodesIncompressibleOutputCheaply(t *testing.T) {
	printable := randomBytes(160 << 10)
	for i, b := range printable {
		printable[i] = 'A' + b%58
	}
	for _, tc := range []struct {
		name      string
		chunk     []byte // one member's worth
		wantStore bool
	}{
		{"random bytes", randomBytes(96 << 10), true},
		{"random printable text", printable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, f := newTestWriter(t, WriterOptions{})
			mustNil(t, w.Output(tc.chunk))
			if w.cheap != cheapRun || w.cheapStore != tc.wantStore {
				t.Fatalf("after an incompressible member: %d cheap members, store %v; want %d, %v", w.cheap, w.cheapStore, cheapRun, tc.wantStore)
			}
			mustNil(t, w.Output(tc.chunk))
			if w.cheap != cheapRun-1 {
				t.Fatalf("%d cheap members left after one, want %d", w.cheap, cheapRun-1)
			}
			text := bytes.Repeat([]byte("compressible again\r\n"), 8<<10) // 160 KiB: one member
			for range cheapRun - 1 {
				mustNil(t, w.Output(text))
			}
			if w.cheap != 0 {
				t.Fatalf("%d cheap members left after %d", w.cheap, cheapRun)
			}
			mustNil(t, w.Output(text)) // BestSpeed again: it compresses well, so no switch
			if w.cheap != 0 {
				t.Errorf("compressible output switched to cheap coding")
			}
			mustNil(t, w.Close())
			want := slices.Concat(tc.chunk, tc.chunk, bytes.Repeat(text, cheapRun))
			if got := Output(readBytes(t, f.bytes())); !bytes.Equal(got, want) {
				t.Errorf("output read back differs from what was written")
			}
			if tc.wantStore && len(f.bytes()) < len(tc.chunk)*4/3 {
				t.Errorf("file of %d bytes: the second member of random bytes (%d as base64) was not stored", len(f.bytes()), len(tc.chunk)*4/3)
			}
		})
	}
}

// runLength, which compares eight bytes at a time, counts a run as a
// byte-by-byte scan does, wherever the run ends.
func TestRunLengthCountsEveryRepeat(t *testing.T) {
	var sizes []int
	for size := 1; size <= 40; size++ {
		sizes = append(sizes, size)
	}
	// Around the blocks runLength compares whole.
	for _, size := range []int{runBlock, 2 * runBlock, 4 * runBlock} {
		for d := -9; d <= 9; d++ {
			sizes = append(sizes, size+d)
		}
	}
	for _, b := range []byte{0, 0x1b, 0xff} {
		for _, size := range sizes {
			for end := 1; end <= size; end++ {
				p := bytes.Repeat([]byte{b}, size)
				if end < size {
					p[end] = b ^ 0x80
				}
				want := 1
				for want < len(p) && p[want] == p[0] {
					want++
				}
				if got := runLength(p); got != want {
					t.Fatalf("runLength of %d bytes %#x, the first other at %d: %d, want %d", size, b, end, got, want)
				}
			}
		}
	}
}
