package workflow_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func (e *env) approveWith(who, id string, in workflow.ApprovalInput) (*store.Request, error) {
	return e.svc.ApproveWith(ctx, user(who), id, in)
}

// auditDetail returns the detail of the last row of action about id.
func (e *env) auditDetail(id, action string) map[string]any {
	e.t.Helper()
	var d map[string]any
	for _, r := range e.auditRows() {
		if r.Action == action && r.Subject == id {
			d = nil
			if err := json.Unmarshal(r.Detail, &d); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	if d == nil {
		e.t.Fatalf("no %s row about %s", action, id)
	}
	return d
}

// admin needs carol and frank. carol allows 30m, frank 45m, alice asked
// for 1h: the grant lasts 30m, the shortest any approver gave.
func TestGrantLastsTheShortestDurationAnyApproverGave(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	if _, err := e.approveWith("carol", r.ID, workflow.ApprovalInput{Reason: "half an hour is enough", Duration: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if d := e.auditDetail(r.ID, "approval.recorded"); d["duration"] != "30m0s" {
		t.Fatalf("approval.recorded says duration %v, want 30m0s", d["duration"])
	}
	v, err := e.svc.Get(ctx, user("alice"), r.ID)
	if err != nil || v.GrantDuration != 30*time.Minute || v.Approvals[0].Duration != 30*time.Minute {
		t.Fatalf("the request shows grant duration %v and approval %+v (%v), want 30m", v.GrantDuration, v.Approvals, err)
	}
	e.clock.Advance(time.Minute)
	got, err := e.approveWith("frank", r.ID, workflow.ApprovalInput{Duration: 45 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if got.State != store.Approved || !got.NotBefore.Equal(now) || got.NotAfter.Sub(got.NotBefore) != 30*time.Minute {
		t.Fatalf("grant %s %v..%v, want approved for 30m from now", got.State, got.NotBefore, got.NotAfter)
	}
	d := e.auditDetail(r.ID, "request.approved")
	if d["duration"] != "30m0s" || d["requested"] != "1h0m0s" {
		t.Fatalf("request.approved says %v, want duration 30m0s and requested 1h0m0s", d)
	}
	cert, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
	if err != nil {
		t.Fatal(err)
	}
	if end := time.Unix(int64(cert.ValidBefore), 0); !end.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("certificate valid until %v, want %v", end, now.Add(30*time.Minute))
	}
}

// An approver without a duration leaves the grant as asked.
func TestApprovalWithoutDurationKeepsTheRequestedOne(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "reader", []string{"db-1"}, 2*time.Hour, "")
	got := e.approve("carol", r.ID)
	if got.NotAfter.Sub(got.NotBefore) != 2*time.Hour {
		t.Fatalf("window %v, want the 2h asked", got.NotAfter.Sub(got.NotBefore))
	}
}

func TestApprovalDurationOverTheRequestOrNotPositiveIsRefused(t *testing.T) {
	for _, d := range []time.Duration{time.Hour + time.Second, -time.Minute} {
		t.Run(d.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
			_, err := e.approveWith("carol", r.ID, workflow.ApprovalInput{Duration: d})
			requireErr(t, err, workflow.ErrGrantDuration)
			if got := e.request(r.ID); got.State != store.Pending || len(e.approvals(r.ID)) != 0 {
				t.Fatalf("refused approval recorded something: %s, %d approvals", got.State, len(e.approvals(r.ID)))
			}
			if acts := e.actions(r.ID); acts[len(acts)-1] != "approval.refused" {
				t.Fatalf("not audited: %v", acts)
			}
		})
	}
}

// A window asked to start 8h after submission is decided now, opens at
// the start and lasts the duration from there. Before the start no
// certificate, hop certificate or session; the refusal says when it
// opens. At the start the certificate is valid from the start (less the
// skew allowance).
func TestScheduledWindowOpensAtItsStart(t *testing.T) {
	e := newEnv(t, nil)
	r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "planned maintenance", Start: workflow.Start{In: 8 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	start := r.CreatedAt.Add(8 * time.Hour)
	if !r.Start.Equal(start) {
		t.Fatalf("start %v, want %v", r.Start, start)
	}
	e.clock.Advance(10 * time.Minute)
	got := e.approve("carol", r.ID)
	if got.State != store.Approved || !got.NotBefore.Equal(start) || !got.NotAfter.Equal(start.Add(time.Hour)) {
		t.Fatalf("grant %s %v..%v, want approved for %v..%v", got.State, got.NotBefore, got.NotAfter, start, start.Add(time.Hour))
	}
	opens := start.Format(time.RFC3339)
	e.clock.Advance(8*time.Hour - 10*time.Minute - time.Second) // a second before the start
	_, err = e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
	requireErr(t, err, workflow.ErrNotYetOpen)
	if !strings.Contains(err.Error(), "the window opens at "+opens) {
		t.Fatalf("refusal %q does not say when the window opens", err)
	}
	bastion := workflow.BastionActor("bastion-1")
	_, err = e.svc.IssueHopCert(ctx, bastion, r.ID, "db-1", newPublicKey(t))
	requireErr(t, err, workflow.ErrNotYetOpen)
	_, err = e.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: r.ID, Resource: "db-1", User: "alice", ClientAddr: "192.0.2.1", Command: "uptime"})
	requireErr(t, err, workflow.ErrNotYetOpen)
	if !strings.Contains(err.Error(), "the window opens at "+opens) {
		t.Fatalf("session refusal %q does not say when the window opens", err)
	}

	e.clock.Advance(time.Second) // at the start
	cert, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
	if err != nil {
		t.Fatalf("at the start: %v", err)
	}
	validAfter, validBefore := time.Unix(int64(cert.ValidAfter), 0).UTC(), time.Unix(int64(cert.ValidBefore), 0).UTC()
	if !validAfter.Equal(start.Add(-time.Minute)) || !validBefore.Equal(start.Add(time.Hour)) {
		t.Fatalf("certificate valid %v..%v, want %v..%v", validAfter, validBefore, start.Add(-time.Minute), start.Add(time.Hour))
	}
	if _, err := e.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: r.ID, Resource: "db-1", User: "alice", ClientAddr: "192.0.2.1", Command: "uptime"}); err != nil {
		t.Fatalf("session at the start: %v", err)
	}
}

