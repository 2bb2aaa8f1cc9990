package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/hooktest"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The notification outbox with real CA processes: a CA built with
// -tags outboxtest routes every notification to one signed webhook (see
// cmd/ca/routing_outboxtest.go), here a receiver in the test that checks
// each delivery's signature and counts deliveries per idempotency key.

var (
	outboxBinOnce sync.Once
	outboxBin     string
	outboxBinErr  error
)

// outboxCABinary builds the outboxtest CA once per test run.
func outboxCABinary(t *testing.T) string {
	t.Helper()
	outboxBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lockbox-outbox-bin-")
		if err != nil {
			outboxBinErr = err
			return
		}
		cmd := exec.Command("go", "build", "-tags", "outboxtest", "-o", filepath.Join(dir, "ca"), "../cmd/ca")
		out, err := cmd.CombinedOutput()
		if err != nil {
			outboxBinErr = fmt.Errorf("building the outboxtest CA: %v\n%s", err, out)
		}
		outboxBin = filepath.Join(dir, "ca")
	})
	if outboxBinErr != nil {
		t.Fatal(outboxBinErr)
	}
	return outboxBin
}

// outboxFlags make delivery fast and its retries visible within seconds.
var outboxFlags = []string{"--outbox_poll_interval", "50ms", "--outbox_lease", "2s",
	"--outbox_backoff_base", "100ms", "--outbox_backoff_max", "10s"}

// startOutboxCA starts c with the outboxtest binary, delivering to hook.
func (c *ca) startOutboxCA(hook *hooktest.Receiver, extra ...string) {
	t := c.t
	t.Helper()
	c.log = &syncBuffer{}
	args := append([]string{"serve", "--data", c.dir, "--policy", c.policy,
		"--listen", "127.0.0.1:0", "--sweep_interval", "1s", "--pending_timeout", "1h", "--metrics_listen", "off"}, append(append([]string{}, outboxFlags...), extra...)...)
	cmd := exec.Command(outboxCABinary(t), args...)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER="+c.driver, "LOCKBOX_STORE_DSN="+c.dsn,
		"LOCKBOX_TEST_WEBHOOK_URL="+hook.URL(), "LOCKBOX_TEST_WEBHOOK_SECRET="+hooktest.Secret)
	cmd.Stderr = c.log
	c.cmd = cmd
	c.url = "http://" + startListening(t, cmd, "ca serve (outboxtest)", c.log)
}

// kill stops c with SIGKILL and waits for it to be gone.
func (c *ca) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// roomyLimits lifts the per-user limits so one person can file many
// requests.
func roomyLimits(name string, data []byte) []byte {
	if name != "settings.yaml" {
		return data
	}
	s := strings.Replace(string(data), "max_pending_requests_per_user: 5", "max_pending_requests_per_user: 5000", 1)
	return []byte(strings.Replace(s, "max_active_grants_per_user: 3", "max_active_grants_per_user: 5000", 1))
}

// submitMany files n requests as alice through the API, from a few
// goroutines, each of which queues request.pending to her approvers.
func submitMany(t *testing.T, c *ca, n int) []string {
	t.Helper()
	cl := c.api("user:alice")
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := cl.Submit(context.Background(), wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "30m",
					Reason: fmt.Sprintf("outbox test %d", i)})
				if err != nil {
					errs <- err
					continue
				}
				ids[i] = r.ID
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("submitting: %v", err)
	}
	return ids
}

// pendingKeysOf lists the request IDs the receiver heard of as pending.
func pendingKeysOf(t *testing.T, hook *hooktest.Receiver) map[string]int {
	t.Helper()
	out := map[string]int{}
	for key := range hook.Keys() {
		b, _ := hook.Body(key)
		if b.Event == "request.pending" && b.Request != nil {
			out[b.Request.ID]++
		}
	}
	return out
}

// The CA is killed with SIGKILL after the requests committed and before
// their notifications were delivered (the receiver is down, so none
// was): restarted, it delivers each, once per idempotency key, signed.
func TestOutboxDeliversOnceAfterTheCAIsKilledBetweenCommitAndDelivery(t *testing.T) {
	engines(t, func(t *testing.T, driver string) {
		hook := hooktest.Start(t)
		hook.Stop() // down: nothing can be delivered before the kill
		c := newCA(t, driver)
		c.writePolicy(roomyLimits)
		c.startOutboxCA(hook)
		ids := submitMany(t, c, 20)
		c.kill()
		if n := len(hook.Keys()); n != 0 {
			t.Fatalf("%d deliveries before the kill, with the receiver down", n)
		}
		hook.Restart()
		c.startOutboxCA(hook)
		if err := hook.WaitKeys(context.Background(), 60*time.Second, len(ids)); err != nil {
			t.Fatalf("after the restart %d of %d notifications arrived: %v", len(hook.Keys()), len(ids), err)
		}
		got := pendingKeysOf(t, hook)
		for _, id := range ids {
			if got[id] != 1 {
				t.Errorf("request %s: %d distinct notifications, want 1", id, got[id])
			}
		}
		if hook.BadSignatures() != 0 || hook.Repeats() != 0 {
			t.Fatalf("%d bad signatures, %d repeated keys", hook.BadSignatures(), hook.Repeats())
		}
	})
}

