package sshcert

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

// resign replaces cert's signature after a test has tampered with it.
func resign(t testing.TB, cert *ssh.Certificate, ca ssh.Signer) *ssh.Certificate {
	t.Helper()
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return cert
}

// signWithAuthority signs cert with ca's private key while naming
// authority as its SignatureKey, which SignCert would refuse.
func signWithAuthority(t testing.TB, cert *ssh.Certificate, authority ssh.PublicKey, ca ssh.Signer) *ssh.Certificate {
	t.Helper()
	cert.Nonce = []byte("nonce")
	cert.SignatureKey = authority
	sig, err := ca.Sign(rand.Reader, signedBytes(cert))
	if err != nil {
		t.Fatal(err)
	}
	cert.Signature = sig
	return cert
}

// unsignedGrant is grantSpec() (modified by edit) for subject, unsigned.
func unsignedGrant(t testing.TB, subject ssh.PublicKey, edit func(*ssh.Certificate)) *ssh.Certificate {
	t.Helper()
	cert, err := UserCertificate(subject, grantSpec())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cert)
	}
	return cert
}

func TestCheckUserRefusals(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	other := newSigner(t, KeyEd25519)
	rsaCA := rsaSigner(t)
	sha1RSA, err := ssh.NewSignerWithAlgorithms(rsaCA.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	caAsCert := resign(t, unsignedGrant(t, ca.PublicKey(), nil), ca) // a certificate OF the CA key
	valid := t0.Add(time.Minute)
	edited := func(edit func(*ssh.Certificate)) ssh.PublicKey {
		return resign(t, unsignedGrant(t, ed25519Pub(t), edit), ca)
	}
	tamperedSig := signedGrant(t, ca, nil)
	tamperedSig.Signature.Blob[0] ^= 1
	sha1Signed := resign(t, unsignedGrant(t, ed25519Pub(t), nil), sha1RSA)
	if sha1Signed.Signature.Format != ssh.KeyAlgoRSA || rsaCA.PublicKey().Verify(signedBytes(sha1Signed), sha1Signed.Signature) != nil {
		t.Fatalf("could not craft a valid ssh-rsa signature (format %s)", sha1Signed.Signature.Format)
	}
	host, _ := HostCertificate(ed25519Pub(t), HostSpec{Serial: 1, KeyID: "h", Hostnames: []string{"admin@web-1"}, ValidAfter: t0, ValidBefore: t0.Add(time.Hour)})

	tests := []struct {
		name      string
		ca        ssh.PublicKey
		key       ssh.PublicKey
		principal string
		now       time.Time
		want      error
	}{
		{"plain key is not a certificate", nil, ed25519Pub(t), "admin@web-1", valid, ErrNotCertificate},
		{"host certificate", nil, resign(t, host, ca), "admin@web-1", valid, ErrWrongCertType},
		{"signed by another CA", nil, signedGrant(t, other, nil), "admin@web-1", valid, ErrWrongAuthority},
		{"signing key is a certificate of the CA key", nil,
			signWithAuthority(t, unsignedGrant(t, ed25519Pub(t), nil), caAsCert, ca), "admin@web-1", valid, ErrWrongAuthority},
		{"names the CA but signed by another key", nil,
			signWithAuthority(t, unsignedGrant(t, ed25519Pub(t), nil), ca.PublicKey(), other), "admin@web-1", valid, ErrBadSignature},
		{"tampered signature", nil, tamperedSig, "admin@web-1", valid, ErrBadSignature},
		{"field changed after signing", nil, func() ssh.PublicKey {
			c := signedGrant(t, ca, nil)
			c.ValidPrincipals = []string{"root@web-1"}
			return c
		}(), "root@web-1", valid, ErrBadSignature},
		{"no signature", nil, func() ssh.PublicKey {
			c := signedGrant(t, ca, nil)
			c.Signature = nil
			return c
		}(), "admin@web-1", valid, ErrBadSignature},
		{"ssh-rsa SHA-1 CA signature", rsaCA.PublicKey(), sha1Signed, "admin@web-1", valid, ErrWeakSignature},
		{"DSA subject key", nil, resign(t, unsignedGrant(t, ed25519Pub(t), func(c *ssh.Certificate) { c.Key = dsaPub(t) }), ca), "admin@web-1", valid, ErrBadSubjectKey},
		{"key ID with escape sequence", nil, edited(func(c *ssh.Certificate) { c.KeyId = "alice\x1b[2K" }), "admin@web-1", valid, ErrBadKeyID},
		{"unknown critical option", nil, edited(func(c *ssh.Certificate) { c.CriticalOptions["verify-required"] = "" }), "admin@web-1", valid, ErrUnknownCriticalOption},
		{"malformed source-address", nil, edited(func(c *ssh.Certificate) { c.CriticalOptions[OptSourceAddress] = "10.0.0.0/8,,x" }), "admin@web-1", valid, ErrBadSourceAddress},
		{"force-command with control characters", nil, edited(func(c *ssh.Certificate) { c.CriticalOptions[OptForceCommand] = "ls\r\x1b[2K" }), "admin@web-1", valid, ErrBadForceCommand},
		{"empty principals", nil, edited(func(c *ssh.Certificate) { c.ValidPrincipals = nil }), "admin@web-1", valid, ErrBadPrincipal},
		{"empty principals, empty requested", nil, edited(func(c *ssh.Certificate) { c.ValidPrincipals = nil }), "", valid, ErrBadPrincipal},
		{"wildcard principal asked as *", nil, edited(func(c *ssh.Certificate) { c.ValidPrincipals = []string{"*"} }), "*", valid, ErrBadPrincipal},
		{"wildcard principal among good ones", nil, edited(func(c *ssh.Certificate) { c.ValidPrincipals = []string{"admin@web-1", "*"} }), "admin@web-1", valid, ErrBadPrincipal},
		{"comma list principal", nil, edited(func(c *ssh.Certificate) { c.ValidPrincipals = []string{"admin@web-1,root@db"} }), "admin@web-1,root@db", valid, ErrBadPrincipal},
		{"principal mismatch", nil, signedGrant(t, ca, nil), "root@web-1", valid, ErrPrincipalMismatch},
		{"principal differs in case", nil, signedGrant(t, ca, nil), "Admin@web-1", valid, ErrPrincipalMismatch},
		{"infinite validity", nil, edited(func(c *ssh.Certificate) { c.ValidBefore = ssh.CertTimeInfinity }), "admin@web-1", valid, ErrInfiniteValidity},
		{"valid-after beyond int64", nil, edited(func(c *ssh.Certificate) { c.ValidAfter = 1 << 63 }), "admin@web-1", valid, ErrNotYetValid},
		{"clock before 1970", nil, edited(func(c *ssh.Certificate) { c.ValidAfter = 0 }), "admin@web-1", time.Unix(-5, 0), ErrNotYetValid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trusted := tc.ca
			if trusted == nil {
				trusted = ca.PublicKey()
			}
			c := &Checker{CA: trusted, Clock: func() time.Time { return tc.now }}
			got, err := c.CheckUser(tc.key, tc.principal)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CheckUser() = %v, %v; want error %v", got, err, tc.want)
			}
			if got != nil {
				t.Errorf("CheckUser() returned a certificate with error %v", err)
			}
			assertRefusedAfterWire(t, c, tc.key, tc.principal)
		})
	}
}

