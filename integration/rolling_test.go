package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// freshCode is a TOTP code of who that the CA has not seen: a step after
// the last one used, waiting until the CA accepts it (at most the current
// step plus one).
func (w *world) freshCode(last map[string]int64, who string) string {
	w.t.Helper()
	step := max(last[who]+1, totp.Step(time.Now()))
	waitFor(w.t, 70*time.Second, "a TOTP step not used yet", func() bool { return step <= totp.Step(time.Now())+1 })
	last[who] = step
	w.mu.Lock()
	defer w.mu.Unlock()
	return totp.Code(w.mfa[who], step)
}

// restartOnSameAddress starts a stopped CA again where it listened.
func (c *ca) restartOnSameAddress() {
	addr := strings.TrimPrefix(c.url, "http://")
	flags := append([]string{}, c.flags...)
	if len(flags) < 2 || flags[len(flags)-2] != "--listen" {
		flags = append(flags, "--listen", addr)
	}
	c.start(flags...)
	if c.url != "http://"+addr {
		c.t.Fatalf("the CA moved from %s to %s", addr, c.url)
	}
}

// prober logs alice in through the bastions marked ready, one round after
// another, and keeps every round in which none of them let her in.
type prober struct {
	w      *world
	key    string
	turn   sync.Mutex // held for a round: alice has one session at a time
	mu     sync.Mutex
	ready  map[*bastionProc]bool
	rounds int
	ok     map[*bastionProc]int
	failed []string
	last   time.Time     // the latest login that got in
	gap    time.Duration // the longest time between two that got in
	stop   chan struct{}
	done   chan struct{}
}

func (p *prober) set(b *bastionProc, ready bool) {
	p.mu.Lock()
	p.ready[b] = ready
	p.mu.Unlock()
}

func (p *prober) run(order []*bastionProc) {
	defer close(p.done)
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		default:
		}
		p.turn.Lock()
		var why []string
		in := false
		for j := range order {
			b := order[(i+j)%len(order)]
			p.mu.Lock()
			ready := p.ready[b]
			p.mu.Unlock()
			if !ready {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			cmd, out, errOut := p.w.sshAs(ctx, b, p.key, "", "db-1", nil, "echo", "probe")
			err := cmd.Run()
			cancel()
			if err == nil && out.String() == "probe\n" {
				p.mu.Lock()
				if now := time.Now(); !p.last.IsZero() && now.Sub(p.last) > p.gap {
					p.gap = now.Sub(p.last)
				}
				p.last = time.Now()
				p.ok[b]++
				p.mu.Unlock()
				in = true
				break
			}
			why = append(why, fmt.Sprintf("%s: %v %q", b.addr, err, errOut.String()))
		}
		p.turn.Unlock()
		p.mu.Lock()
		p.rounds++
		if !in {
			p.failed = append(p.failed, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), why))
		}
		p.mu.Unlock()
	}
}

var requestID = regexp.MustCompile(`^req-[a-z0-9]+$`)

