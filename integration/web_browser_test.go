package integration

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const webPassword = "correct horse battery staple"

// The web form end to end, in headless Chromium against a real CA
// process: login with password and TOTP, approval seen through the API,
// self-approval refused, cross-site forms refused, HTML in a justification
// inert, and the replay of a real recorded session in the browser's
// terminal. With LOCKBOX_WEB_SCREENSHOTS=DIR it also saves screenshots of
// the main pages there (docs/screenshots).
func TestWebInBrowser(t *testing.T) {
	browser := startBrowser(t)
	w := newWorld(t, worldOptions{})
	c := w.ca
	b := w.bastion(nil)

	// A real session through the bastion, for the replay.
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	// Without a terminal (an exec without -t), so the output holds bare
	// line feeds.
	run := w.run(b, key, w.code("alice", 0), nil, "printf", `'\033[31mred-text\033[0m hello-from-replay\nsecond-line\nthird-line\n'`)
	if run.code != 0 || !strings.Contains(run.stdout, "hello-from-replay") {
		t.Fatalf("ssh: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	sess, _ := w.recordingOf("alice")

	c.setPassword("carol", webPassword)
	c.setPassword("alice", webPassword)
	w.enroll("carol")
	carol := newTab(t, browser)
	webLogin(t, carol, c.url, "carol", webPassword, w.code("carol", 0))

	t.Run("ApprovalInTheBrowserIsSeenThroughTheAPI", func(t *testing.T) {
		id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "30m", "--reason", "disk full on db-1"))
		do(t, carol, "approving",
			chromedp.Navigate(c.url+"/ui/"),
			chromedp.Click(chromedp.CSS(`a[href="/ui/requests/`+id+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("#approve")),
			chromedp.SendKeys(chromedp.CSS(`#approve-form input[name="reason"]`), "looks right"),
			chromedp.Click(chromedp.CSS("#approve")),
		)
		waitText(t, carol, "Your approval is recorded.")
		got, err := w.apiClient("alice").Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "approved" {
			t.Fatalf("after approving in the browser the API says %s", got.State)
		}
	})

	t.Run("SelfApprovalIsNotOfferedAndAForgedPostIsRefused", func(t *testing.T) {
		id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "30m", "--reason", "my own"))
		// The digest a real approver's page carries, so that only the
		// self-approval rule stands in the way.
		do(t, carol, "opening the request", chromedp.Navigate(c.url+"/ui/requests/"+id), chromedp.WaitVisible(chromedp.CSS("#approve")))
		digest := value(t, carol, "reading the digest", chromedp.Value(chromedp.CSS(`#approve-form input[name="digest"]`)))

		alice := newTab(t, browser)
		webLogin(t, alice, c.url, "alice", webPassword, w.code("alice", 1))
		do(t, alice, "opening her own request", chromedp.Navigate(c.url+"/ui/requests/"+id), chromedp.WaitVisible(chromedp.CSS("#own-request")))
		if n := value(t, alice, "counting forms", chromedp.Evaluate[int](`document.querySelectorAll('#approve, #approve-form').length`)); n != 0 {
			t.Fatal("alice is offered to approve her own request")
		}
		forge := fmt.Sprintf(`(() => {
			const f = document.createElement('form');
			f.method = 'post';
			f.action = '/ui/requests/%s/approve';
			for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['digest', %q]]) {
				const i = document.createElement('input');
				i.type = 'hidden'; i.name = k; i.value = v;
				f.appendChild(i);
			}
			document.body.appendChild(f);
			f.submit();
			return true;
		})()`, id, digest)
		value(t, alice, "forging an approval", chromedp.Evaluate[bool](forge))
		waitText(t, alice, "You cannot approve your own request")
		if got, _ := w.apiClient("alice").Get(context.Background(), id); got == nil || got.State != "pending" || len(got.Approvals) != 0 {
			t.Fatalf("after a forged self-approval: %+v", got)
		}
	})

	t.Run("CrossSitePostIsRefused", func(t *testing.T) {
		id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "30m", "--reason", "cross-site target"))
		do(t, carol, "opening the request", chromedp.Navigate(c.url+"/ui/requests/"+id), chromedp.WaitVisible(chromedp.CSS("#approve")))
		token := value(t, carol, "reading the form token", chromedp.Value(chromedp.CSS(`#approve-form input[name="csrf"]`)))
		digest := value(t, carol, "reading the digest", chromedp.Value(chromedp.CSS(`#approve-form input[name="digest"]`)))
		// Even knowing the form token and digest, a page of another origin
		// cannot make carol's browser approve.
		evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(rw, `<!doctype html><form method="post" action="%s/ui/requests/%s/approve">
<input type="hidden" name="csrf" value="%s"><input type="hidden" name="digest" value="%s"></form>
<script>document.forms[0].submit()</script>`, html.EscapeString(c.url), id, html.EscapeString(token), digest)
		}))
		defer evil.Close()
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(evil.URL, "http://"))
		// localhost is another site than 127.0.0.1; 127.0.0.1 on another
		// port is the same site but another origin.
		for _, origin := range []string{"http://localhost:" + port, evil.URL} {
			do(t, carol, "visiting "+origin, chromedp.Navigate(origin+"/"))
			waitText(t, carol, "was sent from another site")
		}
		if got, _ := w.apiClient("alice").Get(context.Background(), id); got == nil || got.State != "pending" || len(got.Approvals) != 0 {
			t.Fatalf("after cross-site posts: %+v", got)
		}
		if !strings.Contains(c.log.String(), "cross-origin request refused") {
			t.Fatal("the CA did not log the refusal")
		}
	})

	t.Run("JustificationWithHTMLIsInert", func(t *testing.T) {
		payload := `<img src=x onerror="window.__lockboxXSS=1"><script>window.__lockboxXSS=2</script>`
		id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "30m", "--reason", payload))
		for _, page := range []string{"/ui/", "/ui/requests/" + id} {
			do(t, carol, "opening "+page, chromedp.Navigate(c.url+page), chromedp.WaitVisible(chromedp.CSS("main h1")), chromedp.Sleep(200*time.Millisecond))
			if v := value(t, carol, "reading the marker", chromedp.Evaluate[string](`typeof window.__lockboxXSS`)); v != "undefined" {
				t.Fatalf("%s: the payload ran (window.__lockboxXSS is %s)", page, v)
			}
			if n := value(t, carol, "counting images", chromedp.Evaluate[int](`document.querySelectorAll('main img, main script').length`)); n != 0 {
				t.Fatalf("%s: the payload made %d elements", page, n)
			}
			if !strings.Contains(pageText(carol), payload) {
				t.Fatalf("%s: the payload is not shown as text:\n%s", page, pageText(carol))
			}
		}
		if got := value(t, carol, "reading the justification", chromedp.Text(chromedp.CSS("#justification"))); got != payload {
			t.Fatalf("justification %q, want %q", got, payload)
		}
	})

	t.Run("ReplayShowsTheRecordedSessionInTheTerminal", func(t *testing.T) {
		do(t, carol, "opening the session",
			chromedp.Navigate(c.url+"/ui/sessions?user=alice"),
			chromedp.Click(chromedp.CSS(`a[href="/ui/sessions/`+sess.ID+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#player[data-state="ready"]`)),
			chromedp.Click(chromedp.CSS("#play")),
		)
		value(t, carol, "waiting for the replay",
			chromedp.Poll[bool](`(document.querySelector('.xterm-rows') || {}).textContent?.includes('hello-from-replay')`,
				chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		// Colours render: the red text is in a cell coloured by the
		// terminal's palette, which needs its <style> (the CSP nonce).
		color := value(t, carol, "reading the colour", chromedp.Evaluate[string](`(() => {
			const span = [...document.querySelectorAll('.xterm-rows span')].find(s => s.textContent.includes('red-text'));
			return span ? getComputedStyle(span).color : 'no span';
		})()`))
		if color == "no span" || color == "rgb(255, 255, 255)" || !strings.HasPrefix(color, "rgb(") {
			t.Fatalf("red text is shown in %s", color)
		}
		r, g, _ := 0, 0, 0
		fmt.Sscanf(color, "rgb(%d, %d", &r, &g)
		if r < 150 || g > 100 {
			t.Fatalf("red text is shown in %s", color)
		}
	})

	t.Run("ReplayWithoutATerminalStartsEachLineAtColumnZero", func(t *testing.T) {
		do(t, carol, "replaying the session",
			chromedp.Navigate(c.url+"/ui/sessions/"+sess.ID),
			chromedp.WaitVisible(chromedp.CSS(`#player[data-state="ready"]`)),
			chromedp.Click(chromedp.CSS("#play")),
			chromedp.WaitVisible(chromedp.CSS(`#player[data-state="ended"]`)),
		)
		// The terminal draws on the next animation frame: wait until the
		// last line is drawn, wherever it is, then read the first rows.
		rows := value(t, carol, "reading the terminal's rows", chromedp.Poll[[]string](`(() => {
			const rows = [...document.querySelectorAll('.xterm-rows > div')].map(r => r.textContent.replace(/\s+$/, ''));
			return rows.some(r => r.includes('third-line')) ? rows.slice(0, 3) : null;
		})()`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		want := []string{"red-text hello-from-replay", "second-line", "third-line"}
		if strings.Join(rows, "|") != strings.Join(want, "|") {
			t.Fatalf("the terminal shows rows %q, want %q (each line from column 0)", rows, want)
		}
		// A recording under a minute (this one lasts a second or two, most
		// of it the bastion reaching the target) shows hundredths, so one
		// under a second does not read 0:00 / 0:00; at the end both agree.
		clock := value(t, carol, "reading the clock", chromedp.Text(chromedp.CSS("#clock")))
		m := regexp.MustCompile(`^(0:\d\d\.\d\d) / (0:\d\d\.\d\d)$`).FindStringSubmatch(clock)
		if m == nil || m[1] != m[2] {
			t.Fatalf("at the end of a short recording the clock reads %q, want m:ss.cc / m:ss.cc, equal", clock)
		}
	})

	if dir := os.Getenv("LOCKBOX_WEB_SCREENSHOTS"); dir != "" {
		screenshots(t, browser, w, dir, sess.ID)
	}
}

// screenshots saves PNGs of the main pages at a laptop's and a phone's
// size.
func screenshots(t *testing.T, browser context.Context, w *world, dir, sessionID string) {
	c := w.ca
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(c.ok("bob", "request", "--role", "admin", "--resource", "db-1", "--duration", "45m",
		"--reason", "INC-2231: replication lag on db-1; need to restart the replica's IO thread", "--ticket", "INC-2231"))
	c.ok("frank", "approve", id, "--reason", "security ok")
	c.ok("alice", "request", "--role", "reader", "--resource", "db-2", "--duration", "1h", "--reason", "checking disk usage after the cleanup job")
	w.enroll("erin")
	c.setPassword("erin", webPassword)
	erin := newTab(t, browser)
	webLogin(t, erin, c.url, "erin", webPassword, w.code("erin", 0))
	carol := newTab(t, browser)
	webLogin(t, carol, c.url, "carol", webPassword, w.code("carol", 1))
	login := newTab(t, browser)

	type shot struct {
		name string
		tab  context.Context
		path string
		wait string
	}
	shots := []shot{
		{"login", login, "/ui/login", "#user"},
		{"pending", carol, "/ui/", "main h1"},
		{"request", carol, "/ui/requests/" + id, "#approve"},
		{"grants", erin, "/ui/grants", "main h1"},
		{"sessions", erin, "/ui/sessions", "main h1"},
		{"replay", erin, "/ui/sessions/" + sessionID, `#player[data-state="ready"]`},
		{"audit", erin, "/ui/audit", "#verify"},
	}
	for _, size := range []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"laptop", 1280, 800, nil},
		{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile}},
	} {
		for _, s := range shots {
			steps := []chromedp.Action[chromedp.Void]{
				chromedp.EmulateViewport(size.width, size.height, size.opts...),
				chromedp.Navigate(c.url + s.path),
				chromedp.WaitVisible(chromedp.CSS(s.wait)),
			}
			if s.name == "replay" {
				steps = append(steps, chromedp.SetValue(chromedp.CSS("#speed"), "16"), chromedp.Click(chromedp.CSS("#play")),
					chromedp.WaitVisible(chromedp.CSS(`#player[data-state="ended"]`)))
			}
			do(t, s.tab, "screenshot "+s.name, steps...)
			png := value(t, s.tab, "capturing "+s.name, chromedp.FullScreenshot(100))
			name := filepath.Join(dir, s.name+"-"+size.name+".png")
			if err := os.WriteFile(name, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%s)", name, url.PathEscape(s.path))
		}
	}
}
