package integration

import (
	"strings"
	"testing"
)

// A command through the bastion runs on the target with its output and
// exit status relayed faithfully.
func TestCommandsThroughTheBastion(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	r := w.run(b, key, w.code("alice", 0), nil, "echo", "hello")
	if r.code != 0 || r.stdout != "hello\n" {
		t.Fatalf("echo: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		cmd  []string
		code int
	}{{[]string{"false"}, 1}, {[]string{"sh", "-c", "'exit 7'"}, 7}, {[]string{"true"}, 0}} {
		r := w.run(b, key, "", nil, tc.cmd...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.cmd, r.code, tc.code, r.stderr)
		}
	}
	// stderr is relayed as stderr; on a terminal, sshd sends it as the
	// terminal's output.
	both := []string{"sh", "-c", "'echo out; echo err >&2'"}
	if r := w.run(b, key, "", nil, both...); r.code != 0 || r.stdout != "out\n" || !strings.Contains(r.stderr, "err\n") {
		t.Errorf("without a terminal: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := w.run(b, key, "", []string{"-tt"}, both...); r.code != 0 || r.stdout != "out\r\nerr\r\n" {
		t.Errorf("on a terminal: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(b.log.String(), "bastion serving") {
		t.Fatal(b.log.String())
	}
}

// Logins one after the other are never refused as a second session.
func TestSequentialLoginsAreNeverRefused(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	code := w.code("alice", 0)
	for i := 0; i < 20; i++ {
		if r := w.run(b, key, code, nil, "true"); r.code != 0 {
			t.Fatalf("login %d: exit %d, stderr %q", i, r.code, r.stderr)
		}
	}
}
