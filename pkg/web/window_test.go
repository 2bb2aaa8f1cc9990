package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func (f *fixture) request(id string) *store.Request {
	f.t.Helper()
	var r *store.Request
	if err := f.st.View(ctx, func(tx store.Tx) (err error) { r, err = tx.Request(id); return err }); err != nil {
		f.t.Fatal(err)
	}
	return r
}

// The approve form's duration field shortens the grant; a bad one is
// refused with a sentence and approves nothing.
func TestApproveFormShortensTheGrant(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full on db-1", "")
	page := b.get("/ui/requests/" + r.ID)
	if !strings.Contains(page.body, `name="duration"`) {
		t.Fatalf("the approve form has no duration field:\n%s", page.body)
	}
	form := url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}}
	for _, bad := range []string{"soon", "-5m", "2h"} {
		form.Set("duration", bad)
		res := b.post("/ui/requests/"+r.ID+"/approve", form)
		if res.status < 400 || f.state(r.ID) != store.Pending {
			t.Fatalf("duration %q: %d, %s", bad, res.status, f.state(r.ID))
		}
	}
	refusals := 0
	if err := f.st.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(0, 1000)
		for _, row := range rows {
			if row.Action == "approval.refused" && row.Subject == r.ID {
				refusals++
			}
		}
		return err
	}); err != nil || refusals != 3 {
		t.Fatalf("%d refused durations audited (%v), want 3", refusals, err)
	}
	form.Set("duration", "20m")
	if res := b.post("/ui/requests/"+r.ID+"/approve", form); res.status != http.StatusSeeOther {
		t.Fatalf("approve for 20m: %d\n%s", res.status, res.body)
	}
	got := f.request(r.ID)
	if got.State != store.Approved || got.NotAfter.Sub(got.NotBefore) != 20*time.Minute {
		t.Fatalf("grant %s for %v, want approved for 20m", got.State, got.NotAfter.Sub(got.NotBefore))
	}
	shown := b.get("/ui/requests/" + r.ID).body
	for _, want := range []string{`id="grant-duration"`, "20m", " for 20m"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the approved request's page lacks %q", want)
		}
	}
}

// A role with step_up_mfa gets a code field; the approval needs a fresh
// code in it.
func TestApproveFormAsksForACodeWhenTheRoleDoes(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.policy.Get().Roles["reader"].StepUpMFA = true // as a reload would
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r := f.submit("alice", "reader", "disk full on db-1", "")
	page := b.get("/ui/requests/" + r.ID)
	if !strings.Contains(page.body, `id="approve-code"`) || !strings.Contains(page.body, `id="step-up"`) {
		t.Fatalf("no code field for a step-up role:\n%s", page.body)
	}
	form := url.Values{"csrf": {field(t, csrfRe, page.body)}, "digest": {field(t, digestRe, page.body)}}
	if res := b.post("/ui/requests/"+r.ID+"/approve", form); res.status != http.StatusForbidden || f.state(r.ID) != store.Pending {
		t.Fatalf("without a code: %d, %s", res.status, f.state(r.ID))
	}
	form.Set("code", f.code("carol"))
	if res := b.post("/ui/requests/"+r.ID+"/approve", form); res.status != http.StatusSeeOther || f.state(r.ID) != store.Approved {
		t.Fatalf("with a fresh code: %d, %s\n%s", res.status, f.state(r.ID), res.body)
	}
}

// A scheduled grant shows its start, says when it opens, and can be
// revoked before then, also from the grants page.
func TestScheduledGrantOnTheRequestAndGrantsPages(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("carol")
	b := f.browser()
	b.login("carol")
	r, err := f.svc.Submit(ctx, workflow.UserActor("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"},
		Duration: time.Hour, Reason: "maintenance", Start: workflow.Start{In: 8 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(ctx, workflow.UserActor("carol"), r.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	page := b.get("/ui/requests/" + r.ID)
	for _, want := range []string{`id="window-start"`, `id="scheduled"`, "Revoke now"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the scheduled grant's page lacks %q", want)
		}
	}
	if grants := b.get("/ui/grants").body; !strings.Contains(grants, r.ID) || !strings.Contains(grants, "opens ") {
		t.Fatalf("the grants page does not list the scheduled grant:\n%s", grants)
	}
}
