package workflow_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// certFields is what a certificate says, in comparable form.
type certFields struct {
	Type        uint32
	KeyID       string
	Principals  []string
	Critical    map[string]string
	Extensions  map[string]string
	ValidAfter  time.Time
	ValidBefore time.Time
	Authority   string
}

func fields(c *ssh.Certificate) certFields {
	return certFields{c.CertType, c.KeyId, c.ValidPrincipals, c.CriticalOptions, c.Extensions,
		time.Unix(int64(c.ValidAfter), 0).UTC(), time.Unix(int64(c.ValidBefore), 0).UTC(), ssh.FingerprintSHA256(c.SignatureKey)}
}

func TestGrantCertificateEncodesExactlyTheGrant(t *testing.T) {
	tests := []struct {
		name, role string
		resources  []string
		ticket     string
		approvers  []string
		want       func(approvedAt time.Time, id string) certFields
	}{
		{"interactive admin", "admin", []string{"db-1", "db-2"}, "INC-1", []string{"carol", "frank"}, func(at time.Time, id string) certFields {
			return certFields{Type: ssh.UserCert, KeyID: "alice/" + id, Principals: []string{"admin@db-1", "admin@db-2"},
				Critical: nil, Extensions: map[string]string{"permit-pty": ""},
				ValidAfter: at.Add(-time.Minute), ValidBefore: at.Add(time.Hour)}
		}},
		{"read-only reader with the command gate", "reader", []string{"db-1"}, "", []string{"carol"}, func(at time.Time, id string) certFields {
			return certFields{Type: ssh.UserCert, KeyID: "alice/" + id, Principals: []string{"reader@db-1"},
				Critical: map[string]string{"force-command": "/usr/local/bin/lockbox-gate -- 'systemctl status *' 'journalctl -u *' 'journalctl -u * -n *' 'journalctl -u * --since=*' 'df -h' 'uptime' 'tail -n * /var/log/syslog'"}, Extensions: nil,
				ValidAfter: at.Add(-time.Minute), ValidBefore: at.Add(time.Hour)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.submit("alice", tc.role, tc.resources, time.Hour, tc.ticket)
			e.clock.Advance(time.Minute)
			for _, a := range tc.approvers {
				e.approve(a, r.ID)
			}
			approvedAt := e.clock.Now()
			e.clock.Advance(5 * time.Minute) // the certificate is fetched later
			cert, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want(approvedAt, r.ID)
			want.Authority = ssh.FingerprintSHA256(e.cas.user.PublicKey())
			got := fields(cert)
			if len(got.Critical) == 0 {
				got.Critical = nil
			}
			if len(got.Extensions) == 0 {
				got.Extensions = nil
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("certificate (-want +got):\n%s", diff)
			}
			if cert.Serial == 0 {
				t.Fatal("serial 0")
			}
			checker := sshcert.Checker{CA: e.cas.user.PublicKey(), Clock: e.clock.Now}
			if _, err := checker.CheckUser(cert, tc.role+"@"+tc.resources[0]); err != nil {
				t.Fatalf("the bastion's checker refuses it: %v", err)
			}
			certs := e.certs(r.ID)
			if len(certs) != 1 || certs[0].Serial != cert.Serial || certs[0].Kind != store.UserCert {
				t.Fatalf("recorded certificates: %+v", certs)
			}
			// Its audit row holds the certificate itself, for evidence.
			kept, _ := e.auditDetail(r.ID, "usercert.issued")["certificate"].(string)
			if kept != strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert))) {
				t.Fatalf("the usercert.issued row holds %q", kept)
			}
		})
	}
}

