package breakglass

import (
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzParse: the bastion reads the extension of any certificate the user
// CA signed; no input may crash it, and what it accepts is a sound grant.
func FuzzParse(f *testing.F) {
	fx := newFixture(f)
	_, g, err := Issue(fx.req, fx.userCA, fx.hopCA, now, 0, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mustJSON(f, g))
	f.Add(`{}`)
	f.Add(`{"user":"a","reason":"r"}`)
	f.Fuzz(func(t *testing.T, s string) {
		g, err := Parse([]byte(s))
		if err != nil {
			return
		}
		if g.User == "" || g.HopCert == "" || g.NotAfter.Sub(g.Issued) > time.Hour {
			t.Fatalf("accepted %+v", g)
		}
	})
}

// FuzzParseRecords: the CA reads the record file at start.
func FuzzParseRecords(f *testing.F) {
	f.Add(`{"user":"alice","serial":1,"issued":"2026-12-02T03:00:00Z"}` + "\n")
	f.Add("\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, _ := parseRecords([]byte(s))
		for _, r := range rs {
			if r.Serial == 0 || r.User == "" {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

// FuzzVerify: the CA reads the certificate line of any bastion's report;
// no input may crash it, and what it accepts is a break-glass certificate
// of the trusted user CA for the bastion asked about.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	cert, _, err := Issue(fx.req, fx.userCA, fx.hopCA, now, 0, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	line := string(ssh.MarshalAuthorizedKey(cert))
	f.Add(line)
	f.Add(line[:len(line)/2])
	f.Add("ssh-ed25519 AAAA")
	f.Add("")
	trusted := []ssh.PublicKey{fx.userCA.PublicKey()}
	f.Fuzz(func(t *testing.T, s string) {
		c, g, err := Verify(s, trusted, "bastion-1", []ssh.PublicKey{fx.bastion.PublicKey()}, now.Add(time.Minute))
		if err != nil {
			return
		}
		if string(c.SignatureKey.Marshal()) != string(fx.userCA.PublicKey().Marshal()) || g.Bastion != "bastion-1" {
			t.Fatalf("accepted %q", s)
		}
	})
}
