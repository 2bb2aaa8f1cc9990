package workflow_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// everyone routes every message to the endpoint "ops", addressed to the
// people the message names.
type everyone struct{}

func (everyone) Route(m *notify.Message) []notify.Target {
	return []notify.Target{{Endpoint: "ops", To: m.To}}
}

// withOutbox rebuilds e's service with a router, a web address and a
// 10-minute grant ending notice.
func withOutbox(e *env) *env {
	e.svc = e.serviceWith(e.st, func(c *workflow.Config) {
		c.Router, c.WebURL, c.GrantEndingNotice = everyone{}, "https://lockbox.example.com", 10*time.Minute
	})
	return e
}

// queued is one outbox row, decoded.
type queued struct {
	Kind, Subject string
	To            []string
	Msg           notify.Message
}

func (e *env) outbox() []queued {
	e.t.Helper()
	var rows []*store.OutboxMessage
	if err := e.st.View(ctx, func(tx store.Tx) (err error) { rows, err = tx.OutboxMessages(store.OutboxFilter{}); return err }); err != nil {
		e.t.Fatal(err)
	}
	var out []queued
	for _, r := range slices.Backward(rows) { // oldest first
		var m notify.Message
		if err := json.Unmarshal(r.Body, &m); err != nil {
			e.t.Fatalf("row %s: %v", r.Key, err)
		}
		if m.Key != r.Key || string(m.Kind) != r.Kind || r.Endpoint != "ops" || r.State != store.OutboxQueued {
			e.t.Fatalf("row %s/%s (%s, %s) does not match its message %s (%s)", r.Key, r.Endpoint, r.Kind, r.State, m.Key, m.Kind)
		}
		if err := m.Validate(); err != nil {
			e.t.Fatalf("row %s: %v", r.Key, err)
		}
		q := queued{Kind: r.Kind, Subject: r.Subject, Msg: m}
		for _, p := range m.To {
			q.To = append(q.To, p.Name)
		}
		out = append(out, q)
	}
	return out
}

// kindsFor lists the kinds queued about subject, with their recipients.
func (e *env) kindsFor(subject string) []string {
	var out []string
	for _, q := range e.outbox() {
		if q.Subject == subject {
			out = append(out, q.Kind+" to "+strings.Join(q.To, ","))
		}
	}
	return out
}

