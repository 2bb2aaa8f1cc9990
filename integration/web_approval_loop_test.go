package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// The approval loop in headless Chromium against a real CA: the
// navigation counts the requests that wait for the viewer, the request
// page names who can satisfy each outstanding requirement and marks
// "you", shows what the role allows with its marks and the exact window
// if approved now; approving updates all of it.
func TestWebApproverSeesWhoCanApproveWhatIsGrantedAndTheWindow(t *testing.T) {
	browser := startBrowser(t)
	c := startCA(t, "sqlite")
	w := &world{t: t, ca: c, mfa: map[string][]byte{}}
	for _, who := range []string{"carol", "frank"} {
		c.setPassword(who, webPassword)
		w.enroll(who)
	}
	carol, frank := newTab(t, browser), newTab(t, browser)
	webLogin(t, carol, c.url, "carol", webPassword, w.code("carol", 0))
	webLogin(t, frank, c.url, "frank", webPassword, w.code("frank", 0))

	id := strings.TrimSpace(c.ok("alice", "request", "--role", "admin", "--resource", "db-1,customer-db", "--duration", "1h",
		"--reason", "disk full on db-1", "--ticket", "INC-42"))
	c.ok("bob", "request", "--role", "reader", "--resource", "db-2", "--duration", "30m", "--reason", "checking disks")

	count := func(tab context.Context) string {
		return value(t, tab, "reading the waiting count", chromedp.Evaluate[string](
			`(document.querySelector('#waiting-count') || {textContent: '0'}).textContent.trim()`))
	}
	do(t, carol, "opening the pending list", chromedp.Navigate(c.url+"/ui/"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := count(carol); got != "2" {
		t.Errorf("the navigation tells carol %s requests wait for her, want 2", got)
	}
	do(t, frank, "opening the pending list", chromedp.Navigate(c.url+"/ui/"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := count(frank); got != "1" {
		t.Errorf("the navigation tells frank %s requests wait for him, want 1", got)
	}

	before := time.Now().Truncate(time.Second)
	do(t, carol, "opening alice's request", chromedp.Navigate(c.url+"/ui/requests/"+id), chromedp.WaitVisible(chromedp.CSS("#approve")))
	after := time.Now()
	texts := func(tab context.Context, css string) []string {
		return value(t, tab, "reading "+css, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll(`+"`"+css+"`"+`)].map(e => e.innerText.trim())`))
	}
	needs := []string{"1 of carol (you): managers of storage", "1 of frank: group security", "1 of grace: group contoso-admins"}
	if diff := cmp.Diff(needs, texts(carol, "#needs li")); diff != "" {
		t.Errorf("needs on carol's page (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"carol (you)"}, texts(carol, "#needs .person.you")); diff != "" {
		t.Errorf("you on carol's page (-want +got):\n%s", diff)
	}
	marks := value(t, carol, "reading the marks", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#allows [data-mark]')].map(e => e.dataset.mark)`))
	if diff := cmp.Diff([]string{"root_login", "interactive", "customer_data"}, marks); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
	for css, want := range map[string]string{"#login": "root", "#shell": "yes: a shell on a terminal", "#commands": "any command", "#max-duration": "2h"} {
		if got := texts(carol, css); len(got) != 1 || got[0] != want {
			t.Errorf("%s reads %q, want %q", css, got, want)
		}
	}
	resources := texts(carol, "#resources li")
	if len(resources) != 2 || !strings.Contains(resources[0], "Primary storage database") || !strings.Contains(resources[1], "own approval rule") {
		t.Errorf("resources %q", resources)
	}
	stamps := value(t, carol, "reading the window", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#window time')].map(e => e.getAttribute('datetime'))`))
	if len(stamps) != 2 {
		t.Fatalf("window times %q", stamps)
	}
	from, err1 := time.Parse(time.RFC3339, stamps[0])
	to, err2 := time.Parse(time.RFC3339, stamps[1])
	if err1 != nil || err2 != nil || from.Before(before) || from.After(after) || to.Sub(from) != time.Hour {
		t.Errorf("window %s – %s, want from the page's moment (%s..%s) for 1h", stamps[0], stamps[1], before, after)
	}
	if win := texts(carol, "#window"); len(win) != 1 || !strings.Contains(win[0], "UTC (now) – ") || !strings.Contains(win[0], "UTC (in 1h) if approved now") {
		t.Errorf("window reads %q", win)
	}

	do(t, carol, "approving", chromedp.SendKeys(chromedp.CSS(`#approve-form input[name="reason"]`), "manager ok"), chromedp.Click(chromedp.CSS("#approve")))
	waitText(t, carol, "Your approval is recorded.")
	if diff := cmp.Diff(needs[1:], texts(carol, "#needs li")); diff != "" {
		t.Errorf("needs after carol's approval (-want +got):\n%s", diff)
	}
	if n := len(texts(carol, ".person.you")); n != 0 || count(carol) != "1" {
		t.Errorf("after approving, carol is marked %d times and has %s waiting; want 0 and 1", n, count(carol))
	}
	do(t, frank, "opening alice's request", chromedp.Navigate(c.url+"/ui/requests/"+id), chromedp.WaitVisible(chromedp.CSS("#approve")))
	if diff := cmp.Diff([]string{"1 of frank (you): group security", "1 of grace: group contoso-admins"}, texts(frank, "#needs li")); diff != "" {
		t.Errorf("needs on frank's page (-want +got):\n%s", diff)
	}
	if given := texts(frank, "ul.given li"); len(given) != 1 || !strings.HasPrefix(given[0], "carol") || !strings.Contains(given[0], "manager ok") {
		t.Errorf("approvals given, on frank's page: %q", given)
	}
}