// assertRefusedAfterWire checks that the certificate, sent over the wire as
// a client would, is refused too (or does not even parse).
func assertRefusedAfterWire(t *testing.T, c *Checker, key ssh.PublicKey, principal string) {
	t.Helper()
	cert, ok := key.(*ssh.Certificate)
	if !ok || cert.Signature == nil {
		return
	}
	parsed, err := ssh.ParsePublicKey(key.Marshal())
	if err != nil {
		return
	}
	if _, err := c.CheckUser(parsed, principal); err == nil {
		t.Error("CheckUser accepted the certificate after a wire round trip")
	}
}

func TestCheckUserValidityEdges(t *testing.T) {
	ca := newSigner(t, KeyECDSAP256)
	cert := signedGrant(t, ca, nil) // valid [t0, t0+1h)
	after, before := t0, t0.Add(time.Hour)
	tests := []struct {
		name string
		now  time.Time
		want error
	}{
		{"1s before ValidAfter refused", after.Add(-time.Second), ErrNotYetValid},
		{"1ns before ValidAfter refused", after.Add(-time.Nanosecond), ErrNotYetValid},
		{"at ValidAfter accepted", after, nil},
		{"1s before ValidBefore accepted", before.Add(-time.Second), nil},
		{"1ns before ValidBefore accepted (second truncated)", before.Add(-time.Nanosecond), nil},
		{"at ValidBefore refused", before, ErrExpired},
		{"1s after ValidBefore refused", before.Add(time.Second), ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := func() time.Time { return tc.now }
			c := &Checker{CA: ca.PublicKey(), Clock: clock}
			_, err := c.CheckUser(cert, "admin@web-1")
			if !errors.Is(err, tc.want) {
				t.Fatalf("CheckUser at %v = %v, want %v", tc.now, err, tc.want)
			}
			// x/crypto's CertChecker draws the same line.
			xc := &ssh.CertChecker{Clock: clock}
			if xerr := xc.CheckCert("admin@web-1", cert); (xerr == nil) != (err == nil) {
				t.Errorf("x/crypto CheckCert = %v, ours = %v", xerr, err)
			}
		})
	}
}

