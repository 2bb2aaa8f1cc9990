package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var wantHeaders = map[string]string{
	"X-Frame-Options":        "DENY",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
}

func checkHeaders(t *testing.T, path string, res response) {
	t.Helper()
	for k, v := range wantHeaders {
		if got := res.header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP %q allows inline code", path, csp)
	}
	if !strings.HasPrefix(path, "/ui/static/") && res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", path, res.header.Get("Cache-Control"))
	}
}

func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	for _, p := range []string{"/ui/login", "/ui/", "/ui/nope", "/ui/static/style.css", "/ui/static/vendor/xterm.js"} {
		checkHeaders(t, p, b.get(p))
	}
	b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	for _, p := range []string{"/ui/", "/ui/requests/" + r.ID, "/ui/grants", "/ui/sessions", "/ui/audit", "/ui/audit/export"} {
		res := b.get(p)
		if res.status != http.StatusOK {
			t.Errorf("%s: %d", p, res.status)
		}
		checkHeaders(t, p, res)
	}
	checkHeaders(t, "POST /ui/requests/x/approve", b.post("/ui/requests/"+r.ID+"/approve", url.Values{}))
}

// No page ships an inline script, inline style or style attribute: the
// CSP would block them, and their absence is what makes it strict.
func TestPagesHaveNoInlineScriptsOrStyles(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	pages := []string{b.get("/ui/login").body}
	b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	for _, p := range []string{"/ui/", "/ui/requests/" + r.ID, "/ui/grants", "/ui/sessions", "/ui/audit"} {
		pages = append(pages, b.get(p).body)
	}
	for _, body := range pages {
		for _, bad := range []string{"<script>", "<style", " style=", "onclick=", "onload=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("a page holds %q", bad)
			}
		}
	}
}

func TestLoginNeedsPasswordAndCodeAndSaysTheSameForEveryFailure(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	for name, try := range map[string][3]string{
		"wrong password": {"carol", "not the password", f.code("carol")},
		"wrong code":     {"carol", password, "000000"},
		"unknown user":   {"mallory", password, "123456"},
		"no password":    {"bob", password, "123456"},
	} {
		res := b.tryLogin(try[0], try[1], try[2])
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong user name, password or code.") {
			t.Errorf("%s: %d\n%s", name, res.status, res.body)
		}
		if strings.Contains(res.header.Get("Set-Cookie"), "lockbox=") && !strings.Contains(res.header.Get("Set-Cookie"), "lockbox-login") {
			t.Errorf("%s: a session cookie was set", name)
		}
	}
	b.login("carol")
}

func TestSessionCookieIsHttpOnlyStrictAndNewAtEveryLogin(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	var tokens []string
	for range 2 {
		b := f.browser()
		// A session token planted before login (session fixation) is
		// never the one that becomes authenticated.
		planted := strings.Repeat("A", 43)
		u, _ := url.Parse(f.srv.URL)
		b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "lockbox", Value: planted, Path: "/"}})
		res := b.tryLogin("carol", password, f.code("carol"))
		c := sessionCookie(t, res, "lockbox")
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
			t.Fatalf("cookie %+v", c)
		}
		if c.Value == planted {
			t.Fatal("the planted token became the session")
		}
		tokens = append(tokens, c.Value)
	}
	if tokens[0] == tokens[1] {
		t.Fatal("two logins got the same session token")
	}
}

func TestSecureServerUsesHostPrefixedSecureCookie(t *testing.T) {
	f := newFixture(t, web.Config{Secure: true})
	f.person("carol")
	b := f.browser()
	page := b.get("/ui/login")
	// The jar does not send Secure cookies over http://; carry the login
	// token by hand.
	login := sessionCookie(t, page, "__Secure-lockbox-login")
	b.hdr.Set("Cookie", login.Name+"="+login.Value)
	res := b.post("/ui/login", url.Values{"csrf": {field(t, csrfRe, page.body)}, "user": {"carol"}, "password": {password}, "code": {f.code("carol")}})
	c := sessionCookie(t, res, "__Host-lockbox")
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("cookie %+v", c)
	}
}

func sessionCookie(t *testing.T, res response, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %d %v\n%s", name, res.status, res.header, res.body)
	return nil
}

func TestFailedLoginsAreThrottled(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	for i := range 5 {
		if res := b.tryLogin("carol", "wrong password!", "000000"); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, res.status)
		}
	}
	// The fifth failure blocks further attempts for a while: even the
	// right password and code are refused, and say so.
	res := b.tryLogin("carol", password, f.codeNow("carol"))
	if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "too many failed logins") {
		t.Fatalf("after five failures: %d\n%s", res.status, res.body)
	}
	f.clock.Advance(time.Minute)
	b.login("carol")
}