// Submitted with an absolute start; approved after the start has passed,
// the window runs from the approval to the start plus the duration.
func TestScheduledWindowDecidedAfterItsStartEndsAsScheduled(t *testing.T) {
	e := newEnv(t, nil)
	start := e.clock.Now().Add(10 * time.Minute)
	r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "planned maintenance", Start: workflow.Start{At: start}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Minute)
	got := e.approve("carol", r.ID)
	if !got.NotBefore.Equal(e.clock.Now()) || !got.NotAfter.Equal(start.Add(time.Hour)) {
		t.Fatalf("window %v..%v, want from now to %v", got.NotBefore, got.NotAfter, start.Add(time.Hour))
	}
}

// The pending deadline still applies to a scheduled request; and a
// request is not left waiting past the end of its own window.
func TestScheduledRequestIsDecidedWithinItsPendingDeadline(t *testing.T) {
	e := newEnv(t, nil) // pending timeout 1h
	r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "planned maintenance", Start: workflow.Start{In: 8 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if want := r.CreatedAt.Add(time.Hour); !r.PendingUntil.Equal(want) {
		t.Fatalf("pending until %v, want %v", r.PendingUntil, want)
	}
	soon, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: 10 * time.Minute,
		Reason: "planned maintenance", Start: workflow.Start{In: 5 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if want := soon.CreatedAt.Add(15 * time.Minute); !soon.PendingUntil.Equal(want) {
		t.Fatalf("pending until %v, want the window's end %v", soon.PendingUntil, want)
	}
}

func TestScheduledStartOutsideItsLimitsIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now()
	for _, tc := range []struct {
		name  string
		start workflow.Start
	}{
		{"in the past beyond the allowance", workflow.Start{At: now.Add(-workflow.StartAllowance - time.Second)}},
		{"further ahead than the maximum", workflow.Start{In: workflow.MaxStartAhead + time.Second}},
		{"negative relative start", workflow.Start{In: -time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
				Reason: "planned maintenance", Start: tc.start})
			requireErr(t, err, workflow.ErrRejected, workflow.ErrBadStart)
			if r == nil || r.State != store.Rejected {
				t.Fatalf("want a stored rejection, got %+v", r)
			}
		})
	}
	// A start within the allowance counts as now: the window starts at
	// approval, as without --start.
	r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "planned maintenance", Start: workflow.Start{At: now.Add(-time.Minute)}})
	if err != nil || !r.Start.IsZero() {
		t.Fatalf("start a minute ago: %v, stored start %v, want none", err, r.Start)
	}
}

