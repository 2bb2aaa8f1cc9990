package web_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/sso"
	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// fakeSSO stands in for the identity provider: Finish checks the state
// as sso.Client does and answers with the identity set for the code.
type fakeSSO struct {
	mu     sync.Mutex
	n      int
	byCode map[string]*sso.Identity
	down   bool // the provider does not answer
}

func (f *fakeSSO) Begin(context.Context) (*sso.Start, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, fmt.Errorf("%w: discovery: connection refused", sso.ErrUnreachable)
	}
	f.n++
	st := &sso.Start{State: "state" + strings.Repeat("s", f.n), Nonce: "nonce", Verifier: "verifier"}
	st.URL = "https://idp.example/authorize?state=" + st.State
	return st, nil
}

func (f *fakeSSO) Finish(_ context.Context, cb sso.Callback) (*sso.Identity, error) {
	if cb.Start.State == "" || subtle.ConstantTimeCompare([]byte(cb.State), []byte(cb.Start.State)) != 1 {
		return nil, sso.ErrState
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.byCode[cb.Code]
	if id == nil {
		return nil, sso.ErrCode
	}
	delete(f.byCode, cb.Code)
	return id, nil
}

// ssoSignIn begins a sign-in in b and comes back with code; it returns
// the callback's answer.
func (b *browser) ssoSignIn(code string) response {
	b.f.t.Helper()
	res := b.get("/ui/login/sso?next=/ui/grants")
	if res.status != http.StatusSeeOther {
		b.f.t.Fatalf("begin: %d", res.status)
	}
	loc, _ := url.Parse(res.header.Get("Location"))
	return b.get("/ui/login/sso/callback?code=" + code + "&state=" + loc.Query().Get("state"))
}

func ssoFixture(t *testing.T, cfg web.Config) (*fixture, *fakeSSO) {
	idp := &fakeSSO{byCode: map[string]*sso.Identity{}}
	cfg.SSO, cfg.SSOName = idp, "Example IdP"
	return newFixture(t, cfg), idp
}

func TestSSOBeginBindsTheSignInToTheBrowserWithALaxHttpOnlyCookie(t *testing.T) {
	f, _ := ssoFixture(t, web.Config{})
	b := f.browser()
	login := b.get("/ui/login")
	if !strings.Contains(login.body, `href="/ui/login/sso?next=%2fui%2f"`) || !strings.Contains(login.body, "Sign in with Example IdP") ||
		!strings.Contains(login.body, `name="password"`) {
		t.Fatalf("login page:\n%s", login.body)
	}
	res := b.get("/ui/login/sso")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "https://idp.example/") {
		t.Fatalf("begin: %d %s", res.status, res.header.Get("Location"))
	}
	c := res.header.Get("Set-Cookie")
	for _, want := range []string{"lockbox-sso=", "Path=/ui/login/sso", "HttpOnly", "SameSite=Lax", "Max-Age=600"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
}

func TestSSOWithTrustedMFAOpensASessionAndGoesOnWithoutARedirect(t *testing.T) {
	f, idp := ssoFixture(t, web.Config{})
	idp.byCode["good"] = &sso.Identity{User: "carol", Issuer: "https://idp.example", Subject: "1", MFA: true}
	b := f.browser()
	// A session token planted before the sign-in never becomes the
	// signed-in one.
	base, _ := url.Parse(f.srv.URL)
	planted := strings.Repeat("A", 43)
	b.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "lockbox", Value: planted, Path: "/"}})
	res := b.ssoSignIn("good")
	for _, c := range b.hc.Jar.Cookies(base) {
		if c.Name == "lockbox" && c.Value == planted {
			t.Fatal("the planted session token survived the sign-in")
		}
	}
	if res.status != http.StatusOK || !strings.Contains(res.body, `content="0; url=/ui/grants"`) {
		t.Fatalf("callback: %d\n%s", res.status, res.body)
	}
	if home := b.get("/ui/grants"); home.status != http.StatusOK || !strings.Contains(home.body, "carol") {
		t.Fatalf("after sign-in: %d", home.status)
	}
}

