package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// terminate sends SIGTERM to cmd and waits, up to within, for it to exit;
// it returns how it exited.
func terminate(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		t.Fatalf("%s did not exit within %v of SIGTERM", cmd.Path, within)
		return nil
	}
}

// spoolFiles lists what is left in a bastion's spool.
func (b *bastionProc) spoolFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(b.dir, "spool"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// sessionsOf lists who's sessions as erin (an auditor).
func (w *world) sessionsOf(c *ca, who string) []wire.Session {
	w.t.Helper()
	var list []wire.Session
	if err := json.Unmarshal([]byte(c.ok("erin", "--json", "sessions", "--user", who)), &list); err != nil {
		w.t.Fatal(err)
	}
	return list
}

// On SIGTERM the bastion stops accepting at once, tells the users of open
// sessions how long they have, lets a session that ends within
// drain_timeout end on its own, ends the one still open at the timeout
// with that reason (exit status 205), uploads both recordings and exits 0
// with its spool empty.
func TestBastionDrainTellsUsersWaitsEndsTheRestAndUploads(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h", "--drain_timeout", "4s")
	w.enroll("alice")
	w.enroll("bob")
	_, aliceKey := w.grant("alice", "admin", "1h")
	_, bobKey := w.grant("bob", "admin", "1h")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	long, longOut, longErr := w.ssh(ctx, b, bobKey, w.code("bob", 0), nil, "echo", "long-begun;", "sleep", "60")
	short, shortOut, shortErr := w.ssh(ctx, b, aliceKey, w.code("alice", 0), nil, "echo", "short-begun;", "sleep", "2;", "echo", "short-done")
	for _, c := range []*exec.Cmd{long, short} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "both sessions running", func() bool {
		return strings.Contains(longOut.String(), "long-begun") && strings.Contains(shortOut.String(), "short-begun")
	})
	sigterm := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- terminate(t, b.cmd, time.Minute) }()

	waitFor(t, 10*time.Second, "the listener closed", func() bool {
		c, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if err := short.Wait(); err != nil {
		t.Errorf("the session that ended within the drain: %v; stderr %q", err, shortErr.String())
	}
	if !strings.Contains(shortOut.String(), "short-done") {
		t.Errorf("the short session was cut: %q", shortOut.String())
	}
	err := long.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 205 {
		t.Errorf("the session still open at the drain timeout: %v, want exit status 205", err)
	}
	if took := time.Since(sigterm); took < 4*time.Second {
		t.Errorf("the open session was ended %v after SIGTERM, before the drain timeout of 4s", took)
	}
	for _, want := range []string{"this bastion is shutting down: this session ends in 4s", "connect again to reach another bastion",
		"the bastion shut down after a drain of 4s"} {
		if !strings.Contains(longErr.String(), want) {
			t.Errorf("the user was not told %q: %q", want, longErr.String())
		}
	}
	if !strings.Contains(shortErr.String(), "this session ends in 4s") {
		t.Errorf("the short session's user was not told: %q", shortErr.String())
	}
	if err := <-exited; err != nil {
		t.Fatalf("the bastion exited with %v after a drain; log:\n%s", err, b.log.String())
	}
	if left := b.spoolFiles(t); len(left) != 0 {
		t.Errorf("the bastion exited with %v left in its spool", left)
	}
	for who, reason := range map[string]string{"bob": "the bastion shut down after a drain of 4s", "alice": ""} {
		list := w.sessionsOf(w.ca, who)
		if len(list) != 1 {
			t.Fatalf("%s: %d sessions, want 1", who, len(list))
		}
		s := list[0]
		if s.EndedAt == nil || s.RecordingSize == 0 || (reason != "" && !strings.Contains(s.EndReason, reason)) {
			t.Errorf("%s's session at the CA: ended %v, reason %q, recording %d bytes", who, s.EndedAt, s.EndReason, s.RecordingSize)
		}
	}
}

// On SIGTERM the CA answers the calls it has accepted and exits 0; calls
// sent while it stops or is down are sent again by the CLI under their
// idempotency keys and answered once it is back. Fifteen requests sent
// around a stop and restart make exactly fifteen requests.
func TestCAStopAnswersWhatItAcceptedAndNothingIsLostOrMadeTwice(t *testing.T) {
	c := startCA(t, "sqlite")
	type call struct {
		user string
		out  bytes.Buffer
		err  bytes.Buffer
		done chan error
	}
	var calls []*call
	for _, user := range []string{"alice", "bob", "dave"} {
		resource := "db-1"
		if user == "dave" {
			resource = "web-1"
		}
		for range 5 {
			k := &call{user: user, done: make(chan error, 1)}
			cmd := exec.Command(filepath.Join(bin, "lockbox"), "request", "--role", "reader", "--resource", resource, "--duration", "1h", "--reason", "stop and restart")
			cmd.Env = append(os.Environ(), "LOCKBOX_CA="+c.url, "LOCKBOX_USER="+user, "LOCKBOX_IDENTITY="+filepath.Join(c.keys, user), "SSH_AUTH_SOCK=")
			cmd.Stdout, cmd.Stderr = &k.out, &k.err
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { k.done <- cmd.Wait() }()
			calls = append(calls, k)
		}
	}
	// Stop the CA once the first request was answered, with the others
	// in flight or about to be sent.
	first := make(chan struct{})
	var once sync.Once
	for _, k := range calls {
		go func() {
			err := <-k.done
			k.done <- err
			once.Do(func() { close(first) })
		}()
	}
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("no request was answered")
	}
	if err := terminate(t, c.cmd, 30*time.Second); err != nil {
		t.Fatalf("the CA exited with %v after SIGTERM; log:\n%s", err, c.log.String())
	}
	if !strings.Contains(c.log.String(), "ca stopping: answering the calls in flight") || !strings.Contains(c.log.String(), "ca stopped") {
		t.Errorf("the CA's log does not tell its stop:\n%s", c.log.String())
	}
	c.restartOnSameAddress()
	ids := map[string]bool{}
	for _, k := range calls {
		select {
		case err := <-k.done:
			if err != nil {
				t.Errorf("%s's request: %v, %q", k.user, err, k.err.String())
				continue
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s's request was never answered", k.user)
		}
		id := strings.TrimSpace(k.out.String())
		if !requestID.MatchString(id) || ids[id] {
			t.Errorf("%s's request: %q (a duplicate answer or no ID)", k.user, id)
		}
		ids[id] = true
	}
	for _, user := range []string{"alice", "bob", "dave"} {
		var list []wire.Request
		if err := json.Unmarshal([]byte(c.ok(user, "--json", "requests", "--mine")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 5 {
			t.Errorf("%s has %d requests at the CA, want 5", user, len(list))
		}
		for _, r := range list {
			if !ids[r.ID] {
				t.Errorf("%s's request %s at the CA was answered to nobody", user, r.ID)
			}
		}
	}
	if out := c.ok("erin", "audit", "verify"); !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: %q", out)
	}
}