func TestWebSessionEndsWhenIdleAndAtMaxAge(t *testing.T) {
	f := newFixture(t, web.Config{IdleTimeout: 10 * time.Minute, MaxAge: time.Hour})
	f.person("carol")
	b := f.browser()
	b.login("carol") // the login's code moved the clock 30s
	loggedIn := func() bool {
		res := b.get("/ui/grants")
		return res.status == http.StatusOK
	}
	f.clock.Advance(10*time.Minute - time.Second)
	if !loggedIn() {
		t.Fatal("logged out just before the idle timeout")
	}
	f.clock.Advance(10 * time.Minute)
	if loggedIn() {
		t.Fatal("still logged in after the idle timeout")
	}
	if res := b.get("/ui/grants"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/ui/login?next=%2Fui%2Fgrants") {
		t.Fatalf("idle session: %d %s", res.status, res.header.Get("Location"))
	}

	// Used every 9 minutes, a session still ends an hour after login.
	b.login("carol")
	start := f.clock.Now()
	for f.clock.Now().Add(9 * time.Minute).Before(start.Add(time.Hour)) {
		f.clock.Advance(9 * time.Minute)
		if !loggedIn() {
			t.Fatalf("logged out %v after login", f.clock.Now().Sub(start))
		}
	}
	f.clock.Advance(start.Add(time.Hour).Sub(f.clock.Now()))
	if loggedIn() {
		t.Fatal("still logged in at the absolute expiry")
	}
}

func TestLogoutEndsTheSessionAndNeedsAPost(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	token := b.login("carol")
	if res := b.get("/ui/logout"); res.status == http.StatusSeeOther && res.header.Get("Location") == "/ui/login" {
		t.Fatal("GET logged out")
	}
	if res := b.get("/ui/grants"); res.status != http.StatusOK {
		t.Fatalf("after GET /ui/logout: %d", res.status)
	}
	if res := b.post("/ui/logout", url.Values{"csrf": {token}}); res.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.status)
	}
	if res := b.get("/ui/grants"); res.status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", res.status)
	}
}

