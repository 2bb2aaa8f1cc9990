package integration

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// scheduledLead is how far ahead the scheduled window of these tests
// starts: time for the steps before it on a loaded machine.
const scheduledLead = 30 * time.Second

// A window asked for later, through the real CLI, CA, bastion and sshd:
// it is approved ahead of time; before the start the CLI's certificate is
// refused saying when the window opens, and the bastion refuses a session
// even with a certificate valid now (signed here with the user CA, as a
// CA bug or a stolen CA key might produce), showing the CA's words; from
// the start the certificate is issued, valid from the start, and the
// session works.
func TestScheduledWindowThroughTheBastion(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	start := time.Now().Add(scheduledLead).Truncate(time.Second)
	opens := start.UTC().Format(time.RFC3339)
	id := strings.TrimSpace(w.ca.ok("alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "1h",
		"--reason", "planned maintenance", "--ticket", "CHG-7", "--start", start.Format(time.RFC3339)))
	w.ca.ok("carol", "approve", id)
	w.ca.ok("frank", "approve", id)
	var req wire.Request
	if err := json.Unmarshal([]byte(w.ca.ok("alice", "--json", "request", "show", id)), &req); err != nil {
		t.Fatal(err)
	}
	if req.State != "approved" || req.NotBefore == nil || !req.NotBefore.Equal(start) {
		t.Fatalf("request %s, window from %v, want approved from %v", req.State, req.NotBefore, start)
	}
	if out := w.ca.ok("alice", "request", "show", id); !strings.Contains(out, "Window starts") {
		t.Errorf("request show does not show the scheduled start:\n%s", out)
	}

	key := filepath.Join(t.TempDir(), "grant")
	w.ca.refused("the window opens at "+opens, "alice", "cert", id, "--out", key)
	w.ca.refused("window_not_open", "alice", "cert", id, "--out", key)

	forged := forgeGrantCertificate(t, w, id)
	r := w.run(b, forged, w.code("alice", 0), nil, "echo", "in")
	if time.Now().After(start) {
		t.Fatalf("the steps before the start took longer than %v; the test cannot tell", scheduledLead)
	}
	if r.code == 0 || strings.Contains(r.stdout, "in") || !strings.Contains(r.stderr, "the window opens at "+opens) {
		t.Fatalf("before the start the bastion gave: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	waitFor(t, scheduledLead+10*time.Second, "the window to open", func() bool { return time.Now().After(start) })
	out := w.ca.ok("alice", "--json", "cert", id, "--out", key)
	var cert wire.Certificate
	if err := json.Unmarshal([]byte(out), &cert); err != nil {
		t.Fatal(err)
	}
	if want := start.Add(-time.Minute); !cert.ValidAfter.Equal(want) || !cert.ValidBefore.Equal(start.Add(time.Hour)) {
		t.Fatalf("certificate valid %v..%v, want %v..%v", cert.ValidAfter, cert.ValidBefore, want, start.Add(time.Hour))
	}
	if r := w.run(b, key, w.code("alice", 1), nil, "echo", "in"); r.code != 0 || r.stdout != "in\n" {
		t.Fatalf("after the start: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// forgeGrantCertificate signs, with the CA's user CA key, a certificate
// for grant id that is valid now, and returns its key path.
func forgeGrantCertificate(t *testing.T, w *world, id string) string {
	t.Helper()
	userCA, err := sshcert.LoadSigner(filepath.Join(w.ca.dir, "user_ca"))
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	serial, _ := sshcert.NewSerial(rand.Reader)
	cert, err := sshcert.UserCertificate(signer.PublicKey(), sshcert.UserSpec{Serial: serial, KeyID: "alice/" + id,
		Principals: []string{"admin@db-1"}, PermitPTY: true, ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.Sign(cert, userCA, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return sshdtest.WriteIdentity(t, priv, cert).KeyFile
}

// `lockbox approve --duration` shortens the grant; `request show` says
// so and names each approver's duration.
func TestApproverShortensTheGrantThroughTheCLI(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "2h",
		"--reason", "disk full on db-1", "--ticket", "INC-42"))
	c.refused("bad_grant_duration", "carol", "approve", id, "--duration", "3h")
	c.ok("carol", "approve", id, "--duration", "30m", "--reason", "half an hour")
	c.ok("frank", "approve", id)
	var req wire.Request
	if err := json.Unmarshal([]byte(c.ok("alice", "--json", "request", "show", id)), &req); err != nil {
		t.Fatal(err)
	}
	if req.State != "approved" || req.NotAfter.Sub(*req.NotBefore) != 30*time.Minute || req.GrantDuration != "30m0s" {
		t.Fatalf("grant %s %v..%v (%q), want approved for 30m", req.State, req.NotBefore, req.NotAfter, req.GrantDuration)
	}
	shown := c.ok("alice", "request", "show", id)
	for _, want := range []string{"Grant lasts", "30m0s (shortened by an approver)", "carol at ", " for 30m0s: half an hour"} {
		if !strings.Contains(shown, want) {
			t.Errorf("request show lacks %q:\n%s", want, shown)
		}
	}
}

// A role with step_up_mfa: without a terminal, approve and cert say to
// give --code; with a current code they work; a code works once.
func TestStepUpCodeThroughTheCLI(t *testing.T) {
	t.Parallel()
	c := newCA(t, "sqlite")
	c.writePolicy(func(name string, data []byte) []byte {
		if name == "roles.yaml" {
			return []byte(strings.Replace(string(data), "    ticket_required: false\n", "    ticket_required: false\n    step_up_mfa: true\n", 1))
		}
		return data
	})
	c.start()
	w := &world{t: t, ca: c, mfa: map[string][]byte{}}
	w.enroll("alice")
	w.enroll("carol")
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "logs"))
	if out := c.ok("carol", "request", "show", id); !strings.Contains(out, "Step-up MFA") {
		t.Errorf("request show does not say the role needs a code:\n%s", out)
	}
	c.refused("give --code", "carol", "approve", id)
	c.refused("mfa_code", "carol", "approve", id, "--code", "000000")
	c.ok("carol", "approve", id, "--code", w.code("carol", 0))
	key := filepath.Join(t.TempDir(), "grant")
	c.refused("give --code", "alice", "cert", id, "--out", key)
	code := w.code("alice", 0)
	c.ok("alice", "cert", id, "--out", key, "--code", code)
	c.refused("mfa_code", "alice", "cert", id, "--out", key, "--code", code)
}
