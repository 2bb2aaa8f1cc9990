package workflow_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// daveUntilToday: dave may ask for reader on db-1 through the env's first
// day (2026-11-23, inclusive).
const daveUntilToday = `teams:
  - name: db-temp
    members:
      - {name: dave, until: 2026-11-23}
    managers: [carol]
    eligible:
      - roles: [reader]
        resources: [db-1]
`

// A date that passes between submission and approval, or between approval
// and issuance, refuses the approval or the certificate with the date, as
// a policy reload would; both refusals are audited.
func TestEligibilityEndingAfterSubmissionRefusesApprovalAndIssuance(t *testing.T) {
	e := newEnv(t, nil)
	e.holder.Set(policyWith(t, daveUntilToday))

	e.clock.Advance(13*time.Hour + 30*time.Minute) // 23:30 on the last day
	pending := e.submit("dave", "reader", []string{"db-1"}, time.Hour, "")
	granted := e.submit("dave", "reader", []string{"db-1"}, time.Hour, "")
	e.approve("carol", granted.ID)

	e.clock.Advance(30 * time.Minute) // 2026-11-24T00:00:00Z: the membership has ended
	_, err := e.svc.Approve(ctx, user("carol"), pending.ID, "ok")
	requireErr(t, err, policy.ErrEligibilityEnded, policy.ErrOutOfScope)
	if want := "dave's eligibility for reader on db-1 ended on 2026-11-23"; !strings.Contains(err.Error(), want) {
		t.Fatalf("approval refused with %q, want it to say %q", err, want)
	}
	if !slices.Contains(e.actions(pending.ID), "approval.refused") {
		t.Fatalf("the refused approval is not audited: %v", e.actions(pending.ID))
	}

	_, err = e.svc.IssueUserCert(ctx, user("dave"), granted.ID, newPublicKey(t), workflow.StepUp{})
	requireErr(t, err, policy.ErrEligibilityEnded)
	if !slices.Contains(e.actions(granted.ID), "cert.refused") {
		t.Fatalf("the refused certificate is not audited: %v", e.actions(granted.ID))
	}

	_, err = e.svc.Submit(ctx, user("dave"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "again"})
	requireErr(t, err, workflow.ErrRejected, policy.ErrEligibilityEnded)
}