func TestApproveAndDenyThroughTheForm(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full on db-1", "")
	page := b.get("/ui/requests/" + r.ID)
	for _, want := range []string{"disk full on db-1", `1 of <span class="person you">carol (you)</span>: managers of storage`, `id="approve"`, `id="deny"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
	res := b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}, "reason": {"ok"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/ui/requests/"+r.ID+"?done=approved" {
		t.Fatalf("approve: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	if st := f.state(r.ID); st != "approved" {
		t.Fatalf("after approval: %s", st)
	}
	if page := b.get(res.header.Get("Location")); !strings.Contains(page.body, "Your approval is recorded.") {
		t.Fatal("no flash message after approval")
	}

	r2 := f.submit("alice", "reader", "again", "")
	page = b.get("/ui/requests/" + r2.ID)
	form := url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}}
	if res := b.post("/ui/requests/"+r2.ID+"/deny", form); res.status != http.StatusBadRequest || f.state(r2.ID) != "pending" {
		t.Fatalf("deny without a reason: %d, %s", res.status, f.state(r2.ID))
	}
	form.Set("reason", "use the replica")
	if res := b.post("/ui/requests/"+r2.ID+"/deny", form); res.status != http.StatusSeeOther || f.state(r2.ID) != "denied" {
		t.Fatalf("deny: %d, %s", res.status, f.state(r2.ID))
	}
}

// The requester is not offered approval, and a forged approval POST with
// a valid form token is refused by the workflow.
func TestSelfApprovalIsNotOfferedAndRefused(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("alice")
	b := f.browser()
	b.login("alice")
	r := f.submit("alice", "reader", "disk full", "")
	page := b.get("/ui/requests/" + r.ID)
	if strings.Contains(page.body, `id="approve"`) || !strings.Contains(page.body, `id="own-request"`) {
		t.Fatalf("alice's own request offers approval:\n%s", page.body)
	}
	if home := b.get("/ui/"); strings.Contains(home.body, "Waiting for your decision <span class=\"count\">1") {
		t.Fatal("alice's own request is listed for her decision")
	}
	res := b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {requestDigestOf(t, f, r.ID)}})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "You cannot approve your own request") {
		t.Fatalf("self-approval: %d\n%s", res.status, res.body)
	}
	if f.state(r.ID) != "pending" || f.approvals(r.ID) != 0 {
		t.Fatal("self-approval changed the request")
	}
}

// requestDigestOf reads the digest an approver's page would carry.
func requestDigestOf(t *testing.T, f *fixture, id string) string {
	t.Helper()
	f.person("carol")
	b := f.browser()
	b.login("carol")
	return field(t, digestRe, b.get("/ui/requests/"+id).body)
}

func TestApprovalBoundToTheRequestShown(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r1 := f.submit("alice", "reader", "disk full", "")
	r2 := f.submit("alice", "admin", "root for fun", "INC-9")
	page1 := b.get("/ui/requests/" + r1.ID)
	// The digest of r1's page does not approve r2.
	res := b.post("/ui/requests/"+r2.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page1.body)}, "digest": {field(t, digestRe, page1.body)}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "not the one your form was made for") {
		t.Fatalf("mismatched digest: %d\n%s", res.status, res.body)
	}
	res = b.post("/ui/requests/"+r1.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page1.body)}})
	if res.status != http.StatusConflict {
		t.Fatalf("missing digest: %d", res.status)
	}
	if f.approvals(r1.ID) != 0 || f.approvals(r2.ID) != 0 {
		t.Fatal("an unbound approval was recorded")
	}
}

func TestPostWithoutTheFormTokenChangesNothing(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	digest := field(t, digestRe, b.get("/ui/requests/"+r.ID).body)
	for name, form := range map[string]url.Values{
		"no token":    {"digest": {digest}},
		"wrong token": {"digest": {digest}, "csrf": {"AAAA"}},
	} {
		if res := b.post("/ui/requests/"+r.ID+"/approve", form); res.status != http.StatusForbidden {
			t.Errorf("%s: %d", name, res.status)
		}
	}
	// Nor does a login form without its token log anyone in.
	res := b.post("/ui/login", url.Values{"user": {"carol"}, "password": {password}, "code": {f.code("carol")}})
	if res.status != http.StatusForbidden {
		t.Errorf("login without token: %d", res.status)
	}
	if f.approvals(r.ID) != 0 {
		t.Fatal("a form without its token approved")
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	token := b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	digest := field(t, digestRe, b.get("/ui/requests/"+r.ID).body)
	for name, hdr := range map[string][2]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"Origin of another site":    {"Origin", "https://evil.example"},
	} {
		b.hdr = http.Header{hdr[0]: {hdr[1]}}
		res := b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {token}, "digest": {digest}})
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "sent from another site") {
			t.Errorf("%s: %d", name, res.status)
		}
	}
	b.hdr = http.Header{}
	if f.approvals(r.ID) != 0 {
		t.Fatal("a cross-origin form approved")
	}
	// Same-origin, with the token: accepted.
	b.hdr = http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {f.srv.URL}}
	if res := b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {token}, "digest": {digest}}); res.status != http.StatusSeeOther {
		t.Fatalf("same-origin approval: %d", res.status)
	}
}

func TestGetNeverChangesState(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	token := b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	digest := field(t, digestRe, b.get("/ui/requests/"+r.ID).body)
	q := "?csrf=" + url.QueryEscape(token) + "&digest=" + digest + "&reason=x"
	for _, p := range []string{"/approve", "/deny", "/revoke"} {
		if res := b.get("/ui/requests/" + r.ID + p + q); res.status < 400 {
			t.Errorf("GET %s: %d", p, res.status)
		}
	}
	if f.state(r.ID) != "pending" || f.approvals(r.ID) != 0 {
		t.Fatal("a GET changed the request")
	}
}

// A justification holding HTML, and text with terminal escapes, is shown
// as text.
func TestJustificationRendersInert(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	payload := `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`
	r := f.submit("alice", "reader", payload, "")
	for _, p := range []string{"/ui/", "/ui/requests/" + r.ID} {
		body := b.get(p).body
		if strings.Contains(body, "<img src=x") || strings.Contains(body, "<script>window") {
			t.Errorf("%s renders the payload as HTML", p)
		}
		if !strings.Contains(body, "&lt;img src=x onerror=&#34;window.pwned=1&#34;&gt;") {
			t.Errorf("%s does not show the payload as text", p)
		}
	}
}

func TestRevokeFromTheGrantsPage(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	if _, err := f.svc.Approve(ctx, workflow.UserActor("carol"), r.ID, ""); err != nil {
		t.Fatal(err)
	}
	page := b.get("/ui/grants")
	if !strings.Contains(page.body, r.ID) {
		t.Fatalf("grant not listed:\n%s", page.body)
	}
	res := b.post("/ui/requests/"+r.ID+"/revoke", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}, "back": {"grants"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/ui/grants?done=revoked" {
		t.Fatalf("revoke: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	if f.state(r.ID) != "revoked" {
		t.Fatalf("after revoke: %s", f.state(r.ID))
	}
}

func TestAuditPageIsForAuditorsAndExportsJSONLines(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol") // sre: an auditor
	f.person("alice")
	r := f.submit("alice", "reader", "disk full", "")
	carol := f.browser()
	carol.login("carol")
	page := carol.get("/ui/audit?action=request.")
	if !strings.Contains(page.body, "Chain verified:") || !strings.Contains(page.body, r.ID) {
		t.Fatalf("audit page:\n%s", page.body)
	}
	exp := carol.get("/ui/audit/export?subject=" + r.ID)
	if exp.status != http.StatusOK || !strings.HasPrefix(exp.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %v", exp.status, exp.header)
	}
	lines := strings.Split(strings.TrimSpace(exp.body), "\n")
	if len(lines) == 0 || !strings.Contains(lines[0], `"action":"request.submitted"`) || !strings.Contains(lines[0], `"hash":"`) {
		t.Fatalf("export lines: %q", lines)
	}
	alice := f.browser()
	alice.login("alice")
	if res := alice.get("/ui/audit"); res.status != http.StatusForbidden {
		t.Fatalf("alice's audit page: %d", res.status)
	}
	if res := alice.get("/ui/audit/export"); res.status != http.StatusForbidden {
		t.Fatalf("alice's export: %d", res.status)
	}
	if strings.Contains(alice.get("/ui/").body, `href="/ui/audit"`) {
		t.Fatal("the audit link is shown to a non-auditor")
	}
}

