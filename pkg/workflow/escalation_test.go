package workflow_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// escalations returns the details of the request.escalated rows of id.
func (e *env) escalations(id string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, r := range e.auditRows() {
		if r.Action == "request.escalated" && r.Subject == id {
			var d map[string]any
			if err := json.Unmarshal(r.Detail, &d); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func (e *env) sweep() {
	e.t.Helper()
	if _, err := e.svc.Sweep(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// Role urgent needs one of alice's managers (carol) and escalates to
// security after 30m. Nobody acts: at 30m the sweeper records the
// escalation once, and from then sam (security) may approve in carol's
// place. Before it, sam is not an approver.
func TestEscalationLetsTheEscalationGroupApproveOnceTheSweeperRecordsIt(t *testing.T) {
	e := newWindowEnv(t)
	r := e.submit("alice", "urgent", []string{"db-1"}, time.Hour, "")
	if r.EscalateAt != r.CreatedAt.Add(30*time.Minute) {
		t.Fatalf("next escalation at %v, want 30m after %v", r.EscalateAt, r.CreatedAt)
	}
	_, err := e.svc.Approve(ctx, user("sam"), r.ID, "ok")
	requireErr(t, err, policy.ErrNotApprover)

	e.clock.Advance(30*time.Minute - time.Second)
	e.sweep()
	if n := len(e.escalations(r.ID)); n != 0 {
		t.Fatalf("escalated %d times a second before escalate_after", n)
	}
	if v, err := e.svc.Get(ctx, user("sam"), r.ID); err != nil || v.CanApprove { // sam is an auditor: he sees it
		t.Fatalf("before the escalation sam may approve: %v", err)
	}
	e.clock.Advance(time.Second)
	_, err = e.svc.Approve(ctx, user("sam"), r.ID, "ok")
	requireErr(t, err, policy.ErrNotApprover) // due, but not recorded (nobody told) yet

	e.sweep()
	e.clock.Advance(time.Minute)
	e.sweep()
	esc := e.escalations(r.ID)
	if len(esc) != 1 {
		t.Fatalf("request.escalated recorded %d times, want once", len(esc))
	}
	if esc[0]["escalate_to"] == nil || !strings.Contains(string(must(json.Marshal(esc[0]))), "security") {
		t.Fatalf("request.escalated does not name the group: %v", esc[0])
	}
	v, err := e.svc.Get(ctx, user("sam"), r.ID)
	if err != nil || !v.CanApprove {
		t.Fatalf("after the escalation sam sees it: %v, can approve %v", err, v != nil && v.CanApprove)
	}
	if got := e.approve("sam", r.ID); got.State != store.Approved {
		t.Fatalf("sam's approval after the escalation: %s, want approved", got.State)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// frank is in security, the escalation group, but it is his own request:
// escalation never lets the requester approve.
func TestEscalationNeverLetsTheRequesterApprove(t *testing.T) {
	e := newWindowEnv(t)
	r := e.submit("frank", "urgent", []string{"db-1"}, time.Hour, "")
	e.clock.Advance(31 * time.Minute)
	e.sweep()
	if len(e.escalations(r.ID)) != 1 {
		t.Fatal("no escalation recorded")
	}
	_, err := e.svc.Approve(ctx, user("frank"), r.ID, "mine")
	requireErr(t, err, policy.ErrSelfApproval)
	if got := e.approve("sam", r.ID); got.State != store.Approved {
		t.Fatalf("sam (security) after the escalation: %s", got.State)
	}
}

// A requirement met before escalate_after does not escalate.
func TestNoEscalationWhenTheRequirementWasMetInTime(t *testing.T) {
	e := newWindowEnv(t)
	p := policyWith(t, windowPolicy)
	p.Resources["tenant-db"].PendingTimeout = 0 // waits the CA's hour
	e.holder.Set(p)
	r := e.submit("alice", "urgent", []string{"tenant-db"}, time.Hour, "")
	e.approve("carol", r.ID) // the manager; contoso-admins still outstanding
	e.clock.Advance(31 * time.Minute)
	e.sweep()
	if n := len(e.escalations(r.ID)); n != 0 {
		t.Fatalf("escalated %d times though its only escalating requirement was met", n)
	}
	if got := e.request(r.ID); !got.EscalateAt.IsZero() {
		t.Fatalf("next escalation still set at %v", got.EscalateAt)
	}
}

// One person counts once: sam cannot fill both the manager requirement
// (escalated to security) and security's own requirement of admin.
func TestEscalatedApproverStillCountsOnce(t *testing.T) {
	e := newWindowEnv(t)
	p := policyWith(t, windowPolicy+`  - name: admin-team
    members: [bob]
    eligible:
      - roles: [admin]
        resources: [db-1]
`)
	p.Roles["admin"].Approval.EscalateAfter, p.Roles["admin"].Approval.EscalateTo = 30*time.Minute, "security"
	e.holder.Set(p)
	r := e.submit("bob", "admin", []string{"db-1"}, time.Hour, "INC-1")
	e.clock.Advance(30 * time.Minute)
	e.sweep()
	if got := e.approve("sam", r.ID); got.State != store.Pending {
		t.Fatalf("one security member approved both requirements: %s", got.State)
	}
	if got := e.approve("frank", r.ID); got.State != store.Approved {
		t.Fatalf("a second security member: %s, want approved", got.State)
	}
}

// tenant-db waits 20m at most, shorter than the CA's hour: a request
// naming it expires at 20m, and says so.
func TestResourcePendingTimeoutShortensTheDeadline(t *testing.T) {
	e := newWindowEnv(t)
	plain := e.submit("alice", "urgent", []string{"db-1"}, time.Hour, "")
	r := e.submit("alice", "urgent", []string{"db-1", "tenant-db"}, time.Hour, "")
	if want := r.CreatedAt.Add(20 * time.Minute); !r.PendingUntil.Equal(want) {
		t.Fatalf("pending until %v, want %v (the resource's 20m)", r.PendingUntil, want)
	}
	if want := plain.CreatedAt.Add(time.Hour); !plain.PendingUntil.Equal(want) {
		t.Fatalf("without tenant-db: pending until %v, want %v", plain.PendingUntil, want)
	}
	e.clock.Advance(20*time.Minute - time.Second)
	e.sweep()
	if got := e.request(r.ID); got.State != store.Pending {
		t.Fatalf("a second before the deadline: %s", got.State)
	}
	e.clock.Advance(time.Second)
	e.sweep()
	got := e.request(r.ID)
	if got.State != store.Expired || !strings.Contains(got.Decision, "20m0s") {
		t.Fatalf("at the deadline: %s %q, want expired after 20m0s", got.State, got.Decision)
	}
	if e.request(plain.ID).State != store.Pending {
		t.Fatal("the request without tenant-db expired too")
	}
	if !slices.Contains(e.actions(r.ID), "request.expired") {
		t.Fatal("expiry not audited")
	}
}
