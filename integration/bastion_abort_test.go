package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// healthWorld is a world whose health role (auto-approved, no terminal,
// allowed commands) runs through the real command gate on the target.
func healthWorld(t *testing.T) *world {
	gate := filepath.Join(bin, "lockbox-gate")
	return newWorld(t, worldOptions{editPolicy: func(name string, data []byte) []byte {
		if name == "roles.yaml" {
			return []byte(strings.ReplaceAll(string(data), "/usr/local/bin/lockbox-gate", gate))
		}
		return data
	}})
}

// A login aborted by the client (ssh -tt to a role without a terminal:
// the client gives up when the terminal is refused, while the bastion is
// still opening the session) frees the user's lease as soon as the client
// is gone, so the login right after it is never refused as a second
// session.
func TestALoginRightAfterAnAbortedOneSucceeds(t *testing.T) {
	w := healthWorld(t)
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "health", "1h")
	if r := w.run(b, key, w.code("alice", 0), nil, "uptime"); r.code != 0 {
		t.Fatalf("first login: exit %d, stderr %q", r.code, r.stderr)
	}
	for i := range 20 {
		aborted := w.run(b, key, "", []string{"-tt"}, "uptime")
		if aborted.code != 255 {
			t.Fatalf("pair %d: ssh -tt to a role without a terminal exited %d (stderr %q); want 255, the client giving up", i, aborted.code, aborted.stderr)
		}
		r := w.run(b, key, "", nil, "uptime")
		t.Logf("pair %d: aborted in %v, next login in %v", i, aborted.elapsed, r.elapsed)
		if r.code != 0 || !strings.Contains(r.stdout, "load average") {
			t.Fatalf("pair %d: the login after an aborted one: exit %d, stderr %q", i, r.code, r.stderr)
		}
	}
}
