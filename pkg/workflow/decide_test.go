package workflow_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func TestAdminNeedsAManagerAndSecurity(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	if r.State != store.Pending {
		t.Fatalf("state %s", r.State)
	}
	e.clock.Advance(time.Minute)
	if got := e.approve("carol", r.ID); got.State != store.Pending {
		t.Fatalf("after the manager alone: %s, want pending", got.State)
	}
	v, err := e.svc.Get(ctx, user("frank"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1 from group security"}, v.Outstanding); diff != "" || !v.CanApprove {
		t.Fatalf("outstanding (-want +got):\n%s; can approve %v", diff, v.CanApprove)
	}
	e.clock.Advance(time.Minute)
	approvedAt := e.clock.Now()
	got := e.approve("frank", r.ID)
	if got.State != store.Approved || !got.NotBefore.Equal(approvedAt) || !got.NotAfter.Equal(approvedAt.Add(time.Hour)) {
		t.Fatalf("got %s %v..%v, want approved for 1h from the last approval", got.State, got.NotBefore, got.NotAfter)
	}
	want := []string{"request.submitted", "approval.recorded", "approval.recorded", "request.approved"}
	if diff := cmp.Diff(want, e.actions(r.ID)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestApprovalRefusals(t *testing.T) {
	tests := []struct {
		name     string
		approver string
		setup    func(e *env, id string)
		want     error
	}{
		{"requester approving their own request", "alice", nil, policy.ErrSelfApproval},
		{"someone in none of the required groups", "dave", nil, policy.ErrNotApprover},
		{"the same approver twice", "carol", func(e *env, id string) { e.approve("carol", id) }, workflow.ErrAlreadyApproved},
		{"a request already denied", "frank", func(e *env, id string) {
			if _, err := e.svc.Deny(ctx, user("carol"), id, "no"); err != nil {
				t.Fatal(err)
			}
		}, workflow.ErrNotPending},
		{"a request past its pending timeout", "carol", func(e *env, id string) { e.clock.Advance(time.Hour) }, workflow.ErrPendingExpired},
		{"a bastion", "", nil, workflow.ErrForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
			if tc.setup != nil {
				tc.setup(e, r.ID)
			}
			actor := user(tc.approver)
			if tc.approver == "" {
				actor = workflow.BastionActor("bastion-1")
			}
			_, err := e.svc.Approve(ctx, actor, r.ID, "looks fine")
			requireErr(t, err, tc.want)
			acts := e.actions(r.ID)
			if acts[len(acts)-1] != "approval.refused" {
				t.Fatalf("refusal not audited last: %v", acts)
			}
			if st := e.request(r.ID).State; st == store.Approved {
				t.Fatalf("refused approval approved the request")
			}
		})
	}
}

func TestPendingRequestsExpire(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	e.clock.Advance(time.Hour - time.Second)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the deadline moved %d (%v)", n, err)
	}
	e.clock.Advance(time.Second)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep at the deadline moved %d (%v), want 1", n, err)
	}
	if got := e.request(r.ID); got.State != store.Expired || got.DecidedBy != "system" {
		t.Fatalf("state %s by %s, want expired by system", got.State, got.DecidedBy)
	}
	if diff := cmp.Diff([]string{"request.submitted", "request.expired"}, e.actions(r.ID)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestGrantsEndWhenTheirWindowEnds(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, 10*time.Minute, "")
	e.clock.Advance(10*time.Minute - time.Second)
	if !e.request(r.ID).Live(e.clock.Now()) {
		t.Fatal("grant not live 1s before its end")
	}
	e.clock.Advance(time.Second)
	if e.request(r.ID).Live(e.clock.Now()) {
		t.Fatal("grant still live at its end")
	}
	if n, err := e.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep moved %d (%v)", n, err)
	}
	if got := e.request(r.ID).State; got != store.Expired {
		t.Fatalf("state %s, want expired", got)
	}
}

func TestDeny(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	_, err := e.svc.Deny(ctx, user("carol"), r.ID, "")
	requireErr(t, err, workflow.ErrBadInput)
	_, err = e.svc.Deny(ctx, user("dave"), r.ID, "not yours")
	requireErr(t, err, workflow.ErrForbidden)
	got, err := e.svc.Deny(ctx, user("carol"), r.ID, "use the runbook")
	if err != nil || got.State != store.Denied || got.Decision != "use the runbook" || got.DecidedBy != "carol" {
		t.Fatalf("deny: %v %+v", err, got)
	}
	// The requester may withdraw their own.
	r2 := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	if _, err := e.svc.Deny(ctx, user("alice"), r2.ID, "withdrawn"); err != nil {
		t.Fatal(err)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	_, err := e.svc.Revoke(ctx, user("dave"), r.ID, "")
	requireErr(t, err, workflow.ErrForbidden)
	got, err := e.svc.Revoke(ctx, user("erin"), r.ID, "incident over") // erin is an auditor (sre)
	if err != nil || got.State != store.Revoked || got.DecidedBy != "erin" {
		t.Fatalf("revoke: %v %+v", err, got)
	}
	_, err = e.svc.Revoke(ctx, user("alice"), r.ID, "")
	requireErr(t, err, workflow.ErrNotLive)
	if diff := cmp.Diff([]string{"request.submitted", "request.approved", "revocation.refused", "grant.revoked", "revocation.refused"}, e.actions(r.ID)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestRequestsAreVisibleOnlyToThoseInvolved(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	for who, visible := range map[string]bool{"alice": true, "carol": true, "erin": true, "dave": false, "grace": false} {
		_, err := e.svc.Get(ctx, user(who), r.ID)
		if visible != (err == nil) {
			t.Errorf("%s: err %v, visible %v", who, err, visible)
		}
		if !visible {
			requireErr(t, err, workflow.ErrNotFound)
		}
		list, err := e.svc.List(ctx, user(who), workflow.ListFilter{})
		if err != nil || (len(list) == 1) != visible {
			t.Errorf("%s lists %d requests (%v)", who, len(list), err)
		}
	}
}

// Racing approvers on replicas that share a MySQL database: the request
// moves to approved exactly once.
func TestRacingApproversOnTwoReplicasMakeOneTransition(t *testing.T) {
	dsn := storetest.MySQLDSN(t)
	open := func() store.Store {
		st, err := sqlstore.OpenMySQL(dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	e := newEnv(t, open())
	replica := e.service(open())
	for round := 0; round < 10; round++ {
		r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, fmt.Sprint("INC-", round))
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i, who := range []string{"carol", "frank", "carol", "frank"} {
			svc := e.svc
			if i%2 == 1 {
				svc = replica
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Approve(ctx, user(who), r.ID, "ok")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, workflow.ErrAlreadyApproved), errors.Is(err, workflow.ErrNotPending):
			default:
				t.Fatalf("approve: %v", err)
			}
		}
		if ok < 2 {
			t.Fatalf("round %d: %d approvals succeeded, want at least 2", round, ok)
		}
		approvedEvents := 0
		for _, a := range e.actions(r.ID) {
			if a == "request.approved" {
				approvedEvents++
			}
		}
		if st := e.request(r.ID).State; st != store.Approved || approvedEvents != 1 {
			t.Fatalf("round %d: state %s with %d approval transitions, want approved once", round, st, approvedEvents)
		}
		if _, err := e.svc.Revoke(ctx, user("alice"), r.ID, "done"); err != nil {
			t.Fatal(err)
		}
	}
}
