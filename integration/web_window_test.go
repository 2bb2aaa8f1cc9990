package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// In headless Chromium against a real CA: carol shortens a grant with the
// approve form's duration field, the API then shows the shorter window,
// and the request page names her duration.
func TestApproveWithADurationInTheBrowser(t *testing.T) {
	browser := startBrowser(t)
	c := startCA(t, "sqlite")
	w := &world{t: t, ca: c, mfa: map[string][]byte{}}
	c.setPassword("carol", webPassword)
	w.enroll("carol")
	carol := newTab(t, browser)
	webLogin(t, carol, c.url, "carol", webPassword, w.code("carol", 0))

	id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "2h", "--reason", "disk full on db-1"))
	do(t, carol, "approving for 45m",
		chromedp.Navigate(c.url+"/ui/requests/"+id),
		chromedp.WaitVisible(chromedp.CSS("#approve-duration")),
		chromedp.SendKeys(chromedp.CSS("#approve-duration"), "45m"),
		chromedp.SendKeys(chromedp.CSS(`#approve-form input[name="reason"]`), "45 minutes is enough"),
		chromedp.Click(chromedp.CSS("#approve")),
	)
	waitText(t, carol, "Your approval is recorded.")
	got, err := w.apiClient("alice").Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "approved" || got.NotAfter.Sub(*got.NotBefore) != 45*time.Minute || got.Approvals[0].Duration != "45m0s" {
		t.Fatalf("after approving for 45m in the browser the API says %s %v..%v, approvals %+v", got.State, got.NotBefore, got.NotAfter, got.Approvals)
	}
	waitText(t, carol, "(shortened by an approver)")
	if text := value(t, carol, "reading the grant duration", chromedp.Text(chromedp.CSS("#grant-duration"))); !strings.Contains(text, "45m") {
		t.Fatalf("the page says the grant lasts %q", text)
	}

	// A duration over the one asked is refused on the page, and nothing
	// is approved.
	id2 := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "again"))
	do(t, carol, "approving for too long",
		chromedp.Navigate(c.url+"/ui/requests/"+id2),
		chromedp.WaitVisible(chromedp.CSS("#approve-duration")),
		chromedp.SendKeys(chromedp.CSS("#approve-duration"), "3h"),
		chromedp.Click(chromedp.CSS("#approve")),
	)
	waitText(t, carol, "an approver may only shorten the grant")
	if got, _ := w.apiClient("alice").Get(context.Background(), id2); got == nil || got.State != "pending" || len(got.Approvals) != 0 {
		t.Fatalf("after a refused duration: %+v", got)
	}
}
