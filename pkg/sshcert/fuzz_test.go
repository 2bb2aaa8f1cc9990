package sshcert

import (
	"bytes"
	"crypto/ed25519"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// fuzzCA is a fixed CA so that corpus entries stay meaningful across runs.
func fuzzCA(tb testing.TB) ssh.Signer {
	s, err := ssh.NewSignerFromSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func FuzzCheckUser(f *testing.F) {
	ca := fuzzCA(f)
	valid := signedGrant(f, ca, func(s *UserSpec) {
		s.ForceCommand, s.SourceAddress = "/bin/true", []string{"10.0.0.0/8"}
	}).Marshal()
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	for _, i := range []int{40, 100, len(valid) - 70, len(valid) - 1} {
		m := slices.Clone(valid)
		m[i] ^= 0xff
		f.Add(m)
	}
	f.Add(signedGrant(f, ca, func(s *UserSpec) { s.PermitPTY = false }).Marshal())
	f.Add(nestedCertBlob(3, ca.PublicKey().Marshal()))
	f.Add(ca.PublicKey().Marshal())

	c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0.Add(time.Minute) }}
	caBytes := ca.PublicKey().Marshal()
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ssh.ParsePublicKey(data)
		if err != nil {
			return
		}
		cert, err := c.CheckUser(key, "admin@web-1")
		if err == nil {
			if !bytes.Equal(cert.SignatureKey.Marshal(), caBytes) || !slices.Contains(cert.ValidPrincipals, "admin@web-1") {
				t.Fatalf("accepted a certificate not from the CA or not for the principal")
			}
		}
		c.CheckHost(key, "web-1")
		if cert, ok := key.(*ssh.Certificate); ok {
			CheckSourceAddress(cert, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3)})
		}
	})
}
