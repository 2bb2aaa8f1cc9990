package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/client"
)

// Live view's cost and speed, through the same bastion, CA (SQLite) and
// stock sshd as BenchmarkBastionVsProxyJump: the bastion's throughput
// with one and with ten watchers reading the session live, against none,
// in one run and alternating; and the latency from a line the target
// prints to a watcher reading it. Run with scripts/bench-live.sh; see
// docs/benchmarks.md.

// liveWatchers is how many auditors the bench policy has: the most
// watchers a run uses.
const liveWatchers = 10

// livePayload waits a second (so that watchers are watching before the
// output starts: the rate is timed from its first byte), then prints
// 64 MiB of text.
var livePayload = benchPayload{"sleep 1; yes 'lockbox bench: the quick brown fox jumps over the lazy dog 0123456789' | head -c 67108864", 64 << 20}

func BenchmarkLiveView(b *testing.B) {
	f := newPathsFixture(b)
	b.Run("throughput", f.liveThroughput)
	b.Run("latency", f.liveLatency)
}

// watchers are n auditors watching the next session to start, each in a
// goroutine of its own, until it ends.
type watchers struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
	bytes int64
	ready sync.WaitGroup
}

func (f *pathsFixture) watch(ctx context.Context, n int, onData func([]byte)) *watchers {
	w := &watchers{}
	auditors := f.fresh[len(f.fresh)-liveWatchers:]
	for _, u := range auditors[:n] {
		w.wg.Add(1)
		w.ready.Add(1)
		go func() {
			defer w.wg.Done()
			err := watchOne(ctx, u.api, &w.ready, func(p []byte) {
				w.mu.Lock()
				w.bytes += int64(len(p))
				w.mu.Unlock()
				if onData != nil {
					onData(p)
				}
			})
			if err != nil {
				w.mu.Lock()
				w.err = errors.Join(w.err, err)
				w.mu.Unlock()
			}
		}()
	}
	return w
}

// watchOne waits for a session to be listed live, watches it, and reads
// it until it ends.
func watchOne(ctx context.Context, cl *client.Client, ready *sync.WaitGroup, onData func([]byte)) error {
	var id string
	for id == "" {
		list, err := cl.LiveSessions(ctx)
		if err != nil && !client.IsCode(err, "forbidden") {
			ready.Done()
			return err
		}
		if len(list) > 0 {
			id = list[0].ID
			break
		}
		select {
		case <-ctx.Done():
			ready.Done()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	w, err := cl.StartWatch(ctx, id, "cli")
	ready.Done()
	if err != nil {
		return err
	}
	after := int64(-1)
	for {
		out, err := cl.ReadLive(ctx, id, w.ID, after, time.Second)
		if err != nil {
			return err
		}
		onData(out.Data)
		after = out.Next
		if out.Ended {
			return cl.StopWatch(ctx, id, w.ID)
		}
	}
}

func (f *pathsFixture) liveThroughput(b *testing.B) {
	// -1: the same payload through ProxyJump, to show how loaded the
	// machine was.
	counts := []int{0, 1, liveWatchers, -1}
	rates := map[int][]float64{}
	received := map[int]int64{}
	for i := 0; b.Loop(); i++ {
		for j := range counts {
			n := counts[(i+j)%len(counts)]
			if n < 0 {
				t, err := timeSSH(f.proxyJumpCmd(livePayload.command), livePayload.size)
				if err != nil {
					b.Fatal(err)
				}
				rates[n] = append(rates[n], t.mibps())
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			w := f.watch(ctx, n, nil)
			t, err := timeSSH(f.bastionCmd(f.regular, "", livePayload.command), livePayload.size)
			if err != nil {
				cancel()
				b.Fatalf("%v\nbastion log:\n%s", err, f.bastion.log.String())
			}
			w.wg.Wait()
			cancel()
			if w.err != nil {
				b.Fatalf("watchers: %v", w.err)
			}
			rates[n] = append(rates[n], t.mibps())
			received[n] += w.bytes
		}
	}
	b.ReportMetric(0, "ns/op")
	none := median(rates[0])
	b.ReportMetric(none, "none-MiB/s")
	b.ReportMetric(median(rates[-1]), "proxyjump-MiB/s")
	b.ReportMetric(median(rates[1])/none, "1-watcher-ratio")
	b.ReportMetric(median(rates[liveWatchers])/none, "10-watchers-ratio")
	// What the watchers saw of the 64 MiB (they skip what the CA could not
	// take in time), per watcher and run.
	runs := float64(len(rates[1]))
	b.ReportMetric(float64(received[1])/runs/(1<<20), "1-watcher-MiB-seen")
	b.ReportMetric(float64(received[liveWatchers])/runs/liveWatchers/(1<<20), "10-watchers-MiB-seen")
}

// liveLatency: the target prints the time every 50 ms for 10 s; one
// watcher reads the lines and measures how late each arrives (the target
// and the benchmark share the clock).
func (f *pathsFixture) liveLatency(b *testing.B) {
	var lat []float64
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var mu sync.Mutex
		var line bytes.Buffer
		w := f.watch(ctx, 1, func(p []byte) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			line.Write(p)
			sc := bufio.NewScanner(bytes.NewReader(line.Bytes()))
			consumed := 0
			for sc.Scan() {
				text := sc.Bytes()
				if consumed+len(text)+1 > line.Len() {
					break // no line feed yet
				}
				consumed += len(text) + 1
				if ns, err := strconv.ParseInt(string(bytes.TrimSpace(text)), 10, 64); err == nil {
					lat = append(lat, ms(now.Sub(time.Unix(0, ns))))
				}
			}
			line.Next(consumed)
		})
		if _, err := timeSSH(f.bastionCmd(f.regular, "", "sleep 1; i=0; while [ $i -lt 200 ]; do date +%s%N; sleep 0.05; i=$((i+1)); done"), 0); err != nil {
			cancel()
			b.Fatalf("%v\nbastion log:\n%s", err, f.bastion.log.String())
		}
		w.wg.Wait()
		cancel()
		if w.err != nil {
			b.Fatalf("watcher: %v", w.err)
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(len(lat)), "lines")
	b.ReportMetric(median(lat), "p50-ms")
	b.ReportMetric(percentile(lat, 99), "p99-ms")
	b.ReportMetric(percentile(lat, 100), "max-ms")
}
