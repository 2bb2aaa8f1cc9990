package sshcert

import (
	"bytes"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestPrincipalJoinsRoleAndResource(t *testing.T) {
	if got := Principal("admin", "web-1"); got != "admin@web-1" {
		t.Errorf(`Principal("admin", "web-1") = %q`, got)
	}
}

func TestCheckPrincipal(t *testing.T) {
	tests := []struct {
		p  string
		ok bool
	}{
		{"admin@web-1", true},
		{"db-admin@db.prod.internal", true},
		{"a@b", true},
		{strings.Repeat("r", 127) + "@" + strings.Repeat("x", 127), true},
		{strings.Repeat("r", 128) + "@" + strings.Repeat("x", 127), false},
		{"", false},
		{"*", false},
		{"admin@*", false},
		{"admin@web-?", false},
		{"admin@web,root@db", false},
		{"admin@web 1", false},
		{"admin@web\t1", false},
		{"admin@web\n", false},
		{"admin@web\x00", false},
		{"admin@wéb", false},
		{"admin@web\x7f", false},
		{"admin", false},
		{"@web", false},
		{"admin@", false},
		{"admin@web@db", false},
	}
	for _, tc := range tests {
		t.Run(tc.p, func(t *testing.T) {
			err := CheckPrincipal(tc.p)
			if tc.ok && err != nil {
				t.Errorf("CheckPrincipal(%q) = %v, want nil", tc.p, err)
			}
			if !tc.ok && !errors.Is(err, ErrBadPrincipal) {
				t.Errorf("CheckPrincipal(%q) = %v, want ErrBadPrincipal", tc.p, err)
			}
		})
	}
}

func TestNewSerialSkipsZero(t *testing.T) {
	zeros := make([]byte, 16)
	r := io.MultiReader(bytes.NewReader(zeros), bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 1}))
	got, err := NewSerial(r)
	if err != nil || got != 1 {
		t.Errorf("NewSerial(two zero draws, then 1) = %d, %v; want 1, nil", got, err)
	}
}

func TestNewSerialFailsOnBrokenRandomness(t *testing.T) {
	if got, err := NewSerial(bytes.NewReader(make([]byte, 1024))); err == nil {
		t.Errorf("NewSerial(only zeros) = %d, nil; want error", got)
	}
	if got, err := NewSerial(bytes.NewReader([]byte{1, 2, 3})); err == nil {
		t.Errorf("NewSerial(short read) = %d, nil; want error", got)
	}
}

func TestCheckSubjectKey(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	tests := []struct {
		name string
		key  func(*testing.T) any
		ok   bool
	}{
		{"ed25519", func(t *testing.T) any { return ed25519Pub(t) }, true},
		{"ecdsa p256", func(t *testing.T) any { return ecdsaPub(t, elliptic.P256()) }, true},
		{"ecdsa p384", func(t *testing.T) any { return ecdsaPub(t, elliptic.P384()) }, true},
		{"ecdsa p521", func(t *testing.T) any { return ecdsaPub(t, elliptic.P521()) }, true},
		{"rsa 2048", func(t *testing.T) any { return rsaSigner(t).PublicKey() }, true},
		{"sk-ed25519", func(t *testing.T) any { return skEd25519Pub(t) }, true},
		{"sk-ecdsa p256", func(t *testing.T) any { return skECDSAPub(t) }, true},
		{"rsa 1024 refused", func(t *testing.T) any { return rsa1024Pub(t) }, false},
		{"dsa refused", func(t *testing.T) any { return dsaPub(t) }, false},
		{"certificate refused", func(t *testing.T) any { return signedGrant(t, ca, nil) }, false},
		{"unparseable or unknown type refused", func(t *testing.T) any { return fakeKey{"ssh-mldsa-65"} }, false},
		{"nil refused", func(*testing.T) any { return nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSubjectKey(asPublicKey(tc.key(t)))
			if tc.ok && err != nil {
				t.Errorf("CheckSubjectKey() = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrBadSubjectKey) {
				t.Errorf("CheckSubjectKey() = %v, want ErrBadSubjectKey", err)
			}
		})
	}
}

// An Ed25519 key of x/crypto's own type is taken without the round trip
// through its wire form, and comes out as that round trip gives it: equal,
// of the same type, and a copy (a later change to the caller's bytes does
// not reach the certificate).
func TestCanonicalEd25519KeyIsACopyOfTheSameKey(t *testing.T) {
	raw := make(ed25519.PublicKey, ed25519.PublicKeySize)
	for i := range raw {
		raw[i] = byte(i + 1)
	}
	pub, err := ssh.NewPublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := canonicalKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ssh.ParsePublicKey(pub.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), want.Marshal()) || reflect.TypeOf(got) != reflect.TypeOf(want) {
		t.Fatalf("canonical key %T %x; want %T %x", got, got.Marshal(), want, want.Marshal())
	}
	raw[0] ^= 0xff
	if !bytes.Equal(got.Marshal(), want.Marshal()) {
		t.Fatal("the canonical key shares the caller's bytes")
	}
	if _, err := canonicalKey(fakeKey{ssh.KeyAlgoED25519}); err == nil {
		t.Fatal("a PublicKey of another type claiming ssh-ed25519, with a malformed blob, was taken")
	}
}
