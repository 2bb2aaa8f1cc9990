package workflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func TestSubmitRejectsAtOnceWithTheReason(t *testing.T) {
	tests := []struct {
		name string
		who  string
		sub  workflow.Submission
		want error
	}{
		{"unknown role", "alice", workflow.Submission{Role: "god", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"}, policy.ErrUnknownRole},
		{"unknown resource", "alice", workflow.Submission{Role: "reader", Resources: []string{"db-9"}, Duration: time.Hour, Reason: "x"}, policy.ErrUnknownResource},
		{"no resources", "alice", workflow.Submission{Role: "reader", Duration: time.Hour, Reason: "x"}, policy.ErrNoResources},
		{"resource outside the team's scope", "alice", workflow.Submission{Role: "reader", Resources: []string{"web-1"}, Duration: time.Hour, Reason: "x"}, policy.ErrOutOfScope},
		{"manager who is not a member", "carol", workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"}, policy.ErrOutOfScope},
		{"over the role's max duration", "alice", workflow.Submission{Role: "admin", Resources: []string{"db-1"}, Duration: 3 * time.Hour, Reason: "x", Ticket: "INC-1"}, policy.ErrOverMaxDuration},
		{"zero duration", "alice", workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Reason: "x"}, policy.ErrBadDuration},
		{"no reason", "alice", workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "  "}, policy.ErrReasonRequired},
		{"no ticket where the role needs one", "alice", workflow.Submission{Role: "admin", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"}, policy.ErrTicketRequired},
		{"duplicate resource", "alice", workflow.Submission{Role: "reader", Resources: []string{"db-1", "db-1"}, Duration: time.Hour, Reason: "x"}, policy.ErrDuplicateResource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r, err := e.svc.Submit(ctx, user(tc.who), tc.sub)
			requireErr(t, err, workflow.ErrRejected, tc.want)
			if r == nil || r.State != store.Rejected {
				t.Fatalf("rejected request not returned as rejected: %+v", r)
			}
			stored := e.request(r.ID)
			if stored.State != store.Rejected || !strings.Contains(stored.Decision, tc.want.Error()) {
				t.Fatalf("stored %s with decision %q", stored.State, stored.Decision)
			}
			if diff := cmp.Diff([]string{"request.rejected"}, e.actions(r.ID)); diff != "" {
				t.Fatalf("audit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubmitRejectsOverTheUsersLimits(t *testing.T) {
	e := newEnv(t, nil)
	// Five pending requests is the example policy's limit.
	for i := 0; i < 5; i++ {
		e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	}
	_, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-2"}, Duration: time.Hour, Reason: "x"})
	requireErr(t, err, workflow.ErrRejected, policy.ErrTooManyPending)

	// Three active grants is the limit; health is auto-approved.
	for i := 0; i < 3; i++ {
		e.submit("bob", "health", []string{"db-1"}, time.Hour, "")
	}
	_, err = e.svc.Submit(ctx, user("bob"), workflow.Submission{Role: "health", Resources: []string{"db-2"}, Duration: time.Hour, Reason: "x"})
	requireErr(t, err, workflow.ErrRejected, policy.ErrTooManyActive)

	// Once the grants end, bob may ask again.
	e.clock.Advance(time.Hour)
	e.submit("bob", "health", []string{"db-2"}, time.Hour, "")
}

func TestAutoApprovedRoleStartsTheGrantAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now()
	r := e.submit("alice", "health", []string{"db-1", "db-2"}, 30*time.Minute, "")
	if r.State != store.Approved || !r.NotBefore.Equal(now) || !r.NotAfter.Equal(now.Add(30*time.Minute)) {
		t.Fatalf("got %s %v..%v, want approved for 30m from now", r.State, r.NotBefore, r.NotAfter)
	}
	if diff := cmp.Diff([]string{"request.submitted", "request.approved"}, e.actions(r.ID)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestCustomerResourceAddsItsApproverToAnAutoRole(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"customer-db"}, 30*time.Minute, "")
	if r.State != store.Pending {
		t.Fatalf("health on customer-db is %s, want pending (Customer Lockbox)", r.State)
	}
	v, err := e.svc.Get(ctx, user("grace"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1 from group contoso-admins"}, v.Outstanding); diff != "" {
		t.Fatalf("outstanding (-want +got):\n%s", diff)
	}
	if got := e.approve("grace", r.ID); got.State != store.Approved {
		t.Fatalf("after the tenant admin approved: %s", got.State)
	}
}

func TestOnlyPeopleSubmit(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.Submit(ctx, workflow.BastionActor("bastion-1"), workflow.Submission{Role: "health", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"})
	requireErr(t, err, workflow.ErrForbidden)
}
