package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// goPackage matches a Go package's name at the head of a message, as Go
// errors carry it ("apiauth: ...").
var goPackage = regexp.MustCompile(`\b(apiauth|api|client|cli|workflow|store|sqlstore|policy|sshcert|wire|cobra|json|jsontext):`)

// Bad usage exits 2 (docs/cli.md), with a message that shows the usage.
func TestCLIUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	for _, args := range [][]string{
		{"approve"}, {"approve", "req-a", "req-b"}, {"deny"}, {"deny", "req-aaaaaaaaaaaaaaaa"}, {"revoke"}, {"cert"},
		{"request", "--role", "reader"}, {"replay"}, {"whoami", "extra"}, {"bogus"}, {"requests", "--nope"},
		{"request", "--role", "reader", "--resource", "db-1", "--reason", "x", "--duration", "soon"},
	} {
		r := c.lockbox("alice", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "lockbox") || goPackage.MatchString(r.stderr) {
			t.Errorf("lockbox %s: exit %d, stderr %q; want exit 2 with a usage message", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if r := c.lockbox("alice", "approve"); !strings.Contains(r.stderr, "approve ID") {
		t.Errorf("lockbox approve without an ID says %q; want the usage, approve ID", r.stderr)
	}
}

// A user or key the CA does not know is named, with where to look; no Go
// package names appear in what the CLI prints.
func TestCLISaysWhichUserAndKeyTheCADidNotKnowAndWhereToLook(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	pub := newKeyFile(t, filepath.Join(c.keys, "nobody"))
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	fp := ssh.FingerprintSHA256(key)
	r := c.lockbox("nobody", "requests")
	for _, want := range []string{`"nobody"`, fp, "--user", "LOCKBOX_USER", "policy", "unknown_key"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("unknown user: stderr %q lacks %q", r.stderr, want)
		}
	}
	if r.code != 1 || goPackage.MatchString(r.stderr) {
		t.Errorf("unknown user: exit %d, stderr %q; want 1 and no Go package names", r.code, r.stderr)
	}

	// A passphrase-protected identity file is explained without package names.
	enc := filepath.Join(c.keys, "alice-enc")
	run(t, needTool(t, "ssh-keygen", "openssh-client"), "-q", "-t", "ed25519", "-N", "secret phrase", "-f", enc)
	if err := os.Rename(enc, filepath.Join(c.keys, "erin")); err != nil {
		t.Fatal(err)
	}
	r = c.lockbox("erin", "requests")
	if r.code != 1 || !strings.Contains(r.stderr, "ssh-add") || goPackage.MatchString(r.stderr) {
		t.Errorf("encrypted identity: exit %d, stderr %q; want 1, advice to use ssh-add, no Go package names", r.code, r.stderr)
	}
	// A user name that cannot be one is bad usage.
	if r := c.lockbox("Alice", "requests"); r.code != 2 || goPackage.MatchString(r.stderr) || !strings.Contains(r.stderr, "--user") {
		t.Errorf("bad user name: exit %d, stderr %q; want 2 naming --user", r.code, r.stderr)
	}
}

// revoke and cert on a request that is still pending say what to do
// instead: deny to withdraw it, cert --wait to wait for the approval.
func TestRevokeAndCertOnAPendingRequestSayWhatToDo(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "x"))
	r := c.lockbox("alice", "revoke", id)
	if r.code != 1 || !strings.Contains(r.stderr, "pending") || !strings.Contains(r.stderr, "lockbox deny "+id) {
		t.Errorf("revoke of a pending request: exit %d, stderr %q; want 1 pointing to lockbox deny %s", r.code, r.stderr, id)
	}
	r = c.lockbox("alice", "cert", id)
	if r.code != 1 || !strings.Contains(r.stderr, "pending") || !strings.Contains(r.stderr, "lockbox cert "+id+" --wait") {
		t.Errorf("cert of a pending request: exit %d, stderr %q; want 1 pointing to lockbox cert %s --wait", r.code, r.stderr, id)
	}
	if goPackage.MatchString(r.stderr) {
		t.Errorf("stderr %q names a Go package", r.stderr)
	}
}