// A rolling restart of two CAs and two bastions on MySQL, one process at
// a time, each stopped with SIGTERM: at every moment alice logs in through
// a replica that is up; a request is made and approved through the CA up
// while the other restarts; bob's session open on a stopping bastion is
// told, ended at the drain timeout and its recording uploaded; afterwards
// every session is ended with its recording, every grant is approved, and
// the audit log verifies with the rows of every step.
func TestRollingRestartLosesNoRecordingGrantOrAuditRow(t *testing.T) {
	w := newWorld(t, worldOptions{driver: "mysql", caFlags: []string{"--session_lease_ttl", "3s"}})
	ca1 := w.ca
	ca2 := ca1.replica()
	b1 := w.bastion(ca1, "--mfa_remember", "1h", "--drain_timeout", "3s")
	b2 := w.bastion(ca2, "--mfa_remember", "1h", "--drain_timeout", "3s")
	last := map[string]int64{}
	for _, who := range []string{"alice", "bob"} {
		w.enroll(who)
	}
	_, aliceKey := w.grant("alice", "admin", "1h")
	_, bobKey := w.grant("bob", "admin", "1h")
	for _, b := range []*bastionProc{b1, b2} {
		if r := w.run(b, aliceKey, w.freshCode(last, "alice"), nil, "true"); r.code != 0 {
			t.Fatalf("alice's first login on %s: exit %d, %q", b.addr, r.code, r.stderr)
		}
	}
	p := &prober{w: w, key: aliceKey, ready: map[*bastionProc]bool{b1: true, b2: true}, ok: map[*bastionProc]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.run([]*bastionProc{b1, b2})
	defer func() {
		select {
		case <-p.done:
		default:
			close(p.stop)
			<-p.done
		}
	}()

	// Four grants, within the policy's three active grants per user:
	// dave's on web-1 (erin approves), then bob's on db-1 (carol).
	var grants []string
	grantThrough := func(c *ca) {
		t.Helper()
		who, resource, approver := "dave", "web-1", "erin"
		if len(grants) == 3 {
			who, resource, approver = "bob", "db-1", "carol"
		}
		id := strings.TrimSpace(c.ok(who, "request", "--role", "reader", "--resource", resource, "--duration", "1h", "--reason", "rolling restart"))
		if !requestID.MatchString(id) {
			t.Fatalf("request: %q", id)
		}
		c.ok(approver, "approve", id)
		grants = append(grants, id)
	}
	restartCA := func(stop, up *ca) {
		t.Helper()
		if err := terminate(t, stop.cmd, 30*time.Second); err != nil {
			t.Fatalf("the CA exited with %v after SIGTERM; log:\n%s", err, stop.log.String())
		}
		grantThrough(up)
		stop.restartOnSameAddress()
		grantThrough(stop)
	}
	// drainBastion stops b with one of bob's sessions open, which must
	// be ended at the drain timeout and uploaded, and starts b again.
	drainBastion := func(b *bastionProc) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd, out, errOut := w.ssh(ctx, b, bobKey, w.freshCode(last, "bob"), nil, "echo", "bob-begun;", "sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "bob's session running", func() bool { return strings.Contains(out.String(), "bob-begun") })
		p.set(b, false)
		if err := terminate(t, b.cmd, time.Minute); err != nil {
			t.Fatalf("the bastion exited with %v after SIGTERM; log:\n%s", err, b.log.String())
		}
		var exit *exec.ExitError
		if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 205 || !strings.Contains(errOut.String(), "this session ends in 3s") {
			t.Errorf("bob's session on the stopping bastion: %v, %q", err, errOut.String())
		}
		if left := b.spoolFiles(t); len(left) != 0 {
			t.Errorf("the bastion stopped with %v in its spool", left)
		}
		b.restart()
		code := w.freshCode(last, "alice")
		p.turn.Lock()
		r := w.run(b, aliceKey, code, nil, "true")
		p.turn.Unlock()
		if r.code != 0 {
			t.Fatalf("alice's first login on the restarted bastion: exit %d, %q", r.code, r.stderr)
		}
		p.set(b, true)
	}

	restartCA(ca1, ca2)
	restartCA(ca2, ca1)
	drainBastion(b1)
	drainBastion(b2)
	close(p.stop)
	<-p.done

	if len(p.failed) > 0 {
		t.Errorf("%d of %d rounds let alice in through no replica: %v", len(p.failed), p.rounds, p.failed)
	}
	if p.ok[b1] == 0 || p.ok[b2] == 0 {
		t.Errorf("logins through each bastion: %d and %d; want some through both", p.ok[b1], p.ok[b2])
	}
	t.Logf("%d rounds of logins during the restarts: %d through bastion 1, %d through bastion 2; at most %v between two that got in",
		p.rounds, p.ok[b1], p.ok[b2], p.gap.Round(time.Millisecond))
	for _, id := range grants {
		var r wire.Request
		if err := json.Unmarshal([]byte(ca1.ok("erin", "--json", "request", "show", id)), &r); err != nil {
			t.Fatal(err)
		}
		if r.State != "approved" {
			t.Errorf("grant %s made during the restarts is %s", id, r.State)
		}
	}
	for _, who := range []string{"alice", "bob"} {
		waitFor(t, 30*time.Second, who+"'s sessions ended, each with its recording", func() bool {
			for _, s := range w.sessionsOf(ca2, who) {
				if s.EndedAt == nil || s.RecordingSize == 0 {
					return false
				}
			}
			return true
		})
	}
	if n := len(w.sessionsOf(ca2, "bob")); n != 2 {
		t.Errorf("bob has %d sessions, want 2", n)
	}
	out := ca2.ok("erin", "audit", "verify")
	if !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: %q", out)
	}
	audit := ca2.ok("erin", "audit")
	for _, id := range grants {
		if !strings.Contains(audit, id) {
			t.Errorf("the audit log has no row of %s", id)
		}
	}
}
