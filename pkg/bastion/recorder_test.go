package bastion

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

// chunkOf copies s into a pooled buffer, as pump does.
func chunkOf(s string) (*[]byte, int) {
	buf := bufs.Get().(*[]byte)
	return buf, copy(*buf, s)
}

// newTestRecording makes an 80x24 recording in a file of its own, at
// path, flushed only when it closes.
func newTestRecording(t *testing.T) (path string, w *recording.Writer) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "rec.cast.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err = recording.NewWriter(f, recording.Header{Width: 80, Height: 24}, recording.WriterOptions{FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return path, w
}

// The recorder writes what the pumps hand it, each pump's chunks in order,
// with a goroutine only while chunks are queued: an idle session has none.
func TestRecorderRunsOnlyWhileChunksAreQueued(t *testing.T) {
	path, w := newTestRecording(t)
	r := newRecorder(w, func(err error) { t.Errorf("recording failed: %v", err) })

	for round := range 3 {
		var wg sync.WaitGroup
		for _, kind := range []byte{'o', 'i'} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					buf, n := chunkOf(fmt.Sprintf("%c%d.%d ", kind, round, i))
					r.data(kind, buf, n)
				}
			}()
		}
		wg.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for r.running.Load() || len(r.q) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the recorder's goroutine still runs with nothing queued", round)
			}
			time.Sleep(time.Millisecond)
		}
	}
	r.close()
	buf, n := chunkOf("after close")
	r.data('o', buf, n) // dropped, as input after the session ended is
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recording.Read(bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got [2]bytes.Buffer
	for _, ev := range rec.Events {
		got[bytes.IndexByte([]byte("oi"), ev.Kind)].Write(ev.Data)
	}
	for k, kind := range []byte{'o', 'i'} {
		var want bytes.Buffer
		for round := range 3 {
			for i := range 200 {
				fmt.Fprintf(&want, "%c%d.%d ", kind, round, i)
			}
		}
		if got[k].String() != want.String() {
			t.Errorf("%c stream out of order or incomplete:\n got %.200q\nwant %.200q", kind, got[k].String(), want.String())
		}
	}
}