// The CA is killed with SIGKILL while it waits for the receiver's answer
// to a delivery the receiver took: the outcome was never recorded, so
// once the lease runs out the restarted CA delivers it again, with the
// same idempotency key, which the receiver drops: one message, acted on
// once, and recorded delivered.
func TestOutboxRepeatsAKilledDeliveryWithTheSameKey(t *testing.T) {
	hook := hooktest.Start(t)
	hook.Hold()
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	c.startOutboxCA(hook)
	submitMany(t, c, 1)
	if !hook.WaitFor(context.Background(), 30*time.Second, func(r *hooktest.Receiver) bool { return len(r.Attempts()) == 1 }) {
		t.Fatal("the delivery did not reach the receiver")
	}
	c.kill()
	hook.Release()
	c.startOutboxCA(hook)
	if !hook.WaitFor(context.Background(), 30*time.Second, func(r *hooktest.Receiver) bool { return r.Repeats() == 1 }) {
		t.Fatalf("no repeat after the restart (lease 2s); attempts %+v", hook.Attempts())
	}
	as := hook.Attempts()
	if len(hook.Keys()) != 1 || len(as) != 2 || as[0].Key != as[1].Key {
		t.Fatalf("attempts %+v, want two of one key", as)
	}
	deadline := time.Now().Add(20 * time.Second)
	for out := ""; !strings.Contains(out, "0 queued, 1 delivered, 0 dead"); out = c.ok("carol", "notifications") {
		if time.Now().After(deadline) {
			t.Fatalf("lockbox notifications:\n%s", out)
		}
	}
}

// Two CA replicas share one MySQL database: 1,000 events, each delivered
// once, never twice at the same time by both.
func TestOutboxTwoReplicasDeliverAThousandEventsWithoutDuplicates(t *testing.T) {
	hook := hooktest.Start(t)
	c := newCA(t, "mysql")
	c.writePolicy(roomyLimits)
	// A lease long enough for an outcome to be recorded on a loaded
	// database: a lease that runs out before then lets the other replica
	// deliver the row again (at least once), which this test would count.
	c.startOutboxCA(hook, "--outbox_lease", "30s")
	r := *c
	r.startOutboxCA(hook, "--outbox_lease", "30s")
	const events = 1000
	var ids []string
	var wg sync.WaitGroup
	var half [2][]string
	for i, replica := range []*ca{c, &r} {
		wg.Add(1)
		go func() { defer wg.Done(); half[i] = submitMany(t, replica, events/2) }()
	}
	wg.Wait()
	ids = append(half[0], half[1]...)
	if err := hook.WaitKeys(context.Background(), 120*time.Second, events); err != nil {
		t.Fatalf("%d of %d notifications arrived: %v", len(hook.Keys()), events, err)
	}
	got := pendingKeysOf(t, hook)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("request %s: %d notifications, want 1", id, got[id])
		}
	}
	if hook.Repeats() != 0 || hook.BadSignatures() != 0 {
		t.Fatalf("%d duplicate deliveries, %d bad signatures across two replicas", hook.Repeats(), hook.BadSignatures())
	}
	for _, log := range []string{c.log.String(), r.log.String()} {
		if !strings.Contains(log, "notification outbox delivering") {
			t.Fatalf("a replica did not start its outbox:\n%s", log)
		}
	}
}

// outageFor reads how long the receiver stays down in the outage test:
// LOCKBOX_OUTBOX_OUTAGE (a Go duration; the scenario is 30s),
// 3s by default to keep the suite fast.
func outageFor(t *testing.T) time.Duration {
	d := 3 * time.Second
	if v := os.Getenv("LOCKBOX_OUTBOX_OUTAGE"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			t.Fatalf("LOCKBOX_OUTBOX_OUTAGE=%q: want a positive duration", v)
		}
	}
	return d
}

