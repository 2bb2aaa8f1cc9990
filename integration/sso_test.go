package integration

import (
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lockbox-ssh/lockbox/internal/oidctest"
	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// ssoWorld is a CA whose web form signs people in through a real OpenID
// provider (internal/oidctest) on loopback: carol and erin (both in the
// provider's "Security Team") with the provider's MFA, which the CA
// trusts; dave without it; mallory, whom the
// policy does not know. The policy's security group is bound to the directory group
// "Security Team".
type ssoWorld struct {
	ca  *ca
	idp *oidctest.Provider
}

func newSSOWorld(t *testing.T) *ssoWorld {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	caAddr := ln.Addr().String()
	ln.Close() // the CA listens there next; the provider must know its callback first
	redirect := "http://" + caAddr + "/ui/login/sso/callback"
	idp := oidctest.Start(t, oidctest.Options{ClientSecret: "lockbox-test-secret", RedirectURL: redirect, Users: []oidctest.User{
		{Name: "carol", Password: "carol-at-the-idp", MFA: true, Groups: []string{"Security Team"}},
		{Name: "erin", Password: "erin-at-the-idp", MFA: true, Groups: []string{"security team"}},
		{Name: "mallory", Password: "mallory-at-the-idp", MFA: true},
		{Name: "dave", Password: "dave-at-the-idp"}, // no MFA at the provider
	}})
	c := newCA(t, "sqlite")
	c.writePolicy(func(name string, data []byte) []byte {
		if name == "people.yaml" {
			data = []byte(strings.Replace(string(data), "  - name: security\n", "  - name: security\n    idp_group: Security Team\n", 1))
		}
		return data
	})
	dir := t.TempDir()
	secret := filepath.Join(dir, "oidc-secret")
	if err := os.WriteFile(secret, []byte("lockbox-test-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "ca.yaml")
	yaml := fmt.Sprintf(`oidc:
  issuer: %s
  client_id: lockbox
  client_secret_file: %s
  redirect_url: %s
  name: Test IdP
  trust_mfa: true
  mfa_amr: [mfa]
  clock_skew: 1s
  timeout: 5s
`, idp.Issuer, secret, redirect)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c.start("--config", config, "--listen", caAddr, "--anonymous_audit_interval", "1s")
	return &ssoWorld{ca: c, idp: idp}
}

// audit returns the CA's audit rows with action, read as erin (an
// auditor).
func (c *ca) audit(action string) []wire.AuditRecord {
	c.t.Helper()
	var out []wire.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(c.ok("erin", "--json", "audit")), "\n") {
		var r wire.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			c.t.Fatalf("audit line %q: %v", line, err)
		}
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func TestSSOSignInThroughARealProviderInChromiumEndsOnThePendingList(t *testing.T) {
	w := newSSOWorld(t)
	browser := startBrowser(t)
	tab := newTab(t, browser)
	if dir := os.Getenv("LOCKBOX_WEB_SCREENSHOTS"); dir != "" {
		do(t, tab, "opening the login page", chromedp.Navigate(w.ca.url+"/ui/login"), chromedp.WaitVisible(chromedp.CSS("#sso")))
		png := value(t, tab, "capturing the login page", chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, "login-sso-laptop.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do(t, tab, "signing in through the provider",
		chromedp.Navigate(w.ca.url+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "carol"),
		chromedp.SendKeys(chromedp.CSS("#password"), "carol-at-the-idp"),
		chromedp.Click(chromedp.CSS("#submit")),
	)
	waitText(t, tab, "Pending requests")
	if got := value(t, tab, "reading the user", chromedp.Text(chromedp.CSS(".who .user"))); got != "carol" {
		t.Fatalf("signed in as %q, want carol", got)
	}
	if loc := value(t, tab, "reading the address", chromedp.Evaluate[string](`location.href`)); loc != w.ca.url+"/ui/" {
		t.Fatalf("ended on %s, want the pending list", loc)
	}
	logins := w.ca.audit("web.login")
	if len(logins) != 1 || logins[0].Subject != "carol" {
		t.Fatalf("web.login rows: %+v", logins)
	}
	d := logins[0].Detail
	if d["method"] != "oidc" || d["mfa"] != "provider" || fmt.Sprint(d["groups"]) != "[Security Team]" {
		t.Fatalf("web.login detail: %v", d)
	}
}

// ssoClient is a browser without a screen: a cookie jar that stops
// at the CA's callback so that a test can tamper with it.
type ssoClient struct {
	t        *testing.T
	hc       *http.Client
	callback *url.URL
}

func newSSOClient(t *testing.T) *ssoClient {
	jar, _ := cookiejar.New(nil)
	s := &ssoClient{t: t}
	s.hc = &http.Client{Jar: jar, Timeout: 15 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/ui/login/sso/callback" {
			s.callback = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return s
}

var providerRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signIn begins a sign-in at the CA, signs who in at the provider, and
// returns the callback URL the provider sent the browser to, unvisited.
func (s *ssoClient) signIn(w *ssoWorld, who, password string) *url.URL {
	s.t.Helper()
	s.callback = nil
	res, err := s.hc.Get(w.ca.url + "/ui/login/sso")
	if err != nil {
		s.t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := providerRequestID.FindSubmatch(page)
	if m == nil {
		s.t.Fatalf("no login form at the provider: %s\n%s", res.Status, page)
	}
	res, err = s.hc.PostForm(w.idp.Issuer+"/login", url.Values{"id": {string(m[1])}, "username": {who}, "password": {password}})
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if s.callback == nil {
		s.t.Fatalf("the provider did not send the browser back: %s", res.Status)
	}
	return s.callback
}

// visit opens u and returns the status and the page.
func (s *ssoClient) visit(u string) (int, string) {
	s.t.Helper()
	res, err := s.hc.Get(u)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(page)
}

func (s *ssoClient) loggedIn(w *ssoWorld) bool {
	hc := *s.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Get(w.ca.url + "/ui/")
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func TestSSORefusalsAreShownAndAudited(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	refused := func(t *testing.T, s *ssoClient, u, says string) {
		t.Helper()
		status, page := s.visit(u)
		if status != http.StatusForbidden || !strings.Contains(page, says) || strings.Contains(page, "goroutine") {
			t.Fatalf("%d, want 403 saying %q:\n%s", status, says, page)
		}
		if s.loggedIn(w) {
			t.Fatal("a web session opened")
		}
	}
	t.Run("forged state", func(t *testing.T) {
		s := newSSOClient(t)
		cb := s.signIn(w, "carol", "carol-at-the-idp")
		q := cb.Query()
		q.Set("state", "forged"+q.Get("state"))
		cb.RawQuery = q.Encode()
		refused(t, s, cb.String(), "could not be matched to this browser")
	})
	t.Run("replayed code", func(t *testing.T) {
		s := newSSOClient(t)
		cb := s.signIn(w, "carol", "carol-at-the-idp")
		// The attacker holds the browser's sign-in cookie and the
		// callback: the first use signs in, the replay is refused by the
		// provider.
		cookies := s.hc.Jar.Cookies(cb)
		if status, _ := s.visit(cb.String()); status != http.StatusOK || !s.loggedIn(w) {
			t.Fatalf("first use: %d", status)
		}
		replay := newSSOClient(t)
		replay.hc.Jar.SetCookies(cb, cookies)
		refused(t, replay, cb.String(), "would not confirm this sign-in")
	})
	t.Run("wrong audience", func(t *testing.T) {
		w.idp.Control(t, "another-application", 5*time.Minute)
		defer w.idp.Control(t, "", 5*time.Minute)
		s := newSSOClient(t)
		refused(t, s, s.signIn(w, "carol", "carol-at-the-idp").String(), "meant for another application")
	})
	t.Run("expired token", func(t *testing.T) {
		w.idp.Control(t, "", -time.Minute)
		defer w.idp.Control(t, "", 5*time.Minute)
		s := newSSOClient(t)
		refused(t, s, s.signIn(w, "carol", "carol-at-the-idp").String(), "has expired")
	})
	t.Run("unknown user", func(t *testing.T) {
		s := newSSOClient(t)
		refused(t, s, s.signIn(w, "mallory", "mallory-at-the-idp").String(), "Lockbox has no user of that name")
		rows := w.ca.audit("web.login.refused")
		if len(rows) != 1 || rows[0].Subject != "mallory" || !strings.Contains(fmt.Sprint(rows[0].Detail["reason"]), "does not know") {
			t.Fatalf("web.login.refused rows: %+v", rows)
		}
	})
	// The refusals before anyone was known are audited as the address's
	// anonymous refusals, each with its reason, once the interval ends.
	want := []string{"sso_state", "sso_code", "sso_audience", "sso_expired"}
	deadline := time.Now().Add(15 * time.Second)
	for {
		reasons := map[string]bool{}
		for _, r := range w.ca.audit("anonymous.refused") {
			if m, ok := r.Detail["reasons"].(map[string]any); ok {
				for k := range m {
					reasons[k] = true
				}
			}
		}
		missing := []string{}
		for _, k := range want {
			if !reasons[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("anonymous.refused lacks %v (has %v)", missing, reasons)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var ssoCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestSSOWithoutTheProvidersMFAAsksForTheLockboxCodeThroughARealCA(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	s := newSSOClient(t)
	// Without a TOTP enrolment the sign-in is refused, saying why.
	status, page := s.visit(s.signIn(w, "dave", "dave-at-the-idp").String())
	if status != http.StatusConflict || !strings.Contains(page, "no TOTP enrolment") || s.loggedIn(w) {
		t.Fatalf("dave without TOTP: %d\n%s", status, page)
	}
	uri, err := url.Parse(strings.TrimSpace(w.ca.ok("dave", "mfa", "enroll")))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(uri.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	status, page = s.visit(s.signIn(w, "dave", "dave-at-the-idp").String())
	m := ssoCSRF.FindStringSubmatch(page)
	if status != http.StatusOK || !strings.Contains(page, `action="/ui/login/sso/code"`) || m == nil || s.loggedIn(w) {
		t.Fatalf("dave's callback: %d\n%s", status, page)
	}
	res, err := s.hc.PostForm(w.ca.url+"/ui/login/sso/code", url.Values{"csrf": {m[1]}, "next": {"/ui/"},
		"code": {totp.Code(secret, totp.Step(time.Now()))}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Signed in") || !s.loggedIn(w) {
		t.Fatalf("dave's code: %d\n%s", res.StatusCode, body)
	}
	logins := w.ca.audit("web.login")
	if len(logins) != 1 || logins[0].Subject != "dave" || logins[0].Detail["mfa"] != "totp" {
		t.Fatalf("web.login rows: %+v", logins)
	}
}

func TestCAWithABadSingleSignOnConfigRefusesToStart(t *testing.T) {
	t.Parallel()
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "oidc:\n  issuer: http://127.0.0.1:9\n  client_id: lockbox\n  redirect_url: http://127.0.0.1:7443/ui/login/sso/callback\n"
	for _, tc := range []struct {
		name, yaml, env, says string
	}{
		{"no secret", base, "", "client secret is required"},
		{"the secret inline", base + "  client_secret: s3cret\n", "", "client_secret"},
		{"secret in a file and the environment", base + "  client_secret_file: " + secret + "\n", "s3cret", "not both"},
		{"trust without values", base + "  client_secret_file: " + secret + "\n  trust_mfa: true\n", "", "amr or acr"},
		{"password login off without sso", "web:\n  password_login: false\n", "", "nobody could log in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := filepath.Join(t.TempDir(), "ca.yaml")
			if err := os.WriteFile(config, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(filepath.Join(bin, "ca"), "serve", "--config", config, "--data", c.dir, "--policy", c.policy, "--listen", "127.0.0.1:0", "--metrics_listen", "off")
			cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DSN="+c.dsn, "LOCKBOX_OIDC_CLIENT_SECRET="+tc.env)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.says) {
				t.Fatalf("ca serve: %v, want a refusal saying %q\n%s", err, tc.says, out)
			}
		})
	}
}

func TestGroupsFromTheIDTokenGiveApproverRightsThroughTheAPI(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	c := w.ca
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "1h",
		"--reason", "INC-7: disk full", "--ticket", "INC-7"))
	c.ok("carol", "approve", id, "--reason", "manager: go ahead")
	// erin is in no security group of the policy: her approval does not
	// count until the provider says she is in Security Team.
	c.refused("not an approver", "erin", "approve", id, "--reason", "security ok")
	s := newSSOClient(t)
	if status, _ := s.visit(s.signIn(w, "erin", "erin-at-the-idp").String()); status != http.StatusOK || !s.loggedIn(w) {
		t.Fatalf("erin's sign-in: %d", status)
	}
	c.ok("erin", "approve", id, "--reason", "security ok")
	var req wire.Request
	if err := json.Unmarshal([]byte(c.ok("erin", "--json", "request", "show", id)), &req); err != nil {
		t.Fatal(err)
	}
	if req.State != "approved" || len(req.Approvals) != 2 || req.Approvals[1].Approver != "erin" {
		t.Fatalf("after erin's approval: %s %+v", req.State, req.Approvals)
	}
}

func TestSSOWithTheLockboxCodeInChromiumEndsOnThePendingList(t *testing.T) {
	w := newSSOWorld(t)
	uri, err := url.Parse(strings.TrimSpace(w.ca.ok("dave", "mfa", "enroll")))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(uri.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	tab := newTab(t, startBrowser(t))
	// The code form's cookies are set on the answer to the provider's
	// cross-site redirect and sent with a same-site POST: a real browser's
	// SameSite rules decide whether this works.
	do(t, tab, "signing in through the provider",
		chromedp.Navigate(w.ca.url+"/ui/login"),
		chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "dave"),
		chromedp.SendKeys(chromedp.CSS("#password"), "dave-at-the-idp"),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#code")),
	)
	do(t, tab, "giving the code",
		chromedp.SendKeys(chromedp.CSS("#code"), totp.Code(secret, totp.Step(time.Now()))),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
	)
	waitText(t, tab, "Pending requests")
	if got := value(t, tab, "reading the user", chromedp.Text(chromedp.CSS(".who .user"))); got != "dave" {
		t.Fatalf("signed in as %q, want dave", got)
	}
}