// An auto-approved role with a start is approved at once for the window.
func TestAutoApprovedScheduledWindow(t *testing.T) {
	e := newEnv(t, nil)
	r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "health", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "checks", Start: workflow.Start{In: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	start := r.CreatedAt.Add(time.Hour)
	if r.State != store.Approved || !r.NotBefore.Equal(start) || !r.NotAfter.Equal(start.Add(time.Hour)) {
		t.Fatalf("%s %v..%v, want approved for %v..", r.State, r.NotBefore, r.NotAfter, start)
	}
}

// A scheduled grant counts against max_active_grants_per_user from its
// approval, not from its start: three scheduled grants stop a fourth.
func TestScheduledGrantCountsAgainstTheActiveLimitFromApproval(t *testing.T) {
	e := newEnv(t, nil)
	var ids []string
	for range 4 {
		r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
			Reason: "planned maintenance", Start: workflow.Start{In: 24 * time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, id := range ids[:3] {
		e.approve("carol", id)
	}
	_, err := e.svc.Approve(ctx, user("carol"), ids[3], "ok")
	requireErr(t, err, policy.ErrTooManyActive)
}

// A scheduled grant can be revoked before it opens.
func TestScheduledGrantCanBeRevokedBeforeItOpens(t *testing.T) {
	e := newEnv(t, nil)
	r, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "planned maintenance", Start: workflow.Start{In: 2 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	e.approve("carol", r.ID)
	got, err := e.svc.Revoke(ctx, user("carol"), r.ID, "plans changed")
	if err != nil || got.State != store.Revoked {
		t.Fatalf("revoking a scheduled grant: %v", err)
	}
}

func TestParseStart(t *testing.T) {
	at := time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want workflow.Start
		bad  bool
	}{
		{"", workflow.Start{}, false},
		{"2026-12-02T02:00:00Z", workflow.Start{At: at}, false},
		{"2026-12-02T03:00:00+01:00", workflow.Start{At: at}, false},
		{"+8h", workflow.Start{In: 8 * time.Hour}, false},
		{"+90m", workflow.Start{In: 90 * time.Minute}, false},
		{"8h", workflow.Start{}, true},
		{"+0s", workflow.Start{}, true},
		{"+-1h", workflow.Start{}, true},
		{"tomorrow", workflow.Start{}, true},
		{"2026-12-02", workflow.Start{}, true},
		{"+", workflow.Start{}, true},
	} {
		got, err := workflow.ParseStart(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("ParseStart(%q) error %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if tc.bad {
			requireErr(t, err, workflow.ErrBadInput)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseStart(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func FuzzParseStart(f *testing.F) {
	for _, s := range []string{"", "+8h", "2026-12-02T02:00:00Z", "+1h30m", "+9223372036s", "2026-12-02T02:00:00.999999999+14:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := workflow.ParseStart(s)
		if err != nil {
			return
		}
		if st.In < 0 || (st.In != 0 && !st.At.IsZero()) || (s != "" && st.IsZero()) {
			t.Fatalf("ParseStart(%q) = %+v", s, st)
		}
		if !st.At.IsZero() && st.At.Location() != time.UTC {
			t.Fatalf("ParseStart(%q) kept a zone: %v", s, st.At)
		}
	})
}
