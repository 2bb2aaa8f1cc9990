package workflow_test

import (
	"slices"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Role stepup asks for a fresh TOTP code to fetch its certificate: none
// is refused (and spends nothing), a wrong one is refused, audited and
// counted, the right one works once.
func TestStepUpRoleNeedsAFreshCodeForItsCertificate(t *testing.T) {
	e := newWindowEnv(t)
	code := e.enroll("alice")
	r := e.submit("alice", "stepup", []string{"db-1"}, time.Hour, "")
	e.approveWith("carol", r.ID, workflow.ApprovalInput{StepUp: workflow.StepUp{Code: e.enroll("carol")(), Addr: office}}) //nolint:errcheck // checked below
	if e.request(r.ID).State != store.Approved {
		t.Fatal("not approved")
	}
	e.clock.Advance(30 * time.Second)
	issue := func(c string) error {
		_, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{Code: c, Addr: office})
		return err
	}
	requireErr(t, issue(""), workflow.ErrStepUpRequired)
	requireErr(t, issue("000000"), workflow.ErrMFACode)
	good := code()
	if err := issue(good); err != nil {
		t.Fatalf("a fresh code: %v", err)
	}
	requireErr(t, issue(good), workflow.ErrMFACode) // a code works once
	acts := e.actions(r.ID)
	if n := countOf(acts, "cert.refused"); n != 3 || countOf(acts, "usercert.issued") != 1 {
		t.Fatalf("audit %v: want 3 refusals and 1 issue", acts)
	}
	// The good code cleared alice's failures; the reused one counted one.
	// Four more make five at this address, and she is throttled there.
	for range 4 {
		requireErr(t, issue("000000"), workflow.ErrMFACode)
	}
	requireErr(t, issue(code()), workflow.ErrThrottled)
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// The approver of a stepup request gives a fresh code too; it is checked
// and spent in the approval's own transaction.
func TestStepUpRoleNeedsAFreshCodeToApprove(t *testing.T) {
	e := newWindowEnv(t)
	carol := e.enroll("carol")
	r := e.submit("alice", "stepup", []string{"db-1"}, time.Hour, "")
	_, err := e.approveWith("carol", r.ID, workflow.ApprovalInput{})
	requireErr(t, err, workflow.ErrStepUpRequired)
	_, err = e.approveWith("carol", r.ID, workflow.ApprovalInput{StepUp: workflow.StepUp{Code: "123456", Addr: office}})
	requireErr(t, err, workflow.ErrMFACode)
	if got := e.request(r.ID); got.State != store.Pending || len(e.approvals(r.ID)) != 0 {
		t.Fatalf("a refused step-up recorded an approval: %s", got.State)
	}
	got, err := e.approveWith("carol", r.ID, workflow.ApprovalInput{StepUp: workflow.StepUp{Code: carol(), Addr: office}})
	if err != nil || got.State != store.Approved {
		t.Fatalf("with a fresh code: %v", err)
	}
	if acts := e.actions(r.ID); countOf(acts, "approval.refused") != 2 || !slices.Contains(acts, "request.approved") {
		t.Fatalf("audit %v", acts)
	}
	// The code carol used is spent: the bastion does not take it again.
	requireErr(t, e.svc.CheckMFA(ctx, workflow.BastionActor("bastion-1"), "carol", carol(), office), workflow.ErrMFACode)
}

// Roles without step_up_mfa ask for no code.
func TestRolesWithoutStepUpAskForNoCode(t *testing.T) {
	e := newWindowEnv(t)
	r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	e.approve("carol", r.ID)
	if _, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{}); err != nil {
		t.Fatal(err)
	}
}
