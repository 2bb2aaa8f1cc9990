package sshcert

import (
	"bytes"
	"crypto/elliptic"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func TestUserCertificateRefusesBadSpecs(t *testing.T) {
	pub := ed25519Pub(t)
	tests := []struct {
		name string
		pub  ssh.PublicKey
		edit func(*UserSpec)
		want error
	}{
		{"zero serial", pub, func(s *UserSpec) { s.Serial = 0 }, ErrBadSerial},
		{"empty key ID", pub, func(s *UserSpec) { s.KeyID = "" }, ErrBadKeyID},
		{"key ID with newline", pub, func(s *UserSpec) { s.KeyID = "alice\nroot" }, ErrBadKeyID},
		{"key ID with non-ASCII", pub, func(s *UserSpec) { s.KeyID = "alicé" }, ErrBadKeyID},
		{"key ID over 255 bytes", pub, func(s *UserSpec) { s.KeyID = strings.Repeat("a", 256) }, ErrBadKeyID},
		{"no principals", pub, func(s *UserSpec) { s.Principals = nil }, ErrNoPrincipals},
		{"wildcard principal", pub, func(s *UserSpec) { s.Principals = []string{"*"} }, ErrBadPrincipal},
		{"comma in principal", pub, func(s *UserSpec) { s.Principals = []string{"admin@web,root@db"} }, ErrBadPrincipal},
		{"one bad principal among good", pub, func(s *UserSpec) { s.Principals = []string{"admin@web", ""} }, ErrBadPrincipal},
		{"ValidBefore equals ValidAfter", pub, func(s *UserSpec) { s.ValidBefore = s.ValidAfter }, ErrBadValidity},
		{"ValidBefore before ValidAfter", pub, func(s *UserSpec) { s.ValidBefore = s.ValidAfter.Add(-time.Second) }, ErrBadValidity},
		{"window shorter than a second", pub, func(s *UserSpec) { s.ValidBefore = s.ValidAfter.Add(time.Second / 2) }, ErrBadValidity},
		{"zero ValidAfter", pub, func(s *UserSpec) { s.ValidAfter = time.Time{} }, ErrBadValidity},
		{"zero ValidBefore", pub, func(s *UserSpec) { s.ValidBefore = time.Time{} }, ErrBadValidity},
		{"ValidAfter before 1970", pub, func(s *UserSpec) { s.ValidAfter = time.Unix(-10, 0) }, ErrBadValidity},
		{"source-address not an address", pub, func(s *UserSpec) { s.SourceAddress = []string{"bastion.internal"} }, ErrBadSourceAddress},
		{"source-address with host bits", pub, func(s *UserSpec) { s.SourceAddress = []string{"10.1.2.3/8"} }, ErrBadSourceAddress},
		{"source-address with comma", pub, func(s *UserSpec) { s.SourceAddress = []string{"10.0.0.1,0.0.0.0/0"} }, ErrBadSourceAddress},
		{"source-address empty entry", pub, func(s *UserSpec) { s.SourceAddress = []string{""} }, ErrBadSourceAddress},
		{"source-address with zone", pub, func(s *UserSpec) { s.SourceAddress = []string{"fe80::1%eth0"} }, ErrBadSourceAddress},
		{"force-command with newline", pub, func(s *UserSpec) { s.ForceCommand = "true\nrm -rf /" }, ErrBadForceCommand},
		{"nil subject key", nil, nil, ErrBadSubjectKey},
		{"certificate as subject key", signedGrant(t, newSigner(t, KeyEd25519), nil), nil, ErrBadSubjectKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := grantSpec()
			if tc.edit != nil {
				tc.edit(&spec)
			}
			cert, err := UserCertificate(tc.pub, spec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("UserCertificate() = %v, %v; want error %v", cert, err, tc.want)
			}
		})
	}
}

