package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openSessions lists open sessions as erin (an auditor).
func (w *world) openSessions() []wire.Session {
	var list []wire.Session
	if err := json.Unmarshal([]byte(w.ca.ok("erin", "--json", "sessions", "--open")), &list); err != nil {
		w.t.Fatal(err)
	}
	return list
}

func TestSessionLimits(t *testing.T) {
	tests := []struct {
		name     string
		flags    []string
		duration string
		command  []string
		want     string
		status   int // ssh's exit status: the bastion's status for the reason (docs/bastion.md)
	}{
		{"idle counts client input only, not server output", []string{"--idle_timeout", "2s"}, "1h",
			[]string{"timeout", "30", "sh", "-c", "'while :; do echo tick; sleep 0.2; done'"}, "session ended: idle for 2s", 200},
		{"the session cap", []string{"--session_cap", "2s"}, "1h", []string{"sleep", "30"}, "session ended: session cap of 2s reached", 201},
		{"the grant's end", nil, "6s", []string{"sleep", "30"}, "session ended: the grant ended at", 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			b := w.bastion(nil, append([]string{"--mfa_remember", "1h"}, tc.flags...)...)
			w.enroll("alice")
			_, key := w.grant("alice", "admin", tc.duration)
			r := w.run(b, key, w.code("alice", 0), nil, tc.command...)
			if r.code != tc.status || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q", r.code, tc.status, r.stderr)
			}
			waitFor(t, 10*time.Second, "the session to be recorded as ended", func() bool { return len(w.openSessions()) == 0 })
			out := w.ca.ok("erin", "sessions", "--ended", strings.TrimPrefix(tc.want, "session ended: "))
			if !strings.Contains(out, "alice") {
				t.Fatalf("the end reason is not in the sessions list:\n%s", out)
			}
		})
	}
}

// A revoked grant's session ends within seconds, telling the user why,
// with the exit status for a revocation (203), not ssh's 255.
func TestRevocationEndsTheSessionWithinSeconds(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, _, stderr := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the session to open", func() bool { return len(w.openSessions()) == 1 })
	revoked := time.Now()
	w.ca.ok("erin", "revoke", id, "--reason", "suspicious activity")
	err := cmd.Wait()
	elapsed := time.Since(revoked)
	if !strings.Contains(stderr.String(), "session ended: grant revoked by erin: suspicious activity") || cmd.ProcessState.ExitCode() != 203 {
		t.Fatalf("ssh: %v (want exit status 203), stderr %q", err, stderr.String())
	}
	if elapsed > 5*time.Second {
		t.Fatalf("the session ended %v after the revocation; the limit is 5s", elapsed)
	}
	t.Logf("ended %v after the revocation", elapsed.Round(time.Millisecond))
}
