package integration

import (
	"strings"
	"testing"
)

// Every login needs both factors, in order, on one connection.
func TestBastionLoginNeedsCertificateAndTOTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil) // every login asks for a code
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")

	good := w.code("alice", 0)
	tests := []struct {
		name string
		code string
		opts []string
		want string // in stderr
	}{
		{"certificate with a wrong code", "000000", nil, "Permission denied"},
		{"a code without a certificate", good, []string{"-o", "PubkeyAuthentication=no"}, "Permission denied"},
		{"the none method", good, []string{"-o", "PreferredAuthentications=none"}, "Permission denied"},
		{"the certificate alone", good, []string{"-o", "PreferredAuthentications=publickey"}, "Permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(b, key, tc.code, tc.opts, "true")
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
	if r := w.run(b, key, good, nil, "true"); r.code != 0 {
		t.Fatalf("both factors: exit %d, stderr %q", r.code, r.stderr)
	}
	// A code works once.
	r := w.run(b, key, good, nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "wrong or reused") {
		t.Fatalf("a reused code: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := w.run(b, key, w.code("alice", 1), nil, "true"); r.code != 0 {
		t.Fatalf("the next code: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Certificates the bastion must not accept, offered by a real client.
func TestBastionRefusesCertificatesItMustNot(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")
	tests := []struct {
		name  string
		login string
	}{
		{"a resource outside the grant", "web-1"},
		{"a principal for another role", "reader@db-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.runAs(b, key, w.code("alice", 0), tc.login, "true")
			if r.code == 0 {
				t.Fatalf("logged in as %s", tc.login)
			}
		})
	}
	// After a revocation the certificate opens nothing.
	w.ca.ok("alice", "revoke", id)
	r := w.run(b, key, w.code("alice", 0), nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "revoked") {
		t.Fatalf("after revoke: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Without the CA nothing new opens, and the user is told why.
func TestBastionFailsClosedWithoutTheCA(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil)
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	w.ca.cmd.Process.Kill()
	w.ca.cmd.Wait()
	r := w.run(b, key, w.code("alice", 0), nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "cannot be reached") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
