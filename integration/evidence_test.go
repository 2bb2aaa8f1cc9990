package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/evidence"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The evidence of a grant with two sessions made through the real bastion,
// ssh and sshd: printed, written as a bundle that verifies offline with the
// CA's public keys alone, and refused once a recording in it is swapped.
// On both store engines, since the rows' detail must come back byte for
// byte for their hashes.
func TestEvidenceBundleOfGrantWithTwoSessionsVerifiesOffline(t *testing.T) {
	t.Parallel()
	engines(t, evidenceBundleVerifiesOffline)
}

func evidenceBundleVerifiesOffline(t *testing.T, driver string) {
	w := newWorld(t, worldOptions{driver: driver})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")
	for i, cmd := range []string{"'echo first; exit 0'", "'echo second; exit 4'"} {
		r := w.run(b, key, w.code("alice", 0), nil, "sh", "-c", cmd)
		if r.code != []int{0, 4}[i] {
			t.Fatalf("session %d: exit %d, stderr %q", i, r.code, r.stderr)
		}
		waitFor(t, 30*time.Second, "the recording to be uploaded", func() bool {
			var list []wire.Session
			if err := json.Unmarshal([]byte(w.ca.ok("alice", "--json", "sessions")), &list); err != nil {
				t.Fatal(err)
			}
			return len(list) == i+1 && list[0].RecordingSize > 0
		})
	}

	// A user who is no auditor gets nothing.
	w.ca.refused("forbidden", "alice", "evidence", id)

	printed := w.ca.ok("erin", "evidence", id)
	for _, want := range []string{"request " + id + ": alice asked for admin on db-1", "user:carol at ", "user:frank at ",
		"user serial ", "hop serial ", "exit status 4", "recording ", "proof: audit rows "} {
		if !strings.Contains(printed, want) {
			t.Errorf("the evidence lacks %q:\n%s", want, printed)
		}
	}

	dir := filepath.Join(t.TempDir(), "bundle")
	w.ca.ok("erin", "evidence", id, "--bundle", dir)
	var s evidence.Summary
	data, err := os.ReadFile(filepath.Join(dir, evidence.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Sessions) != 2 || len(s.Approvals) != 2 || len(s.Certificates) < 3 || s.Sessions[1].ExitStatus == nil || *s.Sessions[1].ExitStatus != 4 {
		t.Fatalf("summary: %d sessions, %d approvals, %d certificates\n%s", len(s.Sessions), len(s.Approvals), len(s.Certificates), data)
	}
	for _, c := range s.Certificates {
		if c.File == "" {
			t.Errorf("certificate %s was not kept in its audit row", c.Serial)
		}
	}

	keys := []string{"--audit-key", filepath.Join(w.ca.dir, "audit_key.pub"), "--user-ca", filepath.Join(w.ca.dir, "user_ca.pub"),
		"--hop-ca", filepath.Join(w.ca.dir, "hop_ca.pub")}
	// Offline: no CA named, and the CA stopped.
	w.ca.cmd.Process.Signal(os.Interrupt) //nolint:errcheck
	w.ca.cmd.Wait()                       //nolint:errcheck
	out := w.ca.ok("nobody", append([]string{"--ca", "http://127.0.0.1:1", "evidence", "verify", dir}, keys...)...)
	if !strings.Contains(out, "the bundle verifies: 9 files") {
		t.Fatalf("verify:\n%s", out)
	}
	if strings.Contains(out, "note:") {
		t.Errorf("verify left something unchecked:\n%s", out)
	}

	// Swap the two recordings (manifest and all): named.
	a, bb := filepath.Join(dir, filepath.FromSlash(s.Sessions[0].Recording.File)), filepath.Join(dir, filepath.FromSlash(s.Sessions[1].Recording.File))
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(bb)
	os.WriteFile(a, db, 0o644)  //nolint:errcheck
	os.WriteFile(bb, da, 0o644) //nolint:errcheck
	r := w.ca.lockbox("nobody", append([]string{"evidence", "verify", dir}, keys...)...)
	if r.code == 0 || !strings.Contains(r.stderr, s.Sessions[0].Recording.File) || !strings.Contains(r.stderr, s.Sessions[1].Recording.File) {
		t.Fatalf("a bundle with swapped recordings: exit %d\n%s", r.code, r.stderr)
	}
}
