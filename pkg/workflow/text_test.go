package workflow_test

import (
	"slices"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// One rule for every free-text field: what a justification may not hold,
// a decision reason (approve, deny, revoke) may not hold either.
func TestDecisionReasonsRefuseWhatJustificationsRefuse(t *testing.T) {
	hidden := map[string]string{
		"C1 control (CSI)":   "ok \u009b2J",
		"C1 control (OSC)":   "ok \u009d52;c;cm0=\u009c",
		"bidi override":      "looks fine \u202edeyned",
		"bidi isolate":       "ok \u2067x",
		"escape sequence":    "ok \x1b[2J",
		"line separator":     "ok\u2028fine",
		"invisible tag text": "ok \U000E0041",
	}
	for name, text := range hidden {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			_, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: text})
			requireErr(t, err, policy.ErrReasonRequired)

			pending := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
			_, err = e.svc.Approve(ctx, user("carol"), pending.ID, text)
			requireErr(t, err, workflow.ErrBadInput)
			_, err = e.svc.Deny(ctx, user("carol"), pending.ID, text)
			requireErr(t, err, workflow.ErrBadInput)
			if st := e.request(pending.ID).State; st != store.Pending {
				t.Fatalf("after refused decisions the request is %s, want pending", st)
			}

			live := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
			_, err = e.svc.Revoke(ctx, user("alice"), live.ID, text)
			requireErr(t, err, workflow.ErrBadInput)
			if st := e.request(live.ID).State; st != store.Approved {
				t.Fatalf("after a refused revocation the grant is %s, want approved", st)
			}
			want := []string{"request.submitted", "approval.refused", "denial.refused"}
			if got := e.actions(pending.ID); !slices.Equal(got, want) {
				t.Fatalf("audit of the pending request: %v, want %v", got, want)
			}
		})
	}
}
