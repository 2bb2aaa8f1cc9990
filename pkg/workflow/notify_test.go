package workflow_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/render"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// A notification about a pending request carries what its page shows:
// who can satisfy each outstanding requirement, the approvals given, the
// role's allowances and the resources, the window if approved now; the
// renderers mark it as the policy marks it.
func TestNotifyRequestCarriesWhatTheRequestPageShows(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1", "customer-db"}, 90*time.Minute, "INC-7")
	e.clock.Advance(time.Minute)
	approvedAt := e.clock.Now()
	e.approve("carol", r.ID)
	e.clock.Advance(time.Minute)
	now := e.clock.Now()
	v, err := e.svc.Get(ctx, user("frank"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := workflow.NotifyRequest(v)
	want := &notify.Request{
		ID: r.ID, Requester: "alice",
		Role: notify.Role{Name: "admin", Description: "Root shell for incident response", Login: "root", Interactive: true,
			MaxDuration: 2 * time.Hour},
		Resources: []notify.Resource{
			{Name: "db-1", Description: "Primary storage database", Tags: []string{"storage", "prod"}},
			{Name: "customer-db", Description: "Contoso tenant database", Tags: []string{"storage", "customer"}, OwnApproval: true},
		},
		Duration:      90 * time.Minute,
		Window:        notify.Window{NotBefore: now, NotAfter: now.Add(90 * time.Minute)},
		Justification: "investigating an incident", Ticket: "INC-7",
		Outstanding: []notify.Requirement{
			{Count: 1, Of: []string{"frank"}, Label: "group security"},
			{Count: 1, Of: []string{"grace"}, Label: "group contoso-admins"},
		},
		Approvals: []notify.Approval{{By: "carol", Reason: "ok", At: approvedAt}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("NotifyRequest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"frank", "grace"}, v.WhoCanApprove()); diff != "" {
		t.Errorf("who the request waits for (-want +got):\n%s", diff)
	}

	m := &notify.Message{Key: notify.NewKey(notify.RequestPending, r.ID), Kind: notify.RequestPending, Time: now,
		To: []notify.Recipient{{Name: "frank"}, {Name: "grace"}}, Request: got}
	body, err := render.Webhook(m)
	if err != nil {
		t.Fatal(err)
	}
	var hook render.WebhookBody
	if err := json.Unmarshal(body, &hook); err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, mk := range v.Allows.Marks {
		marks = append(marks, string(mk))
	}
	if diff := cmp.Diff(marks, hook.Marks); diff != "" {
		t.Errorf("the webhook's marks and the policy's differ (-policy +webhook):\n%s", diff)
	}
	mail, err := render.Email(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"1 of frank: group security", "1 of grace: group contoso-admins", "carol at ", "(if approved now)"} {
		if !strings.Contains(mail.Text, line) {
			t.Errorf("the email lacks %q:\n%s", line, mail.Text)
		}
	}
}

// Decisions carry their outcome; an expiry names nobody.
func TestNotifyRequestCarriesTheDecision(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	if _, err := e.svc.Deny(ctx, user("carol"), r.ID, "not today"); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.Get(ctx, user("alice"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	d := workflow.NotifyRequest(v).Decision
	if d == nil || d.Outcome != notify.Denied || d.By != "carol" || d.Reason != "not today" || !d.At.Equal(e.clock.Now()) {
		t.Fatalf("decision %+v", d)
	}
	x := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	e.clock.Advance(2 * time.Hour)
	if _, err := e.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	v, err = e.svc.Get(ctx, user("alice"), x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := workflow.NotifyRequest(v).Decision; d == nil || d.Outcome != notify.Expired || d.By != "" {
		t.Fatalf("expiry %+v", d)
	}
}
