package cakeys

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

var t0 = time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)

func opts() Options { return Options{Rand: rand.Reader, Now: t0} }

// newDir makes a data directory with a user_ca of type t, as ca init does.
func newDir(t *testing.T, kt sshcert.KeyType) string {
	t.Helper()
	dir := t.TempDir()
	key, err := sshcert.GenerateKey(kt, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.WriteKeyFiles(filepath.Join(dir, "user_ca"), key, "lockbox user_ca"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T, dir string) *Key {
	t.Helper()
	k, err := Load(dir, User)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fp(k ssh.PublicKey) string {
	if k == nil {
		return "<nil>"
	}
	return ssh.FingerprintSHA256(k)
}

func TestFullRotationPublishesBothKeysThenOnlyTheNext(t *testing.T) {
	dir := newDir(t, sshcert.KeyEd25519)
	first := load(t, dir).Signer.PublicKey()

	prepared, err := Prepare(dir, User, opts())
	if err != nil {
		t.Fatal(err)
	}
	if prepared.Phase() != "prepared" || fp(prepared.Signer.PublicKey()) != fp(first) || prepared.Next == nil {
		t.Fatalf("after Prepare: phase %s, signer %s, next %s; want the first key still signing", prepared.Phase(), fp(prepared.Signer.PublicKey()), fp(prepared.Next))
	}
	next := prepared.Next
	if got := prepared.Trusted(); len(got) != 2 || fp(got[0]) != fp(first) || fp(got[1]) != fp(next) {
		t.Fatalf("Trusted() while prepared = %d keys, want the signing key then the next", len(got))
	}

	rotated, err := Rotate(dir, User, opts())
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Phase() != "overlap" || fp(rotated.Signer.PublicKey()) != fp(next) || fp(rotated.Previous) != fp(first) {
		t.Fatalf("after Rotate: phase %s, signer %s, previous %s; want the prepared key signing and the first previous",
			rotated.Phase(), fp(rotated.Signer.PublicKey()), fp(rotated.Previous))
	}
	if got := rotated.Trusted(); len(got) != 2 || fp(got[0]) != fp(next) || fp(got[1]) != fp(first) {
		t.Fatalf("Trusted() in the overlap = %d keys, want the next key then the previous", len(got))
	}
	for _, gone := range []string{"user_ca.next", "user_ca.next.pub"} {
		if exists(filepath.Join(dir, gone)) {
			t.Errorf("%s is still there after Rotate", gone)
		}
	}

	retiredKey, retired, err := Retire(dir, User, opts())
	if err != nil {
		t.Fatal(err)
	}
	if retiredKey.Phase() != "steady" || len(retiredKey.Trusted()) != 1 || fp(retiredKey.Signer.PublicKey()) != fp(next) {
		t.Fatalf("after Retire: phase %s, %d trusted; want only the next key", retiredKey.Phase(), len(retiredKey.Trusted()))
	}
	if want := filepath.Join(dir, "user_ca.retired-20261202T030405Z.pub"); retired != want {
		t.Errorf("retired file %s, want %s", retired, want)
	}
	if k, err := readPublic(retired); err != nil || fp(k) != fp(first) {
		t.Errorf("retired file holds %s (%v), want the first key", fp(k), err)
	}
}

func TestRotateWithoutPrepareMakesTheNextKeyOfTheSameType(t *testing.T) {
	dir := newDir(t, sshcert.KeyECDSAP256)
	k, err := Rotate(dir, User, opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Signer.PublicKey().Type(); got != ssh.KeyAlgoECDSA256 {
		t.Errorf("next key type %s, want %s", got, ssh.KeyAlgoECDSA256)
	}
	fi, err := os.Stat(filepath.Join(dir, "user_ca"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("user_ca mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestRotationStepsRefuseOutOfOrder(t *testing.T) {
	dir := newDir(t, sshcert.KeyEd25519)
	if _, _, err := Retire(dir, User, opts()); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("Retire with no previous key = %v, want ErrNoPrevious", err)
	}
	if _, err := Prepare(dir, User, opts()); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(dir, User, opts()); !errors.Is(err, ErrPrepared) {
		t.Errorf("Prepare twice = %v, want ErrPrepared", err)
	}
	if _, err := Rotate(dir, User, opts()); err != nil {
		t.Fatal(err)
	}
	before := load(t, dir)
	if _, err := Rotate(dir, User, opts()); !errors.Is(err, ErrOverlap) {
		t.Errorf("Rotate in the overlap = %v, want ErrOverlap", err)
	}
	if _, err := Prepare(dir, User, opts()); !errors.Is(err, ErrOverlap) {
		t.Errorf("Prepare in the overlap = %v, want ErrOverlap", err)
	}
	after := load(t, dir)
	if fp(after.Signer.PublicKey()) != fp(before.Signer.PublicKey()) || fp(after.Previous) != fp(before.Previous) || after.Next != nil {
		t.Error("a refused step changed the keys")
	}
	if _, err := Load(dir, Hop); !errors.Is(err, ErrNoKey) {
		t.Errorf("Load of a missing key = %v, want ErrNoKey", err)
	}
}

// A crash can stop Rotate after it kept the previous key, or between the
// next key's two renames. Load refuses either state, and Rotate finishes
// it.
func TestInterruptedRotateIsRefusedThenFinished(t *testing.T) {
	for name, stop := range map[string]func(t *testing.T, p paths){
		"before the renames": func(t *testing.T, p paths) {},
		"between the renames": func(t *testing.T, p paths) {
			if err := os.Rename(p.next, p.current); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := newDir(t, sshcert.KeyEd25519)
			first := load(t, dir).Signer.PublicKey()
			prepared, err := Prepare(dir, User, opts())
			if err != nil {
				t.Fatal(err)
			}
			p := pathsOf(dir, User)
			if err := writeNew(p.previous, sshcert.AuthorizedKey(first, ""), 0o644); err != nil {
				t.Fatal(err)
			}
			stop(t, p)
			if _, err := Load(dir, User); !errors.Is(err, ErrIncomplete) {
				t.Fatalf("Load after the crash = %v, want ErrIncomplete", err)
			}
			k, err := Rotate(dir, User, opts())
			if err != nil {
				t.Fatal(err)
			}
			if fp(k.Signer.PublicKey()) != fp(prepared.Next) || fp(k.Previous) != fp(first) {
				t.Errorf("finished rotation: signer %s previous %s, want %s and %s", fp(k.Signer.PublicKey()), fp(k.Previous), fp(prepared.Next), fp(first))
			}
		})
	}
}

func TestLoadRefusesAPublicHalfOfAnotherKey(t *testing.T) {
	dir := newDir(t, sshcert.KeyEd25519)
	other, _ := sshcert.GenerateKey(sshcert.KeyEd25519, rand.Reader)
	pub, _ := ssh.NewPublicKey(other.Public())
	if err := os.WriteFile(filepath.Join(dir, "user_ca.pub"), sshcert.AuthorizedKey(pub, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, User); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Load = %v, want ErrIncomplete", err)
	}
	if _, err := Rotate(dir, User, opts()); err == nil {
		t.Fatal("Rotate went ahead over a mismatched user_ca.pub")
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"user", "hop", "host"} {
		if k, err := ParseKind(s); err != nil || string(k) != s {
			t.Errorf("ParseKind(%q) = %q, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "audit", "USER", "user_ca"} {
		if _, err := ParseKind(s); err == nil {
			t.Errorf("ParseKind(%q) succeeded", s)
		}
	}
}
