package bastion

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

// A user CA key rotation seen from the bastion: certificates of the next
// key are refused until it is trusted, certificates of both keys are
// accepted during the overlap, and the old key's are refused once it is
// retired.
func TestGrantCertificatesOfBothUserCAKeysAreAcceptedOnlyDuringTheOverlap(t *testing.T) {
	s, tb := newServer(t)
	next := newKey(t)
	old := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1").PublicKey()
	renewed := cert(t, next, newKey(t), "alice", "admin@db-1").PublicKey()
	accepts := func(key ssh.PublicKey) bool {
		_, _, err := s.checkCert(key, "db-1", meta{}.RemoteAddr())
		return err == nil
	}
	host := []ssh.PublicKey{tb.hostCA.PublicKey()}
	for _, step := range []struct {
		name         string
		user         []ssh.PublicKey
		old, renewed bool
	}{
		{"before", []ssh.PublicKey{tb.userCA.PublicKey()}, true, false},
		{"prepared", []ssh.PublicKey{tb.userCA.PublicKey(), next.PublicKey()}, true, true},
		{"overlap", []ssh.PublicKey{next.PublicKey(), tb.userCA.PublicKey()}, true, true},
		{"retired", []ssh.PublicKey{next.PublicKey()}, false, true},
	} {
		if err := s.SetAuthorities(step.user, host); err != nil {
			t.Fatal(err)
		}
		if got := accepts(old); got != step.old {
			t.Errorf("%s: certificate of the old key accepted=%v, want %v", step.name, got, step.old)
		}
		if got := accepts(renewed); got != step.renewed {
			t.Errorf("%s: certificate of the next key accepted=%v, want %v", step.name, got, step.renewed)
		}
	}
}

func TestSetAuthoritiesRefusesBadKeysAndKeepsTheOldOnes(t *testing.T) {
	s, tb := newServer(t)
	good := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1").PublicKey()
	user, host := []ssh.PublicKey{tb.userCA.PublicKey()}, []ssh.PublicKey{tb.hostCA.PublicKey()}
	for name, lists := range map[string][2][]ssh.PublicKey{
		"no user key":             {nil, host},
		"no host key":             {user, nil},
		"a nil key":               {{tb.userCA.PublicKey(), nil}, host},
		"a certificate as CA":     {{good}, host},
		"the user CA as host key": {user, {tb.hostCA.PublicKey(), tb.userCA.PublicKey()}},
	} {
		if err := s.SetAuthorities(lists[0], lists[1]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := s.checkCert(good, "db-1", meta{}.RemoteAddr()); err != nil {
		t.Fatalf("after refused changes the old user CA is no longer trusted: %v", err)
	}
}