func TestSSORefusalsShowAPageAndOpenNoSession(t *testing.T) {
	f, idp := ssoFixture(t, web.Config{})
	idp.byCode["mallory"] = &sso.Identity{User: "mallory", MFA: true}
	for _, tc := range []struct {
		name, code, state string
		status            int
		says              string
	}{
		{"forged state", "x", "forged", http.StatusForbidden, "could not be matched to this browser"},
		{"code refused", "unknown", "", http.StatusForbidden, "would not confirm this sign-in"},
		{"unknown user", "mallory", "", http.StatusForbidden, "Lockbox has no user of that name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser()
			var res response
			if tc.state != "" {
				b.get("/ui/login/sso")
				res = b.get("/ui/login/sso/callback?code=" + tc.code + "&state=" + tc.state)
			} else {
				res = b.ssoSignIn(tc.code)
			}
			if res.status != tc.status || !strings.Contains(res.body, tc.says) || !strings.Contains(res.body, `href="/ui/login/sso"`) {
				t.Fatalf("%d\n%s", res.status, res.body)
			}
			if home := b.get("/ui/"); home.status != http.StatusSeeOther {
				t.Fatalf("a session opened: %d", home.status)
			}
		})
	}
}

func TestSSOWithoutTrustedMFAAsksForTheTOTPCode(t *testing.T) {
	f, idp := ssoFixture(t, web.Config{})
	f.person("carol")
	idp.byCode["good"] = &sso.Identity{User: "carol"}
	idp.byCode["again"] = &sso.Identity{User: "carol"}
	b := f.browser()
	res := b.ssoSignIn("good")
	if res.status != http.StatusOK || !strings.Contains(res.body, `action="/ui/login/sso/code"`) {
		t.Fatalf("callback: %d\n%s", res.status, res.body)
	}
	wrong := b.post("/ui/login/sso/code", url.Values{"csrf": {field(t, csrfRe, res.body)}, "code": {"000000"}, "next": {"/ui/"}})
	if wrong.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d\n%s", wrong.status, wrong.body)
	}
	res = b.ssoSignIn("again")
	ok := b.post("/ui/login/sso/code", url.Values{"csrf": {field(t, csrfRe, res.body)}, "code": {f.code("carol")}, "next": {"/ui/"}})
	if ok.status != http.StatusOK || !strings.Contains(ok.body, `url=/ui/`) {
		t.Fatalf("code: %d\n%s", ok.status, ok.body)
	}
	if home := b.get("/ui/"); home.status != http.StatusOK {
		t.Fatalf("after the code: %d", home.status)
	}
}

func TestPasswordLoginTurnedOffOffersOnlySSOAndRefusesThePost(t *testing.T) {
	f, _ := ssoFixture(t, web.Config{NoPasswordLogin: true})
	f.person("carol")
	b := f.browser()
	login := b.get("/ui/login")
	if strings.Contains(login.body, `name="password"`) || !strings.Contains(login.body, "Sign in with") {
		t.Fatalf("login page:\n%s", login.body)
	}
	res := b.post("/ui/login", url.Values{"user": {"carol"}, "password": {password}, "code": {f.code("carol")}})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "turned off") {
		t.Fatalf("password login: %d\n%s", res.status, res.body)
	}
	if _, err := web.New(web.Config{Workflow: f.svc, NoPasswordLogin: true}); err == nil {
		t.Fatal("password login off without SSO accepted")
	}
}

func TestSSOWithTheProviderDownShowsA503PageWithoutDetail(t *testing.T) {
	f, idp := ssoFixture(t, web.Config{})
	idp.down = true
	res := f.browser().get("/ui/login/sso")
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, "cannot reach your identity provider") ||
		strings.Contains(res.body, "connection refused") {
		t.Fatalf("%d\n%s", res.status, res.body)
	}
}
