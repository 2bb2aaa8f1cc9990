package workflow_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// After SetAuthorities the next certificate is signed by the new key, and
// the change is audited with both keys' fingerprints.
func TestSetAuthoritiesSignsNewCertificatesWithTheNextKeyOnly(t *testing.T) {
	e := newEnv(t, nil)
	next := newSigner(t)
	issue := func() *ssh.Certificate {
		r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
		c, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := issue(); !bytes.Equal(c.SignatureKey.Marshal(), e.cas.user.PublicKey().Marshal()) {
		t.Fatal("the first certificate is not signed by the first user CA key")
	}
	a := e.svc.Authorities()
	a.User = []ssh.PublicKey{a.UserCA.PublicKey()}
	a.UserCA = next
	if err := e.svc.SetAuthorities(ctx, "operator:root", a); err != nil {
		t.Fatal(err)
	}
	if c := issue(); !bytes.Equal(c.SignatureKey.Marshal(), next.PublicKey().Marshal()) {
		t.Fatal("a certificate issued after the rotation is not signed by the next key")
	}
	got := e.svc.Authorities().UserKeys()
	if len(got) != 2 || !bytes.Equal(got[0].Marshal(), next.PublicKey().Marshal()) || !bytes.Equal(got[1].Marshal(), e.cas.user.PublicKey().Marshal()) {
		t.Fatalf("UserKeys() = %d keys, want the next then the previous", len(got))
	}
	var found bool
	for _, r := range e.auditRows() {
		if r.Action == "ca.keys.loaded" && r.Actor == "operator:root" {
			var d struct{ User []string }
			if err := json.Unmarshal(r.Detail, &d); err != nil {
				t.Fatal(err)
			}
			users := d.User
			found = len(users) == 2 && users[0] == ssh.FingerprintSHA256(next.PublicKey()) && users[1] == ssh.FingerprintSHA256(e.cas.user.PublicKey())
		}
	}
	if !found {
		t.Error("no ca.keys.loaded audit row naming the next and the previous user CA key")
	}
}

func TestSetAuthoritiesRefusesSharedKeysAndKeepsTheOldOnes(t *testing.T) {
	e := newEnv(t, nil)
	before := e.svc.Authorities()
	for name, edit := range map[string]func(a *workflow.Authorities){
		"the hop CA trusted as a user key": func(a *workflow.Authorities) { a.User = []ssh.PublicKey{a.HopCA.PublicKey()} },
		"the user CA's next key is the host CA": func(a *workflow.Authorities) {
			a.User = []ssh.PublicKey{a.UserCA.PublicKey()}
			a.UserCA = a.HostCA
		},
		"no hop CA":          func(a *workflow.Authorities) { a.HopCA = nil },
		"a nil key to trust": func(a *workflow.Authorities) { a.Hop = []ssh.PublicKey{nil} },
	} {
		t.Run(name, func(t *testing.T) {
			a := e.svc.Authorities()
			edit(&a)
			if err := e.svc.SetAuthorities(ctx, "operator:root", a); err == nil {
				t.Fatal("SetAuthorities accepted it")
			}
			after := e.svc.Authorities()
			if after.UserCA != before.UserCA || after.HopCA != before.HopCA || len(after.User)+len(after.Hop) != 0 {
				t.Error("a refused SetAuthorities changed the keys")
			}
		})
	}
}

// During the overlap the KRL lists a revoked grant's serial under both
// user CA keys, so that ssh-keygen (and sshd) revoke its certificate
// whichever of them signed it.
func TestKRLCoversCertificatesOfBothKeysDuringTheOverlap(t *testing.T) {
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
	oldID, oldCert := issue("old")
	a := e.svc.Authorities()
	a.User, a.UserCA = []ssh.PublicKey{a.UserCA.PublicKey()}, newSigner(t)
	if err := e.svc.SetAuthorities(ctx, "operator:root", a); err != nil {
		t.Fatal(err)
	}
	newID, newCert := issue("new")
	_, liveCert := issue("live")
	for _, id := range []string{oldID, newID} {
		if _, err := e.svc.Revoke(ctx, user("alice"), id, "lost laptop"); err != nil {
			t.Fatal(err)
		}
	}
	krl, err := e.svc.KRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	krlPath := filepath.Join(dir, "krl")
	if err := os.WriteFile(krlPath, krl, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, revoked := range map[string]bool{oldCert: true, newCert: true, liveCert: false} {
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
