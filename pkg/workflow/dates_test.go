package workflow_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
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

// The sweeper records a dated membership that ends within the notice time
// as eligibility.ending, naming the person and the managers to tell, once:
// not before the notice time, not again on the next sweep, not again on
// another replica.
func TestSweepRecordsAnEndingEligibilityOnceAtItsNoticeTime(t *testing.T) {
	onEngines(t, func(t *testing.T, e *env, _ *workflow.Service) {
		e.holder.Set(policyWith(t, daveUntilToday)) // ends 2026-11-24T00:00:00Z, 14h after the env's start
		notice := func(c *workflow.Config) { c.EligibilityNotice = 14 * time.Hour }
		svc := e.serviceWith(e.st, notice)
		replica := e.serviceWith(e.st, notice)
		endings := func() []audit.Record {
			var out []audit.Record
			for _, r := range e.auditRows() {
				if r.Action == "eligibility.ending" {
					out = append(out, r)
				}
			}
			return out
		}
		e.clock.Advance(-time.Nanosecond)
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got := endings(); len(got) != 0 {
			t.Fatalf("a moment before the notice time: %d eligibility.ending rows, want none", len(got))
		}
		e.clock.Advance(time.Nanosecond)
		for _, s := range []*workflow.Service{svc, svc, replica} {
			if _, err := s.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := endings()
		if len(got) != 1 {
			t.Fatalf("after three sweeps at the notice time: %d eligibility.ending rows, want 1", len(got))
		}
		var detail struct {
			Member   string   `json:"member"`
			People   []string `json:"people"`
			Managers []string `json:"managers"`
			Ends     string   `json:"ends"`
		}
		if err := json.Unmarshal(got[0].Detail, &detail); err != nil {
			t.Fatal(err)
		}
		if got[0].Subject != "team:db-temp/dave" || detail.Member != "dave" || !slices.Equal(detail.People, []string{"dave"}) ||
			!slices.Equal(detail.Managers, []string{"carol"}) || detail.Ends != "on 2026-11-23" {
			t.Fatalf("eligibility.ending %s %s, want dave's membership of db-temp ending on 2026-11-23, to tell dave and carol", got[0].Subject, got[0].Detail)
		}
		// Extended: a new end is a new notice, when it comes near.
		e.holder.Set(policyWith(t, strings.Replace(daveUntilToday, "until: 2026-11-23", "until: 2026-11-24", 1)))
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(endings()); n != 1 {
			t.Fatalf("an end a day further: %d rows at once, want still 1", n)
		}
		e.clock.Advance(24 * time.Hour)
		if _, err := replica.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(endings()); n != 2 {
			t.Fatalf("the extended end within the notice time: %d rows, want 2", n)
		}
	})
}
