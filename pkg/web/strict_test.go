package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// A form that gives a field twice (the first would win, or the last,
// depending on the reader) or a field name in another case than the form's
// own is refused with nothing changed, like an ambiguous JSON body.
func TestFormsWithRepeatedOrCaseVariantFieldsAreRefused(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full", "")
	page := b.get("/ui/requests/" + r.ID)
	csrf, digest := field(t, csrfRe, page.body), field(t, digestRe, page.body)
	for name, form := range map[string]url.Values{
		"reason twice":         {"csrf": {csrf}, "digest": {digest}, "reason": {"ok", "something else"}},
		"digest twice":         {"csrf": {csrf}, "digest": {digest, "x"}},
		"Reason":               {"csrf": {csrf}, "digest": {digest}, "Reason": {"ok"}},
		"DIGEST beside digest": {"csrf": {csrf}, "digest": {digest}, "DIGEST": {"x"}},
		"csrf twice":           {"csrf": {csrf, csrf}, "digest": {digest}},
	} {
		res := b.post("/ui/requests/"+r.ID+"/approve", form)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400\n%s", name, res.status, res.body)
		}
	}
	if f.approvals(r.ID) != 0 {
		t.Fatal("an ambiguous form approved")
	}
	// Nor does a login form with a second user name log anyone in.
	login := f.browser()
	token := field(t, csrfRe, login.get("/ui/login").body)
	res := login.post("/ui/login", url.Values{"csrf": {token}, "user": {"carol"}, "User": {"alice"},
		"password": {password}, "code": {f.code("carol")}, "next": {"/ui/"}})
	if res.status != http.StatusBadRequest {
		t.Fatalf("login with User beside user: %d, want 400", res.status)
	}
	res = login.post("/ui/login", url.Values{"csrf": {token}, "user": {"carol", "alice"},
		"password": {password}, "code": {f.code("carol")}, "next": {"/ui/"}})
	if res.status != http.StatusBadRequest {
		t.Fatalf("login with two user names: %d, want 400", res.status)
	}
}

// Login forms that nobody could have sent from the login page (no token,
// or an unreadable form) come from callers nobody knows: they are counted
// per address and audited as one row per interval, not one row each.
func TestAnonymousFormRefusalsAreAuditedOncePerSource(t *testing.T) {
	f := newFixture(t, web.Config{})
	head := f.auditRows()
	b := f.browser()
	for i := range 200 {
		form := url.Values{"user": {"carol"}, "password": {"guess"}, "code": {"000000"}}
		if i%2 == 1 {
			form["user"] = []string{"carol", "alice"}
		}
		if res := b.post("/ui/login", form); res.status != http.StatusForbidden && res.status != http.StatusBadRequest {
			t.Fatalf("forged login %d: %d", i, res.status)
		}
	}
	if _, err := f.svc.FlushAnonymousRefusals(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if added := f.auditRows() - head; added != 1 {
		t.Fatalf("200 anonymous form refusals added %d audit rows, want 1", added)
	}
}

// auditRows is the number of rows in the audit log.
func (f *fixture) auditRows() int {
	f.t.Helper()
	recs, err := f.svc.AuditLog(ctx, workflow.UserActor("erin"), 0, 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(recs)
}
