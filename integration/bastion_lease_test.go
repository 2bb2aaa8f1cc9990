package integration

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// One session per user across bastion replicas: two bastions, each in
// front of its own CA replica, sharing MySQL; 50 parallel logins by one
// user; exactly one gets a session. When the bastion holding it is killed,
// a new login succeeds once the lease times out.
func TestOneSessionPerUserAcrossReplicas(t *testing.T) {
	w := newWorld(t, worldOptions{driver: "mysql", caFlags: []string{"--session_lease_ttl", "3s"}})
	ca2 := w.ca.replica()
	b1 := w.bastion(nil, "--mfa_remember", "1h")
	b2 := w.bastion(ca2, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	// One code per bastion; later logins there are remembered.
	for i, b := range []*bastionProc{b1, b2} {
		if r := w.run(b, key, w.code("alice", int64(i)), nil, "true"); r.code != 0 {
			t.Fatalf("first login on bastion %d: exit %d, stderr %q", i+1, r.code, r.stderr)
		}
	}

	type attempt struct {
		cmd    *exec.Cmd
		stderr func() string
		via    *bastionProc
		done   chan error
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var attempts []*attempt
	for i := 0; i < 50; i++ {
		b := b1
		if i%2 == 1 {
			b = b2
		}
		cmd, _, errOut := w.ssh(ctx, b, key, "", nil, "sleep", "30")
		a := &attempt{cmd: cmd, stderr: errOut.String, via: b, done: make(chan error, 1)}
		attempts = append(attempts, a)
	}
	var wg sync.WaitGroup
	for _, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.cmd.Start(); err != nil {
				a.done <- err
				return
			}
			go func() { a.done <- a.cmd.Wait() }()
		}()
	}
	wg.Wait()
	// 49 must end, refused; one must stay.
	ended := make(chan *attempt, len(attempts))
	for _, a := range attempts {
		go func() {
			err := <-a.done
			a.done <- err // keep it for whoever waits later
			ended <- a
		}()
	}
	finished := map[*attempt]bool{}
	deadline := time.After(time.Minute)
	for len(finished) < 49 {
		select {
		case a := <-ended:
			finished[a] = true
		case <-deadline:
			t.Fatalf("only %d of 49 logins were refused", len(finished))
		}
	}
	var winner *attempt
	for _, a := range attempts {
		if !finished[a] {
			winner = a
		}
	}
	for _, a := range attempts {
		if a != winner && !strings.Contains(a.stderr(), "one session per user") {
			t.Fatalf("a refused login says %q", a.stderr())
		}
	}
	if n := len(w.openSessions()); n != 1 {
		t.Fatalf("%d open sessions recorded, want 1", n)
	}

	// Kill the bastion that holds the session.
	other := b1
	if winner.via == b1 {
		other = b2
	}
	winner.via.kill()
	<-winner.done
	killed := time.Now()
	if r := w.run(other, key, "", nil, "true"); r.code == 0 {
		t.Fatal("a new login succeeded while the dead bastion's lease was still live")
	}
	waitFor(t, 20*time.Second, "a login after the lease timed out", func() bool {
		return w.run(other, key, "", nil, "true").code == 0
	})
	t.Logf("a new login succeeded %v after the bastion was killed", time.Since(killed).Round(time.Millisecond))
}