// The replay endpoint sends output through the sanitiser, and leaves
// input events out.
func TestCastIsSanitisedAndHasNoInput(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("alice")
	id := f.recordedSession("alice", "\x1b[31mred\x1b[0m \x1b]52;c;c2VjcmV0\x07\x1b[21t\x1bP1$r\x1b\\done\r\n")
	b := f.browser()
	b.login("alice")
	page := b.get("/ui/sessions/" + id)
	if page.status != http.StatusOK || !strings.Contains(page.body, `data-cast="/ui/sessions/`+id+`/cast"`) {
		t.Fatalf("session page: %d\n%s", page.status, page.body)
	}
	csp := page.header.Get("Content-Security-Policy")
	nonce := field(t, regexpMust(`data-style-nonce="([^"]+)"`), page.body)
	if !strings.Contains(csp, "style-src 'self' 'nonce-"+nonce+"'") || !strings.Contains(csp, "script-src 'self';") {
		t.Fatalf("replay CSP %q, nonce %q", csp, nonce)
	}
	cast := b.get("/ui/sessions/" + id + "/cast")
	if cast.status != http.StatusOK {
		t.Fatalf("cast: %d", cast.status)
	}
	for _, bad := range []string{`]52;`, `[21t`, `\u001bP`, `"i"`, "hunter2"} {
		if strings.Contains(cast.body, bad) {
			t.Errorf("cast holds %q:\n%s", bad, cast.body)
		}
	}
	for _, want := range []string{`\u001b[31mred`, "done", `"version":2`} {
		if !strings.Contains(cast.body, want) {
			t.Errorf("cast lacks %q:\n%s", want, cast.body)
		}
	}
	// Another user without auditor rights cannot see it.
	f.person("bob")
	bob := f.browser()
	bob.login("bob")
	if res := bob.get("/ui/sessions/" + id + "/cast"); res.status != http.StatusNotFound {
		t.Fatalf("bob's cast: %d", res.status)
	}
}

// recordedSession makes a finished session of who with a recording whose
// output is out (and an input event typing a password).
func (f *fixture) recordedSession(who, out string) string {
	f.t.Helper()
	return f.recordedSessionWithHeader(who, `{"version":2,"width":80,"height":24}`, out)
}

// recordedSessionWithHeader is recordedSession with the recording's header
// line given.
func (f *fixture) recordedSessionWithHeader(who, header, out string) string {
	f.t.Helper()
	r := f.submit(who, "health", "check", "")
	bastion := workflow.BastionActor("bastion-1")
	g, err := f.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: r.ID, Resource: "db-1", User: who, ClientAddr: "127.0.0.1:1", Command: "uptime"})
	if err != nil {
		f.t.Fatal(err)
	}
	id := g.Session.ID
	cast := header + fmt.Sprintf("\n[0.1,\"i\",\"hunter2\\r\"]\n[0.2,\"o\",%q]\n[0.3,\"r\",\"100x30\"]\n", out)
	cast = strings.ReplaceAll(cast, `\x1b`, `\u001b`)
	cast = strings.ReplaceAll(cast, `\a`, `\u0007`)
	if err := f.svc.StoreRecording(ctx, bastion, id, strings.NewReader(cast)); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.EndSession(ctx, bastion, id, "client closed the connection"); err != nil {
		f.t.Fatal(err)
	}
	return id
}