// A request's life queues, in the transactions that make it: pending to
// each person who can still approve it, by name; decided to the
// requester; then from the sweeper, once each however often it runs,
// started, ending soon (at the configured notice) and ended.
func TestARequestsLifeQueuesOneMessagePerEventToThePeopleItConcerns(t *testing.T) {
	e := withOutbox(newEnv(t, nil))
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	v, err := e.svc.Get(ctx, user("alice"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	pending := e.outbox()
	if len(pending) != 1 || pending[0].Kind != "request.pending" || !slices.Equal(pending[0].To, v.WhoCanApprove()) || len(pending[0].To) == 0 {
		t.Fatalf("after submit: %+v, want one request.pending to %v", pending, v.WhoCanApprove())
	}
	m := pending[0].Msg
	if m.Link != "https://lockbox.example.com/ui/requests/"+r.ID || m.Request.Ticket != "INC-7" || len(m.Request.Outstanding) == 0 {
		t.Fatalf("the pending message lacks what the page shows: %+v", m.Request)
	}
	if diff := cmp.Diff(workflow.NotifyRequest(v), m.Request); diff != "" {
		t.Fatalf("the queued request differs from NotifyRequest of its view (-view +queued):\n%s", diff)
	}
	for _, who := range v.WhoCanApprove() {
		if _, err := e.svc.Approve(ctx, user(who), r.ID, "ok"); err != nil {
			t.Logf("%s: %v", who, err)
		}
		if e.request(r.ID).State == store.Approved {
			break
		}
	}
	if e.request(r.ID).State != store.Approved {
		t.Fatal("not approved")
	}
	e.sweep()
	e.sweep()
	e.clock.Advance(50*time.Minute - time.Second)
	e.sweep()
	want := []string{"request.pending to " + strings.Join(v.WhoCanApprove(), ","), "request.decided to alice", "grant.started to alice"}
	if diff := cmp.Diff(want, e.kindsFor(r.ID)); diff != "" {
		t.Fatalf("a second before the ending notice (-want +got):\n%s", diff)
	}
	e.clock.Advance(time.Second)
	e.sweep()
	e.sweep()
	e.clock.Advance(10 * time.Minute)
	e.sweep()
	e.sweep()
	want = append(want, "grant.ending_soon to alice", "grant.ended to alice")
	if diff := cmp.Diff(want, e.kindsFor(r.ID)); diff != "" {
		t.Fatalf("after the end (-want +got):\n%s", diff)
	}
}

// Denial, expiry and revocation each queue their message to the
// requester; a submission the policy refuses queues nothing.
func TestDenialExpiryAndRevocationQueueTheirMessage(t *testing.T) {
	e := withOutbox(newEnv(t, nil))
	denied := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-1")
	if _, err := e.svc.Deny(ctx, user("carol"), denied.ID, "use the runbook"); err != nil {
		t.Fatal(err)
	}
	expired := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	granted := e.submit("alice", "health", []string{"db-1"}, time.Hour, "") // auto-approved
	if _, err := e.svc.Revoke(ctx, user("alice"), granted.ID, "done"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "nosuchrole", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"})
	if err == nil {
		t.Fatal("an unknown role was accepted")
	}
	e.clock.Advance(2 * time.Hour)
	e.sweep()
	for id, want := range map[string][]string{
		denied.ID:  {"request.pending to carol", "request.decided to alice"},
		expired.ID: {"request.pending to carol", "request.expired to alice"},
		granted.ID: {"request.decided to alice", "grant.revoked to alice"},
	} {
		got := e.kindsFor(id)
		if len(got) > 0 && strings.HasPrefix(got[0], "request.pending") {
			got[0] = "request.pending to carol" // who can approve is the policy's business; checked above
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", id, diff)
		}
	}
	for _, q := range e.outbox() {
		if q.Kind == "request.decided" && q.Subject == denied.ID && (q.Msg.Request.Decision == nil || q.Msg.Request.Decision.By != "carol") {
			t.Errorf("the denial does not say who denied: %+v", q.Msg.Request.Decision)
		}
	}
	if n := len(e.outbox()); n != 6 {
		t.Errorf("%d rows, want 6 (nothing for the refused submission)", n)
	}
}

// Without a router nothing is queued.
func TestNoRouterQueuesNothing(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-1")
	if _, err := e.svc.Deny(ctx, user("carol"), r.ID, "no"); err != nil {
		t.Fatal(err)
	}
	if q := e.outbox(); len(q) != 0 {
		t.Fatalf("%d rows queued without a router", len(q))
	}
}

// The escalation group hears of an escalation when the sweeper records
// it, once.
func TestEscalationQueuesAMessageToTheEscalationGroupOnce(t *testing.T) {
	e := withOutbox(newWindowEnv(t))
	r := e.submit("alice", "urgent", []string{"db-1"}, time.Hour, "")
	e.clock.Advance(30 * time.Minute)
	e.sweep()
	e.sweep()
	var esc []queued
	for _, q := range e.outbox() {
		if q.Kind == "request.escalated" {
			esc = append(esc, q)
		}
	}
	if len(esc) != 1 || !slices.Contains(esc[0].To, "sam") || slices.Contains(esc[0].To, "alice") || esc[0].Subject != r.ID {
		t.Fatalf("escalation messages: %+v, want one to the security group (sam)", esc)
	}
}

// A session on a resource with its own approval rule queues
// session.started and session.ended; one on another resource does not.
func TestSessionsOnResourcesWithTheirOwnApprovalRuleAreTold(t *testing.T) {
	e := withOutbox(newEnv(t, nil))
	plain := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	g, err := e.startSession("alice", plain.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EndSession(ctx, bastion, g.Session.ID, "exit"); err != nil {
		t.Fatal(err)
	}
	if got := e.kindsFor(g.Session.ID); len(got) != 0 {
		t.Fatalf("a session on db-1 queued %v", got)
	}
	r := e.submit("alice", "admin", []string{"customer-db"}, time.Hour, "INC-2")
	for _, who := range []string{"carol", "frank", "grace"} {
		if e.request(r.ID).State == store.Pending {
			if _, err := e.svc.Approve(ctx, user(who), r.ID, "ok"); err != nil {
				t.Logf("%s: %v", who, err)
			}
		}
	}
	if e.request(r.ID).State != store.Approved {
		t.Fatalf("customer-db request is %s", e.request(r.ID).State)
	}
	g, err = e.startSession("alice", r.ID, "customer-db")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EndSession(ctx, bastion, g.Session.ID, "exit"); err != nil {
		t.Fatal(err)
	}
	want := []string{"session.started to alice", "session.ended to alice"}
	if diff := cmp.Diff(want, e.kindsFor(g.Session.ID)); diff != "" {
		t.Fatalf("customer-db session (-want +got):\n%s", diff)
	}
	for _, q := range e.outbox() {
		if q.Subject == g.Session.ID && (q.Msg.Session == nil || q.Msg.Session.Resource != "customer-db" || q.Msg.Request == nil) {
			t.Fatalf("session message without its session and grant: %+v", q.Msg)
		}
	}
}

// An ending eligibility is queued to the person and the team's managers
// once; a deprovisioning to the person's managers.
func TestEligibilityEndingAndDeprovisioningAreQueued(t *testing.T) {
	e := newEnv(t, nil)
	e.holder.Set(policyWith(t, daveUntilToday))
	e.svc = e.serviceWith(e.st, func(c *workflow.Config) { c.Router, c.EligibilityNotice = everyone{}, 14*time.Hour })
	e.sweep()
	e.sweep()
	if diff := cmp.Diff([]string{"eligibility.ending to carol,dave"}, e.kindsFor("team:db-temp")); diff != "" {
		t.Fatalf("eligibility ending (-want +got):\n%s", diff)
	}
	u := e.provision(e.svc, "alice")
	if _, err := e.svc.ChangeDirectoryUser(ctx, u.ID, deactivate); err != nil {
		t.Fatal(err)
	}
	got := e.kindsFor("alice")
	if len(got) != 1 || !strings.HasPrefix(got[0], "user.deprovisioned to ") {
		t.Fatalf("deprovisioning: %v, want one user.deprovisioned to alice's managers", got)
	}
}
