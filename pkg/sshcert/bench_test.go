package sshcert

import (
	"crypto/rand"
	"testing"
	"time"
)

func BenchmarkSignUserCertificate(b *testing.B) {
	for _, kt := range []KeyType{KeyEd25519, KeyECDSAP256} {
		b.Run(string(kt), func(b *testing.B) {
			ca := newSigner(b, kt)
			subject := ed25519Pub(b)
			spec := grantSpec()
			for b.Loop() {
				cert, err := UserCertificate(subject, spec)
				if err != nil {
					b.Fatal(err)
				}
				if err := Sign(cert, ca, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheckUser(b *testing.B) {
	for _, kt := range []KeyType{KeyEd25519, KeyECDSAP256} {
		b.Run(string(kt), func(b *testing.B) {
			ca := newSigner(b, kt)
			cert := signedGrant(b, ca, nil)
			c := &Checker{CA: ca.PublicKey(), Clock: func() time.Time { return t0 }}
			for b.Loop() {
				if _, err := c.CheckUser(cert, "admin@web-1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
