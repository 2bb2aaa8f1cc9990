package web

import (
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/sso"
)

func TestSignInCookieRoundTripsAndKeepsNextLocal(t *testing.T) {
	st := &sso.Start{State: "s", Nonce: "n", Verifier: "v"}
	for next, want := range map[string]string{"/ui/grants": "/ui/grants", "https://evil.example/": "/ui/", "//evil.example/ui/": "/ui/"} {
		got, gotNext, ok := decodeStart(encodeStart(st, next))
		if !ok || got != *st || gotNext != want {
			t.Errorf("next %q: %+v %q %v, want %q", next, got, gotNext, ok, want)
		}
	}
	for _, bad := range []string{"", "a.b.c", "a.b.c.d.e", ".n.v.", "s..v.", "s.n.v.!!"} {
		if _, _, ok := decodeStart(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzSignInCookie(f *testing.F) {
	f.Add(encodeStart(&sso.Start{State: "s", Nonce: "n", Verifier: "v"}, "/ui/"))
	f.Add("a.b.c.L3VpLw")
	f.Add("....")
	f.Fuzz(func(t *testing.T, v string) {
		st, next, ok := decodeStart(v)
		if !ok {
			return
		}
		if st.State == "" || st.Nonce == "" || st.Verifier == "" || !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") {
			t.Fatalf("accepted %q as %+v next %q", v, st, next)
		}
	})
}
