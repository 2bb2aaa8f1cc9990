package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var bastion = workflow.BastionActor("bastion-1")

// liveOutput is what the session writes: an escape sequence that would set
// the viewer's clipboard between plain text.
const liveOutput = "up 3 days\x1b]52;c;ZXZpbA==\x07 load 0.1\n"

// liveFixture serves the pages with live view on, and opens a session of
// alice's on customer-db (grace, a Contoso administrator and no auditor,
// approved its grant) that reports output with an escape sequence that
// sets the clipboard.
func liveFixture(t *testing.T) (*fixture, string) {
	f := newFixture(t, web.Config{})
	ui, err := web.New(web.Config{Workflow: f.svc, Live: f.svc, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(ui)
	t.Cleanup(f.srv.Close)
	r, err := f.svc.Submit(ctx, workflow.UserActor("alice"), workflow.Submission{Role: "health", Resources: []string{"customer-db"}, Duration: time.Hour, Reason: "disk"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(ctx, workflow.UserActor("grace"), r.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: r.ID, Resource: "customer-db", User: "alice", ClientAddr: "192.0.2.1:1", Command: "uptime"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReportLive(ctx, bastion, []workflow.LiveReport{{SessionID: g.Session.ID, Data: []byte(liveOutput)}}); err != nil {
		t.Fatal(err)
	}
	return f, g.Session.ID
}

type liveOut struct {
	Data     []byte   `json:"data"`
	Next     int64    `json:"next"`
	Ended    bool     `json:"ended"`
	Watchers []string `json:"watchers"`
}

func TestApproverWatchesLiveInTheBrowserSanitisedAndEndsTheSession(t *testing.T) {
	f, id := liveFixture(t)
	f.person("grace")
	b := f.browser()
	csrf := b.login("grace")
	list := b.get("/ui/sessions")
	if !strings.Contains(list.body, `id="live-sessions"`) || !strings.Contains(list.body, `href="/ui/sessions/`+id+`" class="watch"`) {
		t.Fatalf("the sessions page does not offer to watch %s:\n%s", id, list.body)
	}
	page := b.get("/ui/sessions/" + id)
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="live"`) || !strings.Contains(page.body, `id="end-session"`) {
		t.Fatalf("session page: %d\n%s", page.status, page.body)
	}
	res := b.post("/ui/sessions/"+id+"/watch", url.Values{"csrf": {csrf}})
	var w struct{ Watch string }
	if res.status != http.StatusCreated || json.Unmarshal([]byte(res.body), &w) != nil {
		t.Fatalf("starting a watch: %d %s", res.status, res.body)
	}
	res = b.get("/ui/sessions/" + id + "/live?watch=" + w.Watch + "&after=-1")
	var out liveOut
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &out) != nil {
		t.Fatalf("reading: %d %s", res.status, res.body)
	}
	if string(out.Data) != "up 3 days load 0.1\n" || out.Next != int64(len(liveOutput)) || len(out.Watchers) != 1 {
		t.Fatalf("read %q (next %d, watchers %v), want the output without the clipboard sequence", out.Data, out.Next, out.Watchers)
	}
	if res := b.post("/ui/sessions/"+id+"/end", url.Values{"reason": {"enough"}}); res.status != http.StatusForbidden {
		t.Fatalf("ending without the form token: %d", res.status)
	}
	res = b.post("/ui/sessions/"+id+"/end", url.Values{"csrf": {csrf}, "reason": {"enough"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("ending: %d %s", res.status, res.body)
	}
	a, err := f.svc.ReportLive(ctx, bastion, []workflow.LiveReport{{SessionID: id, Offset: out.Next}})
	if err != nil || a[id].Stop != "ended by grace, who was watching: enough" {
		t.Fatalf("the bastion hears %+v, %v", a, err)
	}
	if res := b.post("/ui/sessions/"+id+"/watch/"+w.Watch+"/stop", url.Values{"csrf": {csrf}}); res.status != http.StatusNoContent {
		t.Fatalf("stopping: %d %s", res.status, res.body)
	}
	// Once it ended, the approver still sees the page, without the live
	// view, and is not offered the replay (the user's and auditors').
	if err := f.svc.EndSession(ctx, bastion, id, a[id].Stop); err != nil {
		t.Fatal(err)
	}
	page = b.get("/ui/sessions/" + id)
	if page.status != http.StatusOK || strings.Contains(page.body, `id="live"`) || strings.Contains(page.body, "player.js") ||
		!strings.Contains(page.body, "Replays are for the session") {
		t.Fatalf("the ended session's page for its approver: %d\n%s", page.status, page.body)
	}
}

// bob, an engineer who neither audits nor approved the grant, is refused
// on every live page and call, with the answer a missing session gets.
func TestEngineerIsRefusedOnEveryLivePage(t *testing.T) {
	f, id := liveFixture(t)
	watch, err := f.svc.StartWatch(ctx, workflow.UserActor("grace"), id, "web")
	if err != nil {
		t.Fatal(err)
	}
	f.person("bob")
	b := f.browser()
	csrf := b.login("bob")
	if list := b.get("/ui/sessions"); strings.Contains(list.body, "live-sessions") || strings.Contains(list.body, id) {
		t.Fatalf("bob's sessions page shows a running session:\n%s", list.body)
	}
	for _, tc := range []struct {
		name string
		res  response
	}{
		{"session page", b.get("/ui/sessions/" + id)},
		{"start a watch", b.post("/ui/sessions/"+id+"/watch", url.Values{"csrf": {csrf}})},
		{"read grace's watch", b.get("/ui/sessions/" + id + "/live?watch=" + watch.ID + "&after=0")},
		{"stop grace's watch", b.post("/ui/sessions/"+id+"/watch/"+watch.ID+"/stop", url.Values{"csrf": {csrf}})},
		{"end the session", b.post("/ui/sessions/"+id+"/end", url.Values{"csrf": {csrf}, "reason": {"curious"}})},
	} {
		if tc.res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404\n%s", tc.name, tc.res.status, tc.res.body)
		}
		if strings.Contains(tc.res.body, "up 3 days") {
			t.Errorf("%s: the answer holds the session's output", tc.name)
		}
	}
	var rows []store.AuditRecord
	if err := f.st.View(ctx, func(tx store.Tx) (err error) { rows, err = tx.Audit(0, 1000); return err }); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, r := range rows {
		if r.Actor == "user:bob" && r.Action == "session.watch_refused" {
			refused++
		}
	}
	if refused != 5 {
		t.Fatalf("%d of bob's refusals audited, want 5", refused)
	}
}
