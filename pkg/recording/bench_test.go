package recording

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// terminalLike is 32 KiB resembling busy terminal output: text, colours,
// cursor moves, some UTF-8 and the odd invalid byte.
func terminalLike() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"ls -la /var/log\r\n", "\x1b[1;32mok\x1b[0m ", "\x1b[12;40H", "é Ő 日本 ", "\x1b[?1049h", "\t", "\xff", "-rw-r--r-- 1 root root 4096 "}
	var b bytes.Buffer
	for b.Len() < 32<<10 {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.Bytes()[:32<<10]
}

// randomBytes is incompressible binary output, mostly invalid UTF-8.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

type discardFile struct{ io.Writer }

func (discardFile) Sync() error  { return nil }
func (discardFile) Close() error { return nil }

// outputChunk is 32 KiB of one kind of session output.
type outputChunk struct {
	name  string
	chunk []byte
}

func outputChunks() []outputChunk {
	return []outputChunk{
		{"terminal", terminalLike()},
		{"ascii", bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz 0123456789\n"), 1000)[:32<<10]},
		{"zeros", make([]byte, 32<<10)},
		{"random", randomBytes(32 << 10)},
	}
}

func BenchmarkWriterOutput(b *testing.B) {
	for _, tc := range outputChunks() {
		b.Run(tc.name, func(b *testing.B) {
			w, err := NewWriter(discardFile{io.Discard}, testHeader(), WriterOptions{FlushEvery: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			b.SetBytes(int64(len(tc.chunk)))
			for b.Loop() {
				if err := w.Output(tc.chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSanitize(b *testing.B) {
	chunk := terminalLike()
	s := NewSanitizer(io.Discard)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := s.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var file bytes.Buffer
	w, err := NewWriter(discardFile{&file}, testHeader(), WriterOptions{FlushEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	chunk := terminalLike()
	for range 32 {
		w.Output(chunk)
	}
	w.Close()
	b.SetBytes(int64(file.Len()))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(file.Bytes()), 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	for _, tc := range outputChunks() {
		if tc.name == "zeros" {
			continue // a run: appendText leaves it to the Writer's cached members
		}
		b.Run(tc.name, func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(tc.chunk)))
			for b.Loop() {
				dst, _ = appendText(dst[:0], tc.chunk)
			}
		})
	}
}

// BenchmarkExport exports a recording of 8 MiB of terminal-like output
// (256 events of 32 KiB): sanitising and JSON encoding.
func BenchmarkExport(b *testing.B) {
	chunk := terminalLike()
	rec := &Recording{Header: Header{Width: 80, Height: 24, Terminal: true}}
	for i := range 256 {
		rec.Events = append(rec.Events, Event{Time: time.Duration(i) * time.Millisecond, Kind: 'o', Data: chunk})
	}
	b.SetBytes(int64(256 * len(chunk)))
	for b.Loop() {
		if err := Export(io.Discard, rec); err != nil {
			b.Fatal(err)
		}
	}
}