func TestCheckUserAcceptsGrant(t *testing.T) {
	for _, kt := range []KeyType{KeyEd25519, KeyECDSAP256} {
		t.Run(string(kt), func(t *testing.T) {
			ca := newSigner(t, kt)
			cert := signedGrant(t, ca, func(s *UserSpec) {
				s.Principals = []string{"admin@web-1", "admin@web-2"}
				s.ForceCommand, s.SourceAddress = "/bin/true", []string{"10.0.0.0/8"}
			})
			parsed, err := ssh.ParsePublicKey(cert.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0 }}
			got, err := c.CheckUser(parsed, "admin@web-2")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(cert.Marshal(), got.Marshal()); diff != "" {
				t.Errorf("returned certificate differs (-want +got):\n%s", diff)
			}
			if cmd, ok := ForceCommand(got); !ok || cmd != "/bin/true" {
				t.Errorf("ForceCommand() = %q, %v", cmd, ok)
			}
		})
	}
	t.Run("rsa-sha2-512", func(t *testing.T) {
		ca := rsaSigner(t)
		c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0 }}
		if _, err := c.CheckUser(signedGrant(t, ca, nil), "admin@web-1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCheckerNeedsRawCA(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	cert := signedGrant(t, ca, nil)
	for name, c := range map[string]*Checker{
		"nil CA":         {},
		"certificate CA": {CA: resign(t, unsignedGrant(t, ca.PublicKey(), nil), ca)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.CheckUser(cert, "admin@web-1"); err == nil {
				t.Error("CheckUser succeeded")
			}
		})
	}
}

func TestCheckHost(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	spec := HostSpec{Serial: 3, KeyID: "host/web-1", Hostnames: []string{"web-1", "10.0.0.5"}, ValidAfter: t0, ValidBefore: t0.Add(time.Hour)}
	hostCert := func(edit func(*ssh.Certificate)) ssh.PublicKey {
		cert, err := HostCertificate(ed25519Pub(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(cert)
		}
		return resign(t, cert, ca)
	}
	tests := []struct {
		name     string
		key      ssh.PublicKey
		hostname string
		want     error
	}{
		{"host certificate accepted", hostCert(nil), "10.0.0.5", nil},
		{"user certificate refused", signedGrant(t, ca, nil), "admin@web-1", ErrWrongCertType},
		{"other CA refused", resign(t, hostCert(nil).(*ssh.Certificate), newSigner(t, KeyEd25519)), "web-1", ErrWrongAuthority},
		{"hostname mismatch", hostCert(nil), "web-2", ErrPrincipalMismatch},
		{"wildcard hostname", hostCert(func(c *ssh.Certificate) { c.ValidPrincipals = []string{"*"} }), "web-1", ErrBadHostname},
		{"no hostnames", hostCert(func(c *ssh.Certificate) { c.ValidPrincipals = nil }), "web-1", ErrBadHostname},
		{"critical option", hostCert(func(c *ssh.Certificate) { c.CriticalOptions[OptForceCommand] = "x" }), "web-1", ErrUnknownCriticalOption},
		{"expired", hostCert(func(c *ssh.Certificate) { c.ValidBefore = uint64(t0.Unix()) + 1 }), "web-1", ErrExpired},
		{"infinite", hostCert(func(c *ssh.Certificate) { c.ValidBefore = ssh.CertTimeInfinity }), "web-1", ErrInfiniteValidity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0.Add(time.Minute) }}
			if _, err := c.CheckHost(tc.key, tc.hostname); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CheckHost() = %v, want %v", err, tc.want)
			}
		})
	}
}

// SignedUser tells a genuine certificate of the CA from anything else,
// whatever its validity or principals: the bastion explains a refusal only
// to the holder of a genuine one.
func TestSignedUserAcceptsOnlyGenuineUserCertificates(t *testing.T) {
	ca := newSigner(t, KeyEd25519)
	other := newSigner(t, KeyEd25519)
	c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0.Add(100 * time.Hour) }}
	expired := signedGrant(t, ca, nil)
	if _, err := c.CheckUser(expired, "admin@web-1"); !errors.Is(err, ErrExpired) {
		t.Fatalf("the test certificate should have expired: %v", err)
	}
	if got, err := c.SignedUser(expired); err != nil || got != expired {
		t.Fatalf("an expired genuine certificate: %v", err)
	}
	host, _ := HostCertificate(ed25519Pub(t), HostSpec{Serial: 1, KeyID: "h", Hostnames: []string{"web-1"}, ValidAfter: t0, ValidBefore: t0.Add(time.Hour)})
	tampered := signedGrant(t, ca, nil)
	tampered.ValidPrincipals = []string{"root@web-1"}
	for name, key := range map[string]ssh.PublicKey{
		"plain key": ed25519Pub(t), "another CA": signedGrant(t, other, nil),
		"host certificate": resign(t, host, ca), "changed after signing": tampered,
	} {
		if _, err := c.SignedUser(key); err == nil {
			t.Errorf("%s: accepted as genuine", name)
		}
	}
}
