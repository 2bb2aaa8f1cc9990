package integration

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// In Chromium, on the CA replica the bastion does not report to, the
// session's page shows its output as it arrives, and the end button ends
// it.
func TestLivePageShowsOutputAsItArrivesAndEndsTheSession(t *testing.T) {
	browser := startBrowser(t)
	w, ca2, b := liveWorld(t)
	_, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ssh, _, errOut := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sh", "-c", "'echo first-marker; read a; echo second-marker-$a; sleep 60'")
	stdin, err := ssh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitLive(t, ca2, "carol")

	ca2.setPassword("carol", webPassword)
	w.enroll("carol")
	carol := newTab(t, browser)
	webLogin(t, carol, ca2.url, "carol", webPassword, w.code("carol", 0))
	do(t, carol, "opening the sessions list", chromedp.Navigate(ca2.url+"/ui/sessions"), chromedp.WaitVisible(chromedp.CSS("#live-sessions")))
	if got := value(t, carol, "reading the live list", chromedp.Text(chromedp.CSS("#live-sessions"))); !strings.Contains(got, id) || !strings.Contains(got, "alice") {
		t.Fatalf("the live list lacks alice's session %s:\n%s", id, got)
	}
	do(t, carol, "following the watch link", chromedp.Click(chromedp.CSS(`#live-sessions a.watch`)), chromedp.WaitVisible(chromedp.CSS("#live-terminal")))
	waitText(t, carol, "first-marker")
	waitFor(t, 20*time.Second, "alice to be told carol watches", func() bool {
		return strings.Contains(errOut.String(), "lockbox: carol is watching this session live")
	})
	if _, err := stdin.Write([]byte("now\n")); err != nil {
		t.Fatal(err)
	}
	waitText(t, carol, "second-marker-now")

	do(t, carol, "ending the session",
		chromedp.SendKeys(chromedp.CSS("#end-reason"), "seen enough"),
		chromedp.Click(chromedp.CSS("#end-session")),
	)
	waitText(t, carol, "The session's bastion ends it within a second")
	err = ssh.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 207 {
		t.Fatalf("ssh ended with %v, want exit status 207\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "ended by carol, who was watching: seen enough") {
		t.Fatalf("alice was not told who ended her session:\n%s", errOut)
	}
}
