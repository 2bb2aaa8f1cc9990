package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/hooktest"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
	"github.com/lockbox-ssh/lockbox/pkg/outbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

var ctx = context.Background()

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func sqlite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// webhook is a signed webhook channel to rcv.
func webhook(t *testing.T, name string, rcv *hooktest.Receiver) channel.Channel {
	t.Helper()
	t.Setenv("HOOKTEST_SECRET", hooktest.Secret)
	c, err := channel.New(channel.Endpoint{Name: name, Kind: channel.Webhook, URL: rcv.URL(), Secret: "env:HOOKTEST_SECRET",
		AllowPlainHTTP: true, HTTP: notify.HTTPConfig{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// queue writes n request.pending messages for endpoint, as the workflow
// does, and returns their keys.
func queue(t *testing.T, st store.Store, endpoint string, n int, at time.Time) []string {
	t.Helper()
	var keys []string
	err := st.Update(ctx, func(tx store.Tx) error {
		keys = keys[:0]
		for i := range n {
			m := notify.Message{Key: notify.NewKey(notify.RequestPending, fmt.Sprint("req-", i), endpoint), Kind: notify.RequestPending,
				Time: at, To: []notify.Recipient{{Name: "carol"}}, Request: &notify.Request{ID: fmt.Sprint("req-", i), Requester: "alice",
					Role: notify.Role{Name: "admin", Login: "root"}, Duration: time.Hour, Justification: "incident"}}
			body, err := json.Marshal(&m)
			if err != nil {
				return err
			}
			if err := tx.EnqueueOutbox(&store.OutboxMessage{Key: m.Key, Endpoint: endpoint, Kind: string(m.Kind),
				Subject: m.Request.ID, Body: body, CreatedAt: at}); err != nil {
				return err
			}
			keys = append(keys, m.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func rows(t *testing.T, st store.Store, states ...store.OutboxState) []*store.OutboxMessage {
	t.Helper()
	var out []*store.OutboxMessage
	if err := st.Update(ctx, func(tx store.Tx) (err error) {
		out, err = tx.OutboxMessages(store.OutboxFilter{States: states})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitRows waits until n rows are in state, checking every few
// milliseconds until timeout.
func waitRows(t *testing.T, st store.Store, state store.OutboxState, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for len(rows(t, st, state)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows %s after %v, want %d", len(rows(t, st, state)), state, timeout, n)
		}
		time.Sleep(5 * time.Millisecond) // polling the database: there is no event to wait on
	}
}

func newLoop(t *testing.T, cfg outbox.Config) *outbox.Loop {
	t.Helper()
	l, err := outbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Queued rows reach a receiver that checks the signature, once each,
// and are recorded delivered.
func TestQueuedRowsAreDeliveredSignedAndRecorded(t *testing.T) {
	st := sqlite(t)
	rcv := hooktest.Start(t)
	keys := queue(t, st, "hook", 5, time.Now())
	l := newLoop(t, outbox.Config{Store: st, Channels: outbox.ChannelMap{"hook": webhook(t, "hook", rcv)}})
	n, err := l.Once(ctx)
	if err != nil || n != 5 {
		t.Fatalf("one pass: %d rows, %v; want 5", n, err)
	}
	got := rcv.Keys()
	for _, k := range keys {
		if _, ok := got[k]; !ok {
			t.Errorf("%s did not arrive", k)
		}
	}
	if rcv.BadSignatures() != 0 || rcv.Repeats() != 0 || len(got) != 5 {
		t.Fatalf("%d keys, %d bad signatures, %d repeats", len(got), rcv.BadSignatures(), rcv.Repeats())
	}
	if d := rows(t, st, store.OutboxDelivered); len(d) != 5 || d[0].Attempts != 1 || d[0].DoneAt.IsZero() {
		t.Fatalf("delivered rows: %d (first %+v), want 5 after one attempt", len(d), d[0])
	}
	if n, _ := l.Once(ctx); n != 0 {
		t.Fatalf("a second pass claimed %d delivered rows", n)
	}
}

// flaky fails with err until told otherwise, counting attempts.
type flaky struct {
	mu       sync.Mutex
	err      error
	attempts int
}

func (f *flaky) Name() string { return "flaky" }
func (f *flaky) Deliver(context.Context, *notify.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	return f.err
}

// ops routes every message.dead notice to the endpoint "ops".
type ops struct{}

func (ops) Route(m *notify.Message) []notify.Target {
	if m.Kind == notify.MessageDead {
		return []notify.Target{{Endpoint: "ops"}}
	}
	return nil
}

func auditActions(t *testing.T, st store.Store, action string) []store.AuditRecord {
	t.Helper()
	var out []store.AuditRecord
	if err := st.Update(ctx, func(tx store.Tx) error {
		all, err := tx.Audit(0, 10000)
		for _, r := range all {
			if r.Action == action {
				out = append(out, r)
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A retryable failure waits the backoff (at most Base·2^(n-1), jittered)
// before the next attempt, and after MaxAttempts the row is dead,
// audited, and a message.dead notice is queued for operators.
func TestRetriesBackOffThenTheRowIsDeadAuditedAndNoticed(t *testing.T) {
	st := sqlite(t)
	c := &clock{now: t0}
	bad := &flaky{err: &notify.Failure{Class: notify.Retryable, Err: notify.ErrUnavailable}}
	key := queue(t, st, "flaky", 1, t0)[0]
	l := newLoop(t, outbox.Config{Store: st, Channels: outbox.ChannelMap{"flaky": bad}, Router: ops{}, Clock: c.Now,
		MaxAttempts: 4, Backoff: notify.Backoff{Base: 10 * time.Second, Max: 25 * time.Second}, Jitter: func() float64 { return 0.999 }})
	var waits []time.Duration
	for attempt := 1; attempt <= 4; attempt++ {
		if n, err := l.Once(ctx); n != 1 || err != nil {
			t.Fatalf("attempt %d: %d rows, %v", attempt, n, err)
		}
		r := rows(t, st)
		var row *store.OutboxMessage
		for _, x := range r {
			if x.Key == key {
				row = x
			}
		}
		if row.Attempts != attempt {
			t.Fatalf("attempts %d, want %d", row.Attempts, attempt)
		}
		if attempt == 4 {
			if row.State != store.OutboxDead || row.LastError == "" {
				t.Fatalf("after %d attempts: %s (%q), want dead with the error", attempt, row.State, row.LastError)
			}
			break
		}
		wait := row.DueAt.Sub(c.Now())
		waits = append(waits, wait)
		c.Set(row.DueAt.Add(-time.Millisecond))
		if n, _ := l.Once(ctx); n != 0 {
			t.Fatalf("attempt %d: retried before its backoff ran out", attempt)
		}
		c.Set(row.DueAt)
	}
	// Ceilings 10s, 20s, 25s (capped), each drawn at 0.999.
	for i, ceiling := range []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second} {
		if waits[i] < ceiling*99/100 || waits[i] >= ceiling {
			t.Errorf("wait after attempt %d: %v, want just under %v", i+1, waits[i], ceiling)
		}
	}
	dead := auditActions(t, st, outbox.ActionDead)
	if len(dead) != 1 || dead[0].Subject != key {
		t.Fatalf("notification.dead rows: %+v, want one for %s", dead, key)
	}
	var detail map[string]any
	json.Unmarshal(dead[0].Detail, &detail)
	if detail["endpoint"] != "flaky" || detail["attempts"] != float64(4) || detail["last_error"] == "" {
		t.Fatalf("the audit detail: %v", detail)
	}
	var notice *store.OutboxMessage
	for _, r := range rows(t, st, store.OutboxQueued) {
		if r.Kind == string(notify.MessageDead) {
			notice = r
		}
	}
	if notice == nil || notice.Endpoint != "ops" || notice.Subject != key {
		t.Fatalf("no message.dead notice queued for ops about %s", key)
	}
	var m notify.Message
	if err := json.Unmarshal(notice.Body, &m); err != nil || m.Validate() != nil || m.Dead.Key != key || m.Dead.Attempts != 4 {
		t.Fatalf("the notice: %+v (%v)", m, err)
	}
}

// A permanent failure (the receiver refused the message) is dead at the
// first attempt; a dead notice that cannot be delivered is not noticed
// again.
func TestPermanentFailureIsDeadAtOnceAndDeadNoticesDoNotLoop(t *testing.T) {
	st := sqlite(t)
	refused := &flaky{err: &notify.Failure{Class: notify.Permanent, Err: notify.ErrRefused}}
	queue(t, st, "flaky", 1, time.Now())
	l := newLoop(t, outbox.Config{Store: st, Channels: outbox.ChannelMap{"flaky": refused, "ops": refused}, Router: ops{}})
	if _, err := l.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if d := rows(t, st, store.OutboxDead); len(d) != 1 || d[0].Attempts != 1 {
		t.Fatalf("dead rows: %+v, want one after 1 attempt", d)
	}
	if _, err := l.Once(ctx); err != nil { // the notice to ops, refused too
		t.Fatal(err)
	}
	if _, err := l.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if d := rows(t, st, store.OutboxDead); len(d) != 2 {
		t.Fatalf("dead rows: %d, want 2 (the message and its notice, nothing more)", len(d))
	}
	if q := rows(t, st, store.OutboxQueued); len(q) != 0 {
		t.Fatalf("%d rows still queued", len(q))
	}
	if n := len(auditActions(t, st, outbox.ActionDead)); n != 2 {
		t.Fatalf("%d notification.dead rows, want 2", n)
	}
}

// An endpoint this CA does not know is retried (its configuration may
// come back), and ends dead.
func TestUnknownEndpointIsRetriedThenDead(t *testing.T) {
	st := sqlite(t)
	c := &clock{now: t0}
	queue(t, st, "gone", 1, t0)
	l := newLoop(t, outbox.Config{Store: st, Channels: outbox.ChannelMap{}, Clock: c.Now, MaxAttempts: 2,
		Backoff: notify.Backoff{Base: time.Second, Max: time.Second}})
	l.Once(ctx)
	r := rows(t, st)[0]
	if r.State != store.OutboxQueued || r.Attempts != 1 {
		t.Fatalf("after one attempt: %s, %d attempts", r.State, r.Attempts)
	}
	c.Set(t0.Add(time.Second))
	l.Once(ctx)
	if r := rows(t, st)[0]; r.State != store.OutboxDead || r.LastError == "" {
		t.Fatalf("after two attempts: %+v", r)
	}
}

// Loops of two replicas on one database deliver every row, none twice
// at the same time.
func TestTwoLoopsDeliverEachRowOnce(t *testing.T) {
	st := sqlite(t)
	rcv := hooktest.Start(t)
	keys := queue(t, st, "hook", 200, time.Now())
	ch := outbox.ChannelMap{"hook": webhook(t, "hook", rcv)}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, owner := range []string{"ca-1", "ca-2"} {
		l := newLoop(t, outbox.Config{Store: st, Channels: ch, Owner: owner, Batch: 7, Poll: 10 * time.Millisecond})
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(runCtx) }()
	}
	err := rcv.WaitKeys(ctx, 20*time.Second, len(keys))
	if err != nil {
		t.Fatalf("%d of %d keys arrived", len(rcv.Keys()), len(keys))
	}
	waitRows(t, st, store.OutboxDelivered, len(keys), 10*time.Second)
	stop()
	wg.Wait()
	if rcv.Repeats() != 0 {
		t.Fatalf("%d repeated deliveries", rcv.Repeats())
	}
	if d := rows(t, st, store.OutboxDelivered); len(d) != len(keys) {
		t.Fatalf("%d rows delivered, want %d", len(d), len(keys))
	}
}

// A receiver that answers 500 gets the message again later; once it
// recovers, it arrives.
func TestReceiverErrorsAreRetriedUntilItRecovers(t *testing.T) {
	st := sqlite(t)
	rcv := hooktest.Start(t)
	rcv.Answer(http.StatusInternalServerError)
	key := queue(t, st, "hook", 1, time.Now())[0]
	l := newLoop(t, outbox.Config{Store: st, Channels: outbox.ChannelMap{"hook": webhook(t, "hook", rcv)},
		Backoff: notify.Backoff{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond}, Poll: 10 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go l.Run(runCtx)
	if !rcv.WaitFor(ctx, 10*time.Second, func(r *hooktest.Receiver) bool { return len(r.Attempts()) >= 3 }) {
		t.Fatal("fewer than 3 attempts")
	}
	rcv.Answer(0)
	if err := rcv.WaitKeys(ctx, 10*time.Second, 1); err != nil {
		t.Fatal(err)
	}
	statuses := []int{}
	for _, a := range rcv.Attempts() {
		if a.Key != key {
			t.Fatalf("unexpected key %s", a.Key)
		}
		statuses = append(statuses, a.Status)
	}
	if !slices.Contains(statuses, 500) || statuses[len(statuses)-1] != 204 {
		t.Fatalf("statuses %v, want 500s then 204", statuses)
	}
}
