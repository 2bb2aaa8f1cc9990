package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/when"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var waitingRe = regexp.MustCompile(`<span class="waiting" id="waiting-count"[^>]*>(\d+)</span>`)

// waiting is the count of requests the navigation says wait for the
// viewer; 0 when it shows none.
func waiting(t *testing.T, body string) string {
	t.Helper()
	if m := waitingRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	if strings.Contains(body, `id="waiting-count"`) {
		t.Fatalf("a waiting count the test cannot read:\n%s", body)
	}
	return "0"
}

// The request page names who can satisfy each outstanding requirement,
// marks the viewer, shows what the grant allows with its marks, and the
// window it would have if approved now.
func TestRequestPageNamesApproversAndShowsWhatIsGranted(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "admin", "disk full on db-1", "INC-1")
	page := b.get("/ui/requests/" + r.ID)
	now := f.clock.Now()
	for _, want := range []string{
		`1 of <span class="person you">carol (you)</span>: managers of storage`,
		`1 of <span class="person">frank</span>: group security`,
		`<li class="mark" data-mark="root_login">⚠ root login</li>`,
		`<li class="mark" data-mark="interactive">⚠ interactive shell</li>`,
		`<dd id="login">root</dd>`,
		`<dd id="shell">yes: a shell on a terminal</dd>`,
		`<dd id="commands">any command</dd>`,
		`<dd id="max-duration">2h</dd>`,
		`<strong>db-1</strong> — Primary storage database <span class="tags">storage, prod</span>`,
		`<time datetime="` + now.Format(time.RFC3339) + `">` + when.Stamp(now) + `</time> (now)`,
		`<time datetime="` + now.Add(time.Hour).Format(time.RFC3339) + `">` + when.Stamp(now.Add(time.Hour)) + `</time> (in 1h)`,
		`if approved now`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the request page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", page.body)
	}

	// Once carol approved, the page shows her approval, names only frank,
	// and no longer marks her.
	b.post("/ui/requests/"+r.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}, "reason": {"ok"}})
	page = b.get("/ui/requests/" + r.ID)
	if !strings.Contains(page.body, `1 of <span class="person">frank</span>: group security`) || strings.Contains(page.body, "(you)") ||
		strings.Contains(page.body, "managers of storage") || !strings.Contains(page.body, "<strong>carol</strong>") {
		t.Fatalf("after carol's approval:\n%s", page.body)
	}
}

// Customer data, a read-only role's commands and its force-command are in
// plain view.
func TestRequestPageShowsCommandsAndCustomerData(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("grace")
	b := f.browser()
	b.login("grace")
	r, err := f.svc.Submit(ctx, workflow.UserActor("bob"), workflow.Submission{Role: "reader", Resources: []string{"customer-db"},
		Duration: 30 * time.Minute, Reason: "slow queries"})
	if err != nil {
		t.Fatal(err)
	}
	page := b.get("/ui/requests/" + r.ID)
	for _, want := range []string{
		`<li class="mark" data-mark="customer_data">⚠ customer data (customer-db)</li>`,
		`<dd id="shell">no: commands only</dd>`,
		`<li><code>systemctl status *</code></li>`,
		`<dd id="force-command"><code>/usr/local/bin/lockbox-gate</code></dd>`,
		`<span class="own-rule">own approval rule</span>`,
		`1 of <span class="person you">grace (you)</span>: group contoso-admins`,
		`1 of <span class="person">carol</span>: managers of storage`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the request page lacks %s", want)
		}
	}
	if strings.Contains(page.body, `data-mark="root_login"`) || strings.Contains(page.body, `data-mark="interactive"`) {
		t.Error("a read-only role is marked as root or interactive")
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", page.body)
	}
}

// The navigation shows on every page how many requests wait for the
// viewer, and the pending list names who can approve, "you" included.
func TestNavigationCountsWhatWaitsForTheViewer(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	f.person("frank")
	carol, frank := f.browser(), f.browser()
	carol.login("carol")
	frank.login("frank")
	if got := waiting(t, carol.get("/ui/").body); got != "0" {
		t.Fatalf("before any request carol has %s waiting", got)
	}
	admin := f.submit("alice", "admin", "disk full on db-1", "INC-1")
	f.submit("bob", "reader", "checking disks", "")
	for _, path := range []string{"/ui/", "/ui/grants", "/ui/sessions", "/ui/requests/" + admin.ID} {
		if got := waiting(t, carol.get(path).body); got != "2" {
			t.Errorf("%s tells carol %s requests wait for her, want 2", path, got)
		}
	}
	home := frank.get("/ui/")
	if got := waiting(t, home.body); got != "1" {
		t.Errorf("frank has %s waiting, want 1", got)
	}
	if !strings.Contains(home.body, `1 of <span class="person you">frank (you)</span>: group security`) ||
		!strings.Contains(home.body, `1 of <span class="person">carol</span>: managers of storage`) {
		t.Errorf("frank's pending list does not name the approvers:\n%s", home.body)
	}
	page := carol.get("/ui/requests/" + admin.ID)
	carol.post("/ui/requests/"+admin.ID+"/approve", url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}})
	if got := waiting(t, carol.get("/ui/").body); got != "1" {
		t.Errorf("after approving carol has %s waiting, want 1", got)
	}
}
