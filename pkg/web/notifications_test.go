package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// The outbox page lists queued and dead messages for auditors, inert,
// behind the navigation link only auditors see; others are refused.
func TestNotificationsPageListsTheOutboxForAuditors(t *testing.T) {
	f := newFixture(t, web.Config{})
	ui, err := web.New(web.Config{Workflow: f.svc, Notifications: f.svc, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = ui
	at := f.clock.Now()
	if err := f.st.Update(t.Context(), func(tx store.Tx) error {
		for _, k := range []string{"request.pending-aa", "grant.started-bb"} {
			if err := tx.EnqueueOutbox(&store.OutboxMessage{Key: k, Endpoint: "ops-<b>hook</b>", Kind: strings.Split(k, "-")[0],
				Subject: "req-1", Body: []byte(`{}`), CreatedAt: at}); err != nil {
				return err
			}
		}
		rows, err := tx.ClaimOutbox("ca-1", at, at.Add(time.Minute), 1) // grant.started-bb: keys sort first at one due time
		if err != nil {
			return err
		}
		rows[0].State, rows[0].Attempts, rows[0].LastError, rows[0].DoneAt = store.OutboxDead, 10, "answered <script>503</script>", at
		return tx.FinishOutbox("ca-1", rows[0])
	}); err != nil {
		t.Fatal(err)
	}
	f.person("carol") // an auditor
	f.person("alice")
	b := f.browser()
	b.login("carol")
	page := b.get("/ui/notifications")
	if page.status != http.StatusOK || !strings.Contains(page.body, `href="/ui/notifications"`) ||
		!strings.Contains(page.body, "<strong>1</strong> queued") || !strings.Contains(page.body, "<strong>1</strong> dead") ||
		!strings.Contains(page.body, "request.pending-aa") || strings.Contains(page.body, "grant.started-bb") {
		t.Fatalf("carol's queued page: %d\n%s", page.status, page.body)
	}
	checkHeaders(t, "/ui/notifications", page)
	dead := b.get("/ui/notifications?dead=1")
	if !strings.Contains(dead.body, "grant.started-bb") || !strings.Contains(dead.body, "answered &lt;script&gt;503&lt;/script&gt;") ||
		!strings.Contains(dead.body, "ops-&lt;b&gt;hook&lt;/b&gt;") || strings.Contains(dead.body, "<script>") {
		t.Fatalf("the dead page does not show the dead message, inert:\n%s", dead.body)
	}
	a := f.browser()
	a.login("alice")
	if home := a.get("/ui/"); strings.Contains(home.body, `href="/ui/notifications"`) {
		t.Fatal("alice, not an auditor, is offered the outbox page")
	}
	if res := a.get("/ui/notifications"); res.status != http.StatusForbidden {
		t.Fatalf("alice's outbox page: %d, want 403", res.status)
	}
}
