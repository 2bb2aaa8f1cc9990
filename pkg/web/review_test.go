package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// newReviewFixture serves the review page on the fixture's workflow.
func newReviewFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, web.Config{})
	ui, err := web.New(web.Config{Workflow: f.svc, Reviews: f.svc, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = ui
	return f
}

// The review page shows a manager their team's memberships, takes keep
// and remove with a reason behind the form token, refuses a decision about
// oneself (shown on the page, audited by the workflow), and is a strict
// page like the others.
func TestReviewPageRecordsDecisionsForManagersOnly(t *testing.T) {
	f := newReviewFixture(t)
	f.person("carol")
	f.person("alice")
	b := f.browser()
	csrf := b.login("carol")
	page := b.get("/ui/review?team=storage")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<td data-label="User">bob`) || !strings.Contains(page.body, `href="/ui/review"`) {
		t.Fatalf("carol's review page: %d\n%s", page.status, page.body)
	}
	checkHeaders(t, "/ui/review", page)
	for _, bad := range []string{"<script>", "<style", " style=", "onclick="} {
		if strings.Contains(page.body, bad) {
			t.Errorf("the review page holds %q", bad)
		}
	}
	decide := func(b *browser, csrf, team, who, decision, reason string) response {
		return b.post("/ui/review/decide", url.Values{"csrf": {csrf}, "team": {team}, "user": {who}, "decision": {decision}, "reason": {reason}, "back": {team}})
	}
	if res := decide(b, "wrong", "storage", "bob", "remove", "moved"); res.status != http.StatusForbidden {
		t.Fatalf("a decision without the form token: %d, want 403", res.status)
	}
	res := decide(b, csrf, "storage", "bob", "remove", "moved to <b>web</b>")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/ui/review?team=storage&done=remove") {
		t.Fatalf("carol's decision: %d %s", res.status, res.header.Get("Location"))
	}
	page = b.get(res.header.Get("Location"))
	if !strings.Contains(page.body, "marked for removal") || !strings.Contains(page.body, "remove by carol") ||
		!strings.Contains(page.body, "moved to &lt;b&gt;web&lt;/b&gt;") {
		t.Fatalf("the page after the decision does not show it, inert:\n%s", page.body)
	}
	if res := decide(b, csrf, "storage", "carol", "keep", "me"); res.status == http.StatusSeeOther {
		t.Fatal("carol decided on a membership of her own that does not exist")
	}
	patch := b.get("/ui/review/export.patch?team=storage")
	if patch.status != http.StatusOK || !strings.Contains(patch.body, "+    members: [alice]") {
		t.Fatalf("the patch download: %d\n%s", patch.status, patch.body)
	}

	a := f.browser()
	aliceCSRF := a.login("alice")
	if res := a.get("/ui/review?team=storage"); res.status != http.StatusForbidden || strings.Contains(res.body, `href="/ui/review"`) {
		t.Fatalf("alice, neither manager nor auditor: %d (and no Review link)", res.status)
	}
	if res := decide(a, aliceCSRF, "storage", "bob", "keep", "x"); res.status != http.StatusForbidden {
		t.Fatalf("alice deciding: %d, want 403", res.status)
	}
}
