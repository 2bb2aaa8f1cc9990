package api_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/hooktest"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
	"github.com/lockbox-ssh/lockbox/pkg/outbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// toHook routes every message to the endpoint "hook".
type toHook struct{}

func (toHook) Route(m *notify.Message) []notify.Target {
	return []notify.Target{{Endpoint: "hook", To: m.To}}
}

// notifyingServer is an API server whose workflow queues every
// notification for a signed webhook to hook, delivered by an outbox loop
// with its default settings (poll 250ms) until the benchmark ends. With
// hook nil it queues nothing and runs no loop. The per-user limits are
// lifted so one person can keep many requests pending.
func notifyingServer(b *testing.B, st store.Store, hook *hooktest.Receiver) *server {
	b.Helper()
	s := newServerWorkflow(b, st, b.TempDir(), func(c *workflow.Config) {
		if hook != nil {
			c.Router = toHook{}
		}
	})
	p := s.policy.Get()
	p.Settings.MaxPendingRequestsPerUser, p.Settings.MaxActiveGrantsPerUser = 1_000_000, 1_000_000
	if hook == nil {
		return s
	}
	b.Setenv("BENCH_HOOK_SECRET", hooktest.Secret)
	ch, err := channel.New(channel.Endpoint{Name: "hook", Kind: channel.Webhook, URL: hook.URL(), Secret: "env:BENCH_HOOK_SECRET", AllowPlainHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	loop, err := outbox.New(outbox.Config{Store: st, Channels: outbox.ChannelMap{"hook": ch}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); loop.Run(ctx) }()
	b.Cleanup(func() { stop(); <-done })
	return s
}

func benchStores(b *testing.B, fn func(b *testing.B, st store.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "lockbox.db"), sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		fn(b, st)
	})
	b.Run("mysql", func(b *testing.B) {
		st, err := sqlstore.OpenMySQL(storetest.MySQLDSN(b), sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		fn(b, st)
	})
}

// submitAtRate submits n requests (role reader, pending for approval, so
// each queues request.pending) at rate per second until n or stop, and
// returns when each was answered, by request ID. A failed submission
// fails the benchmark, or with failed set is counted there.
func submitAtRate(b *testing.B, s *server, n int, rate float64, stop <-chan struct{}, failed *atomic.Int64) map[string]time.Time {
	cl := s.client(b, "user:alice")
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sent := map[string]time.Time{}
	for i := 0; n <= 0 || i < n; i++ {
		select {
		case <-tick.C:
		case <-stop:
			wg.Wait()
			return sent
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := cl.Submit(context.Background(), wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "30m",
				Reason: fmt.Sprint("bench ", i)})
			if err != nil {
				if failed == nil {
					b.Error(err)
				} else {
					failed.Add(1)
				}
				return
			}
			mu.Lock()
			sent[r.ID] = t0
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sent
}

// BenchmarkSubmitToWebhook measures the time from a request's submission
// through the API to the first signed webhook delivery of its
// request.pending reaching a receiver, at 100 submissions per second,
// with the outbox's default poll (250ms). Run it with -benchtime Nx:
// N submissions take N/100 seconds. Submissions the store could not
// take within its deadline (a loaded machine) are counted
// (submit-errors) and left out of the latencies.
func BenchmarkSubmitToWebhook(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		hook := hooktest.Start(b)
		s := notifyingServer(b, st, hook)
		b.ResetTimer()
		var failed atomic.Int64
		sent := submitAtRate(b, s, b.N, 100, nil, &failed)
		if err := hook.WaitKeys(context.Background(), 60*time.Second, len(sent)); err != nil {
			b.Fatalf("%d of %d delivered", len(hook.Keys()), len(sent))
		}
		b.StopTimer()
		var lat []time.Duration
		for key, at := range hook.Keys() {
			body, _ := hook.Body(key)
			if body.Request == nil {
				continue
			}
			if t0, ok := sent[body.Request.ID]; ok {
				lat = append(lat, at.Sub(t0))
			}
		}
		if len(lat) != len(sent) {
			b.Fatalf("%d latencies for %d submissions", len(lat), len(sent))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(failed.Load()), "submit-errors")
		if hook.Repeats() != 0 {
			b.Errorf("%d repeated deliveries", hook.Repeats())
		}
	})
}

// BenchmarkIssueWithNotifications is BenchmarkIssueCertificate beside a
// stream of 20 submissions per second, with notifications off (no
// router, no loop) and on (each submission queues request.pending in its
// transaction, and the outbox loop delivers it to a signed webhook): the
// cost of the outbox to issuance. Submissions the saturated store could
// not take within its deadline are counted (submit-errors), the same way
// in both modes.
func BenchmarkIssueWithNotifications(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			benchStores(b, func(b *testing.B, st store.Store) {
				var hook *hooktest.Receiver
				if mode == "on" {
					hook = hooktest.Start(b)
				}
				s := notifyingServer(b, st, hook)
				stop := make(chan struct{})
				done := make(chan map[string]time.Time)
				var failed atomic.Int64
				go func() { done <- submitAtRate(b, s, 0, 20, stop, &failed) }()
				benchIssueOn(b, s)
				close(stop)
				sent := <-done
				b.ReportMetric(float64(len(sent))/b.Elapsed().Seconds(), "submits/s")
				b.ReportMetric(float64(failed.Load()), "submit-errors")
			})
		})
	}
}