func TestUserCertificateCarriesExactlyTheSpec(t *testing.T) {
	pub := ed25519Pub(t)
	spec := UserSpec{
		Serial: 7, KeyID: "bastion-hop/alice/req-1", Principals: []string{"admin@web-1", "admin@web-2"},
		ForceCommand: "/bin/true", SourceAddress: []string{"10.0.0.0/8", "192.0.2.1"}, PermitPTY: true,
		ValidAfter: t0.Add(500 * time.Millisecond), ValidBefore: t0.Add(time.Hour + 900*time.Millisecond),
	}
	got, err := UserCertificate(pub, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := &ssh.Certificate{
		Key: pub, Serial: 7, CertType: ssh.UserCert, KeyId: "bastion-hop/alice/req-1",
		ValidPrincipals: []string{"admin@web-1", "admin@web-2"},
		ValidAfter:      uint64(t0.Unix()), ValidBefore: uint64(t0.Add(time.Hour).Unix()),
		Permissions: ssh.Permissions{
			CriticalOptions: map[string]string{"force-command": "/bin/true", "source-address": "10.0.0.0/8,192.0.2.1"},
			Extensions:      map[string]string{"permit-pty": ""},
		},
	}
	if diff := cmp.Diff(*want, *got, comparePublicKeys); diff != "" {
		t.Errorf("certificate differs (-want +got):\n%s", diff)
	}
	spec.Principals[0] = "root@web-1"
	if got.ValidPrincipals[0] != "admin@web-1" {
		t.Error("certificate shares the spec's principal slice")
	}
}

// comparePublicKeys compares ssh.PublicKey values by their wire form.
var comparePublicKeys = cmp.Comparer(func(a, b ssh.PublicKey) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return bytes.Equal(a.Marshal(), b.Marshal())
})

func TestUserCertificateWithoutPTYHasNoExtensions(t *testing.T) {
	spec := grantSpec()
	spec.PermitPTY = false
	cert, err := UserCertificate(ed25519Pub(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ssh.Permissions{CriticalOptions: map[string]string{}, Extensions: map[string]string{}}, cert.Permissions); diff != "" {
		t.Errorf("permissions differ (-want +got):\n%s", diff)
	}
}

func TestHostCertificateRefusesBadSpecs(t *testing.T) {
	good := func() HostSpec {
		return HostSpec{Serial: 1, KeyID: "host/web-1", Hostnames: []string{"web-1"}, ValidAfter: t0, ValidBefore: t0.Add(time.Hour)}
	}
	tests := []struct {
		name string
		edit func(*HostSpec)
		want error
	}{
		{"zero serial", func(s *HostSpec) { s.Serial = 0 }, ErrBadSerial},
		{"bad key ID", func(s *HostSpec) { s.KeyID = "\x1b[2J" }, ErrBadKeyID},
		{"no hostnames", func(s *HostSpec) { s.Hostnames = nil }, ErrNoHostnames},
		{"wildcard hostname", func(s *HostSpec) { s.Hostnames = []string{"*.internal"} }, ErrBadHostname},
		{"question mark hostname", func(s *HostSpec) { s.Hostnames = []string{"web-?"} }, ErrBadHostname},
		{"comma in hostname", func(s *HostSpec) { s.Hostnames = []string{"a,b"} }, ErrBadHostname},
		{"space in hostname", func(s *HostSpec) { s.Hostnames = []string{"web 1"} }, ErrBadHostname},
		{"empty hostname", func(s *HostSpec) { s.Hostnames = []string{""} }, ErrBadHostname},
		{"inverted validity", func(s *HostSpec) { s.ValidAfter, s.ValidBefore = s.ValidBefore, s.ValidAfter }, ErrBadValidity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := good()
			tc.edit(&spec)
			if _, err := HostCertificate(ed25519Pub(t), spec); !errors.Is(err, tc.want) {
				t.Fatalf("HostCertificate() error = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("DSA host key", func(t *testing.T) {
		if _, err := HostCertificate(dsaPub(t), good()); !errors.Is(err, ErrBadSubjectKey) {
			t.Fatalf("HostCertificate() error = %v, want %v", err, ErrBadSubjectKey)
		}
	})
	t.Run("good spec", func(t *testing.T) {
		pub := ecdsaPub(t, elliptic.P384())
		cert, err := HostCertificate(pub, good())
		if err != nil {
			t.Fatal(err)
		}
		if cert.CertType != ssh.HostCert || len(cert.CriticalOptions)+len(cert.Extensions) != 0 {
			t.Errorf("host certificate = type %d, options %v, extensions %v", cert.CertType, cert.CriticalOptions, cert.Extensions)
		}
	})
}
