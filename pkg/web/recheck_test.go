package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// An approval the workflow refuses because it would start a grant over
// the user's limit shows the reason on the page, and approves nothing.
func TestApprovalOverTheActiveLimitShowsWhy(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full on db-1", "")
	for range 3 {
		f.submit("alice", "health", "checks", "") // auto-approved: alice is at her limit of 3
	}
	page := b.get("/ui/requests/" + r.ID)
	res := b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "alice has 3 active grants, the limit is 3") {
		t.Fatalf("approval over the limit: %d\n%s", res.status, res.body)
	}
	if f.state(r.ID) != "pending" || f.approvals(r.ID) != 0 {
		t.Fatal("the refused approval changed the request")
	}
}

// A pending request that the current policy no longer allows says why on
// its page and offers no approval.
func TestRequestThatNoLongerFitsSaysWhyOnItsPage(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full on db-1", "")
	p := f.policy.Get()
	changed := *p
	roles := map[string]*policy.Role{}
	for name, role := range p.Roles {
		roles[name] = role
	}
	reader := *p.Roles["reader"]
	reader.MaxDuration = 30 * time.Minute
	roles["reader"] = &reader
	changed.Roles = roles
	f.policy.Set(&changed)
	page := b.get("/ui/requests/" + r.ID)
	if !strings.Contains(page.body, `id="no-longer-fits"`) || !strings.Contains(page.body, "over role reader&#39;s max_duration of 30m0s (now)") || strings.Contains(page.body, `id="approve"`) {
		t.Fatalf("request page after the policy change:\n%s", page.body)
	}
}

// An approved request's page still names who approved it, when and why.
func TestApprovedRequestPageNamesItsApprovers(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full on db-1", "")
	page := b.get("/ui/requests/" + r.ID)
	b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}, "reason": {"runbook step 3"}})
	if f.state(r.ID) != "approved" {
		t.Fatal("not approved")
	}
	page = b.get("/ui/requests/" + r.ID)
	if !strings.Contains(page.body, `id="approvals"`) || !strings.Contains(page.body, "<strong>carol</strong>") || !strings.Contains(page.body, "runbook step 3") {
		t.Fatalf("approved request page:\n%s", page.body)
	}
}
