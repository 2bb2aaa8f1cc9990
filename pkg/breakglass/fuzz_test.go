package breakglass

import (
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"
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
