package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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
