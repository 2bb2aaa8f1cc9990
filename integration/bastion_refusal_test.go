package integration

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// forgeWithHopCA copies the grant certificate at key-cert.pub, signs the
// copy with the hop CA, and returns a key path whose -cert.pub is the
// forgery.
func (w *world) forgeWithHopCA(key string) string {
	t := w.t
	data, err := os.ReadFile(key + "-cert.pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatal(err)
	}
	c := *pub.(*ssh.Certificate)
	hop, err := sshcert.LoadSigner(filepath.Join(w.ca.dir, "hop_ca"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignCert(rand.Reader, hop); err != nil {
		t.Fatal(err)
	}
	forged := filepath.Join(t.TempDir(), "forged")
	priv, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(forged, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(forged+"-cert.pub", ssh.MarshalAuthorizedKey(&c), 0o644); err != nil {
		t.Fatal(err)
	}
	return forged
}

// A person whose certificate cannot be used is told why by a real ssh,
// before any code is asked for and without spending one; a forgery hears
// only "not a Lockbox certificate"; every refusal is logged with the
// certificate's details and reaches the audit log.
func TestBastionTellsAPersonWhyTheLoginIsRefusedBeforeTheCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--refusal_report_interval", "1s")
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")

	r := w.runAs(b, key, "000000", "web-1", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "lockbox: this certificate is for db-1 (admin@db-1), not web-1") || strings.Contains(r.stderr, "not a Lockbox certificate") {
		t.Fatalf("a resource outside the grant: exit %d, stderr %q", r.code, r.stderr)
	}
	r = w.run(b, w.forgeWithHopCA(key), "000000", nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "lockbox: not a Lockbox certificate") || strings.Contains(r.stderr, "db-1 (") {
		t.Fatalf("a forgery: exit %d, stderr %q", r.code, r.stderr)
	}

	// Another session is open: refused before the code, which stays good.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, _, _ := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sleep", "4")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the first session to open", func() bool { return len(w.openSessions()) == 1 })
	next := w.code("alice", 1)
	r = w.run(b, key, next, nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "lockbox: another session is open") || strings.Contains(r.stderr, "second factor") {
		t.Fatalf("a second session: exit %d, stderr %q", r.code, r.stderr)
	}
	first.Wait()
	waitFor(t, 10*time.Second, "the first session to end", func() bool { return len(w.openSessions()) == 0 })
	if r := w.run(b, key, next, nil, "true"); r.code != 0 {
		t.Fatalf("the code offered to the refused login was spent: exit %d, stderr %q", r.code, r.stderr)
	}

	// A revoked grant says who revoked it, before the code.
	w.ca.ok("erin", "revoke", id, "--reason", "incident over")
	r = w.run(b, key, "000000", nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "revoked by erin: incident over") {
		t.Fatalf("a revoked grant: exit %d, stderr %q", r.code, r.stderr)
	}

	for _, want := range []string{"login refused", "user=alice", "key_id=alice/" + id, "serial=", "fingerprint=SHA256:", "login=web-1"} {
		if !strings.Contains(b.log.String(), want) {
			t.Fatalf("the bastion's log lacks %q:\n%s", want, b.log.String())
		}
	}
	rows := w.auditOf("login.refused")
	if len(rows) != 1 || rows[0].Subject != id || rows[0].Detail["login"] != "web-1" || rows[0].Detail["key_id"] != "alice/"+id {
		t.Fatalf("login.refused rows: %+v", rows)
	}
	var before []string
	for _, row := range w.auditOf("session.refused") {
		if row.Detail["stage"] == "before the code" {
			before = append(before, row.Detail["reason"].(string))
		}
	}
	if len(before) != 2 || !strings.Contains(before[0], "one session per user") || !strings.Contains(before[1], "revoked by erin") {
		t.Fatalf("session refusals before the code: %q", before)
	}
	waitFor(t, 15*time.Second, "the forgery counted in the audit log", func() bool {
		for _, row := range w.auditOf("connection.refused") {
			if row.Detail["reason"] == "not a Lockbox certificate" {
				return true
			}
		}
		return false
	})
}
