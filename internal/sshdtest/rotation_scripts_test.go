package sshdtest_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A hop CA key rotation seen from a target: setup-target.sh trusts every
// hop key the CA lists, refresh-krl.sh follows the list as it changes, and
// stock sshd takes hop certificates of both keys during the overlap and
// only the next key's after retirement.
func TestTargetScriptsFollowAHopCAKeyRotation(t *testing.T) {
	requireScriptTools(t)
	userCA, oldHop, nextHop := newCA(t), newCA(t), newCA(t)
	ca := newFakeCA(t, userCA.PublicKey(), oldHop.PublicKey())
	keysWith := func(hops ...ssh.Signer) wire.CAKeys {
		k := wire.CAKeys{UserCA: authorizedKey(userCA), HopCA: authorizedKey(hops[0]), UserCAs: []string{authorizedKey(userCA)}}
		for _, h := range hops {
			k.HopCAs = append(k.HopCAs, authorizedKey(h))
		}
		return k
	}
	login := currentLogin(t)
	prefix := filepath.Join(t.TempDir(), "lockbox")
	ca.setKeys(keysWith(oldHop, nextHop)) // prepared: the next key is published
	if out, stderr, code := run(t, exec.Command("bash", setupTarget, "--ca", ca.URL, "--resource", "db-1",
		"--login", login+"=reader", "--prefix", prefix, "--no-reload")); code != 0 {
		t.Fatalf("setup-target.sh exit %d\n%s%s", code, out, stderr)
	}
	if got, want := readFile(t, prefix+"/hop_ca.pub"), authorizedKey(oldHop)+authorizedKey(nextHop); got != want {
		t.Fatalf("hop_ca.pub after setup = %q, want both hop keys %q", got, want)
	}
	srv := sshdtest.Start(t, sshdtest.Options{Extra: []string{"Include " + prefix + "/sshd_config"}})
	login1 := func(ca ssh.Signer) int {
		id, _ := issue(t, ca, func(s *sshcert.UserSpec) { s.Principals = []string{"reader@db-1"} })
		_, _, code := run(t, srv.SSH(t, id, login, "true"))
		return code
	}
	refresh := func(keys wire.CAKeys) {
		t.Helper()
		ca.setKeys(keys)
		if out, stderr, code := run(t, exec.Command("bash", refreshKRL, "--ca", ca.URL, "--prefix", prefix)); code != 0 {
			t.Fatalf("refresh-krl.sh exit %d\n%s%s", code, out, stderr)
		}
	}
	for _, step := range []struct {
		name          string
		keys          wire.CAKeys
		oldIn, nextIn bool
		wantHopCAFile string
	}{
		{"prepared", keysWith(oldHop, nextHop), true, true, authorizedKey(oldHop) + authorizedKey(nextHop)},
		{"rotated", keysWith(nextHop, oldHop), true, true, authorizedKey(nextHop) + authorizedKey(oldHop)},
		{"retired", keysWith(nextHop), false, true, authorizedKey(nextHop)},
	} {
		refresh(step.keys)
		if got := readFile(t, prefix+"/hop_ca.pub"); got != step.wantHopCAFile {
			t.Errorf("%s: hop_ca.pub = %q, want %q", step.name, got, step.wantHopCAFile)
		}
		if got := login1(oldHop) == 0; got != step.oldIn {
			t.Errorf("%s: a hop certificate of the old key got in=%v, want %v", step.name, got, step.oldIn)
		}
		if got := login1(nextHop) == 0; got != step.nextIn {
			t.Errorf("%s: a hop certificate of the next key got in=%v, want %v", step.name, got, step.nextIn)
		}
	}
}

func TestRefreshKRLKeepsTheTrustedHopKeysOnBadAnswers(t *testing.T) {
	requireScriptTools(t)
	userCA, hopCA := newCA(t), newCA(t)
	good := sshcert.MarshalKRL(7, time.Now(), "lockbox", nil)
	for _, tt := range []struct {
		name    string
		keys    wire.CAKeys
		wantErr string
	}{
		{"no hop key", wire.CAKeys{UserCA: authorizedKey(userCA)}, "has no hop_ca"},
		{"a hop key that is the user CA", wire.CAKeys{UserCA: authorizedKey(userCA), UserCAs: []string{authorizedKey(userCA)},
			HopCA: authorizedKey(hopCA), HopCAs: []string{authorizedKey(hopCA), authorizedKey(userCA)}}, "hop_ca is the user CA key"},
		{"a hop key that is no key", wire.CAKeys{UserCA: authorizedKey(userCA), HopCA: authorizedKey(hopCA),
			HopCAs: []string{authorizedKey(hopCA), "ssh-ed25519 AAAAnotakey\n"}}, "hop_ca is not a valid public key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ca := newFakeCA(t, userCA.PublicKey(), hopCA.PublicKey())
			ca.setKRL(http.StatusOK, good)
			ca.setKeys(tt.keys)
			prefix := t.TempDir()
			writeFile(t, prefix+"/hop_ca.pub", authorizedKey(hopCA))
			_, stderr, code := run(t, exec.Command("bash", refreshKRL, "--ca", ca.URL, "--prefix", prefix))
			if code == 0 || !strings.Contains(stderr, tt.wantErr) || !strings.Contains(stderr, "keeping the old") {
				t.Errorf("exit %d, stderr %q; want failure with %q, keeping the old file", code, stderr, tt.wantErr)
			}
			if got := readFile(t, prefix+"/hop_ca.pub"); got != authorizedKey(hopCA) {
				t.Errorf("hop_ca.pub changed to %q", got)
			}
			if left, _ := filepath.Glob(prefix + "/.*"); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}
