package recording

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Recordings made through a Spool are flushed by the spool's one
// goroutine: an event is on disk within FlushEvery, and the goroutine stops
// when the last recording closes.
func TestSpoolFlushesItsRecordings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ws []*Writer
	for _, id := range []string{"sess-a", "sess-b"} {
		w, err := s.Create(id, Header{Width: 80, Height: 24}, WriterOptions{FlushEvery: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Output([]byte("hello " + id)); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	for _, id := range []string{"sess-a", "sess-b"} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			data, _ := os.ReadFile(filepath.Join(dir, id+".cast.gz"))
			if rec, err := Read(bytes.NewReader(data), 1<<20); err == nil && strings.Contains(string(Output(rec)), "hello "+id) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the event never reached the file", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		running := s.running
		s.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flushing goroutine outlived the last recording")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