func (e *env) certs(id string) []*store.Certificate {
	e.t.Helper()
	var out []*store.Certificate
	if err := e.st.View(ctx, func(tx store.Tx) (err error) { out, err = tx.Certificates(id); return err }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestSerialsAreUniqueAndNonZero(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	seen := map[uint64]bool{}
	for i := 0; i < 200; i++ {
		c, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Serial == 0 || seen[c.Serial] {
			t.Fatalf("serial %d repeated or zero", c.Serial)
		}
		seen[c.Serial] = true
	}
}

func TestCertificateRefusals(t *testing.T) {
	certKey, _ := ssh.ParsePublicKey(mustCert(t).Marshal())
	tests := []struct {
		name  string
		actor workflow.Actor
		setup func(e *env, id string)
		key   ssh.PublicKey
		want  error
	}{
		{"someone else's grant", user("bob"), nil, nil, workflow.ErrForbidden},
		{"a bastion asking for a user certificate", workflow.BastionActor("bastion-1"), nil, nil, workflow.ErrForbidden},
		{"a revoked grant", user("alice"), func(e *env, id string) { e.svc.Revoke(ctx, user("alice"), id, "") }, nil, workflow.ErrNotLive},
		{"an ended grant", user("alice"), func(e *env, id string) { e.clock.Advance(time.Hour) }, nil, workflow.ErrNotLive},
		{"a certificate as the key", user("alice"), nil, certKey, workflow.ErrBadInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
			if tc.setup != nil {
				tc.setup(e, r.ID)
			}
			key := tc.key
			if key == nil {
				key = newPublicKey(t)
			}
			_, err := e.svc.IssueUserCert(ctx, tc.actor, r.ID, key, workflow.StepUp{})
			requireErr(t, err, tc.want)
			if len(e.certs(r.ID)) != 0 {
				t.Fatal("a refused issuance recorded a certificate")
			}
			acts := e.actions(r.ID)
			if acts[len(acts)-1] != "cert.refused" {
				t.Fatalf("refusal not audited: %v", acts)
			}
		})
	}
	t.Run("a pending request", func(t *testing.T) {
		e := newEnv(t, nil)
		r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
		_, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
		requireErr(t, err, workflow.ErrNotLive)
	})
	t.Run("no such request", func(t *testing.T) {
		e := newEnv(t, nil)
		_, err := e.svc.IssueUserCert(ctx, user("alice"), "req-aaaaaaaaaaaaaaaa", newPublicKey(t), workflow.StepUp{})
		requireErr(t, err, workflow.ErrNotFound)
	})
}

func mustCert(t *testing.T) *ssh.Certificate {
	c := &ssh.Certificate{Key: newPublicKey(t), CertType: ssh.UserCert, ValidPrincipals: []string{"x@y"}, ValidBefore: ssh.CertTimeInfinity, Serial: 1}
	if err := c.SignCert(rand.Reader, newSigner(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHopCertificate(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1", "db-2"}, time.Hour, "")
	e.clock.Advance(10 * time.Minute)
	bastion := workflow.BastionActor("bastion-1")
	cert, err := e.svc.IssueHopCert(ctx, bastion, r.ID, "db-2", newPublicKey(t))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	want := certFields{Type: ssh.UserCert, KeyID: "hop/bastion-1/alice/" + r.ID + "/db-2", Principals: []string{"health@db-2"},
		Critical:    map[string]string{"force-command": "/usr/local/bin/lockbox-gate -- 'uptime' 'df -h'", "source-address": "127.0.0.1/32"},
		Extensions:  map[string]string{},
		ValidAfter:  now.Add(-time.Minute),
		ValidBefore: now.Add(workflow.DefaultHopTTL), // a login's worth, not the rest of the grant
		Authority:   ssh.FingerprintSHA256(e.cas.hop.PublicKey())}
	if diff := cmp.Diff(want, fields(cert)); diff != "" {
		t.Fatalf("hop certificate (-want +got):\n%s", diff)
	}

	refusals := []struct {
		name     string
		actor    workflow.Actor
		resource string
		want     error
	}{
		{"a user", user("alice"), "db-1", workflow.ErrNotBastion},
		{"an unregistered bastion", workflow.BastionActor("rogue"), "db-1", workflow.ErrNotBastion},
		{"a resource outside the grant", bastion, "web-1", workflow.ErrNotInGrant},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.IssueHopCert(ctx, tc.actor, r.ID, tc.resource, newPublicKey(t))
			requireErr(t, err, tc.want)
		})
	}
	t.Run("a revoked grant", func(t *testing.T) {
		if _, err := e.svc.Revoke(ctx, user("alice"), r.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.IssueHopCert(ctx, bastion, r.ID, "db-1", newPublicKey(t))
		requireErr(t, err, workflow.ErrNotLive)
	})
}

// The KRL lists the certificates of revoked grants, as OpenSSH reads it.
func TestKRLListsRevokedGrantsCertificates(t *testing.T) {
	keygen := lookPath(t, "ssh-keygen")
	if keygen == "" {
		storetest.MissingPeer(t, "ssh-keygen (Debian package openssh-client)")
	}
	e := newEnv(t, nil)
	dir := t.TempDir()
	issue := func(name string) (string, string) {
		r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
		c, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+"-cert.pub")
		if err := os.WriteFile(path, ssh.MarshalAuthorizedKey(c), 0o644); err != nil {
			t.Fatal(err)
		}
		return r.ID, path
	}
	revokedID, revokedCert := issue("revoked")
	_, liveCert := issue("live")
	if _, err := e.svc.Revoke(ctx, user("alice"), revokedID, "compromised laptop"); err != nil {
		t.Fatal(err)
	}
	krl, err := e.svc.KRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	krlPath := filepath.Join(dir, "krl")
	if err := os.WriteFile(krlPath, krl, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, revoked := range map[string]bool{revokedCert: true, liveCert: false} {
		out, err := exec.Command(keygen, "-Q", "-f", krlPath, path).CombinedOutput()
		var exit *exec.ExitError
		gotRevoked := errors.As(err, &exit) && strings.Contains(string(out), "REVOKED")
		if err != nil && !gotRevoked {
			t.Fatalf("ssh-keygen -Q: %v: %s", err, out)
		}
		if gotRevoked != revoked {
			t.Errorf("%s: ssh-keygen says %q, want revoked=%v", filepath.Base(path), strings.TrimSpace(string(out)), revoked)
		}
	}
}

func TestMFAEnrolment(t *testing.T) {
	e := newEnv(t, nil)
	uri, err := e.svc.EnrollMFA(ctx, user("alice"), "")
	if err != nil || !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Fatalf("enroll: %q %v", uri, err)
	}
	_, err = e.svc.EnrollMFA(ctx, user("alice"), "")
	requireErr(t, err, workflow.ErrMFAEnrolled)

	code := codeFromURI(t, uri, e.clock.Now())
	if err := e.svc.CheckMFA(ctx, workflow.BastionActor("bastion-1"), "alice", code, "192.0.2.1"); err != nil {
		t.Fatalf("a current code: %v", err)
	}
	err = e.svc.CheckMFA(ctx, workflow.BastionActor("bastion-1"), "alice", code, "192.0.2.1")
	requireErr(t, err, workflow.ErrMFACode)
	err = e.svc.CheckMFA(ctx, workflow.BastionActor("bastion-1"), "bob", code, "192.0.2.1")
	requireErr(t, err, workflow.ErrMFANotEnrolled)

	// Enrolling again needs a current code from the old secret.
	e.clock.Advance(30 * time.Second)
	uri2, err := e.svc.EnrollMFA(ctx, user("alice"), codeFromURI(t, uri, e.clock.Now()))
	if err != nil || uri2 == uri {
		t.Fatalf("re-enroll with a code: %v", err)
	}
}

// A database that cannot be reached approves nothing and issues nothing.
func TestUnreachableDatabaseFailsClosed(t *testing.T) {
	e := newEnv(t, nil)
	pending := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	live := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	down := &downStore{Store: e.st}
	svc := e.service(down)
	down.down = true
	if _, err := svc.Approve(ctx, user("carol"), pending.ID, "ok"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("approve with the database down: %v", err)
	}
	if _, err := svc.IssueUserCert(ctx, user("alice"), live.ID, newPublicKey(t), workflow.StepUp{}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("issue with the database down: %v", err)
	}
	if _, err := svc.IssueHopCert(ctx, workflow.BastionActor("bastion-1"), live.ID, "db-1", newPublicKey(t)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("hop certificate with the database down: %v", err)
	}
	if st := e.request(pending.ID).State; st != store.Pending {
		t.Fatalf("state %s", st)
	}
}

type downStore struct {
	store.Store
	down bool
}

func (d *downStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if d.down {
		return store.ErrUnavailable
	}
	return d.Store.Update(ctx, fn)
}

func (d *downStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if d.down {
		return store.ErrUnavailable
	}
	return d.Store.View(ctx, fn)
}

func TestHostCertificate(t *testing.T) {
	e := newEnv(t, nil)
	cert, err := e.svc.IssueHostCert(ctx, "ops", newPublicKey(t), []string{"bastion.example.com", "127.0.0.1"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	want := certFields{Type: ssh.HostCert, KeyID: "host/bastion.example.com", Principals: []string{"bastion.example.com", "127.0.0.1"},
		Critical: map[string]string{}, Extensions: map[string]string{}, ValidAfter: now.Add(-time.Minute), ValidBefore: now.Add(24 * time.Hour),
		Authority: ssh.FingerprintSHA256(e.cas.host.PublicKey())}
	if diff := cmp.Diff(want, fields(cert), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("host certificate (-want +got):\n%s", diff)
	}
	for _, names := range [][]string{{"*.example.com"}, {}, {"a,b"}} {
		_, err = e.svc.IssueHostCert(ctx, "ops", newPublicKey(t), names, time.Hour)
		requireErr(t, err, workflow.ErrBadInput)
	}
	if acts := e.actions("bastion.example.com"); len(acts) != 1 || acts[0] != "hostcert.issued" {
		t.Fatalf("audit: %v", acts)
	}
}
