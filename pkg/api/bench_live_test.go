package api_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// BenchmarkLiveWatchers measures what watchers cost in CPU (this
// process's user and system time: the CA on SQLite, the bastion's and the
// watchers' clients, all in one process), not in wall-clock time, so that
// a loaded machine does not skew it:
//
//   - burst: the bastion reports 128 KiB of output (the most a report of
//     a session carries) and every watcher, waiting in a read, receives
//     it: CPU per report, and per watcher read;
//   - idle: every watcher waits 250 ms in a read for output that does not
//     come: CPU per watcher and second of waiting.
func BenchmarkLiveWatchers(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("burst/watchers=%d", n), func(b *testing.B) { benchLiveBurst(b, n) })
		b.Run(fmt.Sprintf("idle/watchers=%d", n), func(b *testing.B) { benchLiveIdle(b, n) })
	}
}

// auditorsWatching starts n watches of session id by the policy's
// auditors, in turn.
func auditorsWatching(b *testing.B, s *server, id string, n int) ([]*client.Client, []string) {
	auditors := []string{"user:carol", "user:erin", "user:frank"}
	var cls []*client.Client
	var watches []string
	for i := range n {
		cl := s.client(b, auditors[i%len(auditors)])
		w, err := cl.StartWatch(ctx, id, "cli")
		if err != nil {
			b.Fatal(err)
		}
		cls, watches = append(cls, cl), append(watches, w.ID)
	}
	return cls, watches
}

func benchLiveBurst(b *testing.B, n int) {
	s, id := liveServer(b)
	cls, watches := auditorsWatching(b, s, id, n)
	bastion := s.client(b, "bastion:bastion-1")
	const start = 17 // liveServer's output
	data := bytes.Repeat([]byte("lockbox bench: the quick brown fox jumps over the lazy dog 0123456789\n"), (128<<10)/70)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan int64, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := int64(start)
			for runCtx.Err() == nil {
				out, err := cls[i].ReadLive(runCtx, id, watches[i], after, 2*time.Second)
				if err != nil {
					if runCtx.Err() == nil {
						b.Error(err)
					}
					return
				}
				if len(out.Data) > 0 {
					got <- out.Next
				}
				after = out.Next
			}
		}()
	}
	off := int64(start)
	cpu := processCPU(b)
	for b.Loop() {
		if _, err := bastion.ReportLive(ctx, wire.LiveReport{Sessions: []wire.LiveFeed{{Session: id, Offset: off, Data: data}}}); err != nil {
			b.Fatal(err)
		}
		off += int64(len(data))
		for range n {
			if next := <-got; next != off {
				b.Fatalf("a watcher read up to %d, want %d", next, off)
			}
		}
	}
	used := processCPU(b) - cpu
	cancel()
	b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-us/report")
	b.ReportMetric(float64(used.Microseconds())/float64(b.N*n), "cpu-us/read")
}

func benchLiveIdle(b *testing.B, n int) {
	s, id := liveServer(b)
	cls, watches := auditorsWatching(b, s, id, n)
	const wait = 250 * time.Millisecond
	cpu := processCPU(b)
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := cls[i].ReadLive(ctx, id, watches[i], 17, wait)
				if err != nil || len(out.Data) > 0 {
					b.Errorf("an idle read: %+v, %v", out, err)
				}
			}()
		}
		wg.Wait()
	}
	used := processCPU(b) - cpu
	b.ReportMetric(float64(used.Microseconds())/(float64(b.N*n)*wait.Seconds()), "cpu-us/watcher-s")
}
