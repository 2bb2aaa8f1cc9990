package integration

import (
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lockbox-ssh/lockbox/internal/hooktest"
	"github.com/lockbox-ssh/lockbox/pkg/totp"
)

// mfaSecret enrolls who in TOTP with the real CLI and returns the secret.
func (c *ca) mfaSecret(who string) []byte {
	c.t.Helper()
	u, err := url.Parse(strings.TrimSpace(c.ok(who, "mfa", "enroll")))
	if err != nil {
		c.t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		c.t.Fatal(err)
	}
	return secret
}

// An auditor sees in the browser the notifications a refusing receiver
// left dead, and what still waits; the page is behind the navigation.
func TestOutboxPageInBrowserShowsDeadAndQueuedMessages(t *testing.T) {
	browser := startBrowser(t)
	hook := hooktest.Start(t)
	hook.Answer(400) // refused: dead at the first attempt
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	c.startOutboxCA(hook)
	id := submitMany(t, c, 1)[0]
	c.setPassword("carol", webPassword)
	secret := c.mfaSecret("carol")
	tab := newTab(t, browser)
	webLogin(t, tab, c.url, "carol", webPassword, totp.Code(secret, totp.Step(time.Now())))
	do(t, tab, "opening the outbox page from the navigation",
		chromedp.Navigate(c.url+"/ui/"),
		chromedp.Click(chromedp.CSS(`nav a[href="/ui/notifications"]`)),
		chromedp.WaitVisible(chromedp.CSS("#outbox-counts")),
	)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(pageText(tab), "2 dead") { // the message, then its message.dead notice
		if time.Now().After(deadline) {
			t.Fatalf("no dead messages counted after 20s:\n%s", pageText(tab))
		}
		do(t, tab, "reloading", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#outbox-counts")))
	}
	do(t, tab, "listing the dead", chromedp.Click(chromedp.CSS("#show-dead")), chromedp.WaitVisible(chromedp.CSS("#outbox")))
	text := pageText(tab)
	for _, want := range []string{"request.pending", "message.dead", id, "refused by the receiver", "test-hook"} {
		if !strings.Contains(text, want) {
			t.Errorf("the dead list lacks %q:\n%s", want, text)
		}
	}
}