// The receiver is down, then answers 500, then recovers: every message
// arrives, once per key, and the attempts the receiver saw are spaced by
// a growing backoff, not by the poll interval.
func TestOutboxRidesOutAnOutageThenErrorsWithBackoff(t *testing.T) {
	hook := hooktest.Start(t)
	hook.Stop()
	c := newCA(t, "sqlite")
	c.writePolicy(roomyLimits)
	// Attempts enough that no message dies during the outage: every one
	// must arrive after it.
	c.startOutboxCA(hook, "--outbox_max_attempts", "1000")
	ids := submitMany(t, c, 20)
	down := outageFor(t)
	start := time.Now()
	t.Logf("receiver down for %v", down)
	time.Sleep(down) // the outage itself is what is under test: a span of time, not a wait for an event
	hook.Restart()
	hook.Answer(500)
	errorsFor := 3 * time.Second
	t.Logf("receiver answers 500 for %v", errorsFor)
	time.Sleep(errorsFor) // likewise: how long the receiver fails
	hook.Answer(0)
	recovered := time.Now()
	if err := hook.WaitKeys(context.Background(), 60*time.Second, len(ids)); err != nil {
		t.Fatalf("%d of %d arrived after the recovery", len(hook.Keys()), len(ids))
	}
	if hook.Repeats() != 0 {
		t.Fatalf("%d repeated keys", hook.Repeats())
	}
	for key := range hook.Keys() {
		if strings.HasPrefix(key, string(notify.MessageDead)) {
			t.Fatalf("a message died during the outage (%s): not every message arrived", key)
		}
	}
	byKey := map[string][]hooktest.Attempt{}
	for _, a := range hook.Attempts() {
		byKey[a.Key] = append(byKey[a.Key], a)
	}
	var lines []string
	for key, as := range byKey {
		var stamps []string
		for _, a := range as {
			stamps = append(stamps, fmt.Sprintf("%+.2fs:%d", a.At.Sub(start).Seconds(), a.Status))
		}
		lines = append(lines, key[:24]+" "+strings.Join(stamps, " "))
		// Polled every 50ms, a message retried without backoff would hit
		// the receiver about 60 times in 3s of errors.
		if len(as) > 8 {
			t.Errorf("%s reached the receiver %d times in the error phase: no backoff", key, len(as))
		}
	}
	t.Logf("attempts seen by the receiver (seconds from the outage's start, status), recovered at %+.2fs:\n%s",
		recovered.Sub(start).Seconds(), strings.Join(lines, "\n"))
	// Full jitter draws each wait from [0, ceiling), so the gaps of 20
	// messages say nothing certain about growth; that the ceiling doubles
	// is pkg/notify's backoff tests' to show.
}

// A message the receiver never accepts ends dead after the configured
// attempts: audited as notification.dead, listed by lockbox
// notifications --dead, and its message.dead notice is queued (and,
// the receiver refusing it too, dies without a notice of its own).
func TestOutboxMessageThatNeverSucceedsEndsDeadAndAudited(t *testing.T) {
	hook := hooktest.Start(t)
	hook.Answer(503)
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	c.startOutboxCA(hook, "--outbox_max_attempts", "3", "--outbox_backoff_max", "300ms")
	submitMany(t, c, 1)
	auditor := c.api("user:carol")
	deadline := time.Now().Add(30 * time.Second)
	var dead []wire.AuditRecord
	for len(dead) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no notification.dead after 30s; CA log:\n%s", c.log.String())
		}
		recs, err := auditor.Audit(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Action == "notification.dead" {
				dead = append(dead, r)
			}
		}
		time.Sleep(100 * time.Millisecond) // polling the audit log: there is no event to wait on
	}
	var tries int
	for _, a := range hook.Attempts() {
		if strings.HasPrefix(a.Key, "request.pending-") {
			tries++
		}
	}
	if tries != 3 {
		t.Errorf("the receiver saw %d attempts, want 3 (max_attempts)", tries)
	}
	// The notice to operators goes to the same refusing receiver, and
	// dies in its turn; a dead notice is not noticed again.
	deadline = time.Now().Add(30 * time.Second)
	for queued := ""; !strings.Contains(queued, "0 queued, 0 delivered, 2 dead"); queued = c.ok("carol", "notifications") {
		if time.Now().After(deadline) {
			t.Fatalf("lockbox notifications after 30s:\n%s", queued)
		}
	}
	out := c.ok("carol", "notifications", "--dead")
	if !strings.Contains(out, "request.pending") || !strings.Contains(out, dead[0].Subject) || !strings.Contains(out, "receiver unavailable") ||
		!strings.Contains(out, "message.dead") {
		t.Fatalf("lockbox notifications --dead:\n%s", out)
	}
}
