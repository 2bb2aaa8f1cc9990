package workflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// A request, once decided, still shows who approved it, when, and why.
func TestDecidedRequestShowsWhoApprovedWhenAndWhy(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	e.clock.Advance(time.Minute)
	carolAt := e.clock.Now()
	if _, err := e.svc.Approve(ctx, user("carol"), r.ID, "manager: fine"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	frankAt := e.clock.Now()
	if _, err := e.svc.Approve(ctx, user("frank"), r.ID, "security: fine"); err != nil {
		t.Fatal(err)
	}
	want := []store.Approval{
		{RequestID: r.ID, Approver: "carol", Reason: "manager: fine", At: carolAt},
		{RequestID: r.ID, Approver: "frank", Reason: "security: fine", At: frankAt},
	}
	for _, who := range []string{"alice", "carol", "erin"} {
		v, err := e.svc.Get(ctx, user(who), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != store.Approved {
			t.Fatalf("state %s", v.State)
		}
		if diff := cmp.Diff(want, v.Approvals); diff != "" {
			t.Fatalf("approvals seen by %s (-want +got):\n%s", who, diff)
		}
	}

	// A denied request keeps the approvals given before the denial.
	d := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-8")
	e.approve("carol", d.ID)
	if _, err := e.svc.Deny(ctx, user("frank"), d.ID, "not now"); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.Get(ctx, user("alice"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Approvals) != 1 || v.Approvals[0].Approver != "carol" || v.Decision != "not now" || v.DecidedBy != "frank" {
		t.Fatalf("denied request shows %+v, decided by %s: %s", v.Approvals, v.DecidedBy, v.Decision)
	}
}

// A pending request that no longer fits the current policy says so, and
// offers nobody its approval.
func TestPendingRequestThatNoLongerFitsSaysSo(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	if v, err := e.svc.Get(ctx, user("carol"), r.ID); err != nil || !v.CanApprove || v.NoLongerFits != "" {
		t.Fatalf("before the change: %+v %v", v, err)
	}
	e.changePolicy(func(p *policy.Policy) { p.Roles["reader"].MaxDuration = 30 * time.Minute })
	v, err := e.svc.Get(ctx, user("carol"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	const says = "over role reader's max_duration of 30m0s (now)"
	if v.CanApprove || !strings.Contains(v.NoLongerFits, says) {
		t.Fatalf("can approve %v, no longer fits %q; want false and %q", v.CanApprove, v.NoLongerFits, says)
	}
}
