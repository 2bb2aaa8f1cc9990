package workflow_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/review"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// addSession stores a session as the bastion would have, at the clock's
// time.
func (e *env) addSession(id, who, role, resource string) {
	e.t.Helper()
	s := &store.Session{ID: id, User: who, RequestID: "req-x", Resource: resource, Role: role, Bastion: "bastion-1",
		ClientAddr: "127.0.0.1:40000", StartedAt: e.clock.Now()}
	if err := e.st.Update(ctx, func(tx store.Tx) error { return tx.CreateSession(s) }); err != nil {
		e.t.Fatal(err)
	}
}

func findEntry(t *testing.T, r *review.Report, team, who string) review.Entry {
	t.Helper()
	for _, e := range r.Entries {
		if e.Team == team && e.User == who {
			return e
		}
	}
	t.Fatalf("the review has no entry for %s in %s", who, team)
	return review.Entry{}
}

// A review says when each membership was last requested and used, and
// flags it unused once its last session is older than the period: at the
// period's edge it is still used, a moment later it is not.
func TestReviewFlagsMembershipsUnusedForThePeriod(t *testing.T) {
	e := newEnv(t, nil)
	e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	e.addSession("sess-alice", "alice", "reader", "db-1")
	used := e.clock.Now()
	const period = 30 * 24 * time.Hour
	e.clock.Advance(period)
	r, err := e.svc.Review(ctx, user("carol"), workflow.ReviewFilter{Team: "storage", Unused: period})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := findEntry(t, r, "storage", "alice"), findEntry(t, r, "storage", "bob")
	if alice.Unused || !alice.LastUsed.Equal(used) || !alice.LastRequested.Equal(used) {
		t.Fatalf("alice at the period's edge: unused %v, last used %v, last requested %v; want used at %v", alice.Unused, alice.LastUsed, alice.LastRequested, used)
	}
	if !bob.Unused || !bob.LastUsed.IsZero() {
		t.Fatalf("bob never used his membership: unused %v, last used %v", bob.Unused, bob.LastUsed)
	}
	e.clock.Advance(time.Nanosecond)
	r, err = e.svc.Review(ctx, user("carol"), workflow.ReviewFilter{Team: "storage", Unused: period, OnlyUnused: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Entries) != 2 {
		t.Fatalf("a moment past the period both memberships are unused; got %d entries", len(r.Entries))
	}
}

// Only a manager of the team or an auditor records keep or remove, never
// on their own membership; each decision and each refusal is audited, and
// a later decision replaces the standing one.
func TestReviewDecisionsAreAuditedAndNeverAboutOneself(t *testing.T) {
	onEngines(t, func(t *testing.T, e *env, replica *workflow.Service) {
		d, err := e.svc.DecideReview(ctx, user("carol"), workflow.ReviewDecision{Team: "storage", User: "bob", Decision: review.Remove, Reason: "moved to web"})
		if err != nil || d.Reviewer != "carol" || !d.At.Equal(e.clock.Now()) {
			t.Fatalf("carol's decision: %+v, %v", d, err)
		}
		_, err = replica.DecideReview(ctx, user("bob"), workflow.ReviewDecision{Team: "storage", User: "alice", Decision: review.Remove, Reason: "x"})
		requireErr(t, err, workflow.ErrForbidden, review.ErrNotReviewer)
		_, err = e.svc.DecideReview(ctx, user("carol"), workflow.ReviewDecision{Team: "storage", User: "dave", Decision: review.Remove, Reason: "x"})
		requireErr(t, err, workflow.ErrBadInput, review.ErrNoMembership)
		e.changePolicy(func(p *policy.Policy) { p.Teams["web"].Members = append(p.Teams["web"].Members, "erin") })
		_, err = e.svc.DecideReview(ctx, user("erin"), workflow.ReviewDecision{Team: "web", User: "erin", Decision: review.Keep, Reason: "me"})
		requireErr(t, err, workflow.ErrForbidden, review.ErrSelfReview)
		_, err = e.svc.DecideReview(ctx, user("carol"), workflow.ReviewDecision{Team: "storage", User: "alice", Decision: "maybe", Reason: "x"})
		requireErr(t, err, workflow.ErrBadInput, review.ErrBadDecision)
		e.clock.Advance(time.Minute)
		if _, err := replica.DecideReview(ctx, user("frank"), workflow.ReviewDecision{Team: "storage", User: "bob", Decision: review.Keep, Reason: "stays on call"}); err != nil {
			t.Fatalf("frank, an auditor: %v", err)
		}
		var decided, refused []string
		for _, r := range e.auditRows() {
			switch r.Action {
			case "review.decided":
				var d struct{ Decision, Reason string }
				if err := json.Unmarshal(r.Detail, &d); err != nil {
					t.Fatal(err)
				}
				decided = append(decided, r.Actor+" "+r.Subject+" "+d.Decision+" "+d.Reason)
			case "review.refused":
				refused = append(refused, r.Actor+" "+r.Subject)
			}
		}
		if want := []string{"user:carol team:storage/bob remove moved to web", "user:frank team:storage/bob keep stays on call"}; !slices.Equal(decided, want) {
			t.Fatalf("review.decided rows %q, want %q", decided, want)
		}
		if want := []string{"user:bob team:storage/alice", "user:carol team:storage/dave", "user:erin team:web/erin", "user:carol team:storage/alice"}; !slices.Equal(refused, want) {
			t.Fatalf("review.refused rows %q, want %q", refused, want)
		}
		r, err := e.svc.Review(ctx, user("carol"), workflow.ReviewFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if bob := findEntry(t, r, "storage", "bob"); bob.Decision == nil || bob.Decision.Decision != review.Keep || bob.Decision.Reviewer != "frank" {
			t.Fatalf("bob's standing decision %+v, want frank's keep", bob.Decision)
		}
	})
}

// Reviews are for managers (their teams) and auditors (every team); the
// export's patch removes what is marked remove, and a review lists the
// dated eligibilities that end soon.
func TestReviewScopeExportAndEndings(t *testing.T) {
	e := newEnv(t, nil)
	e.holder.Set(policyWith(t, daveUntilToday))
	own, err := e.svc.Review(ctx, user("alice"), workflow.ReviewFilter{})
	if err != nil || len(own.Entries) != 0 || len(own.Endings) != 0 {
		t.Fatalf("alice, neither manager nor auditor, sees no memberships and no endings of others: %+v, %v", own, err)
	}
	dave, err := e.svc.Review(ctx, user("dave"), workflow.ReviewFilter{})
	if err != nil || len(dave.Entries) != 0 || len(dave.Endings) != 1 || dave.Endings[0].Member != "dave" {
		t.Fatalf("dave sees his own ending only: %+v, %v", dave, err)
	}
	requireErr(t, errOf(e.svc.Review(ctx, user("alice"), workflow.ReviewFilter{Team: "storage"})), workflow.ErrForbidden)
	requireErr(t, errOf(e.svc.ReviewExport(ctx, user("alice"), "")), workflow.ErrForbidden)
	requireErr(t, errOf(e.svc.Review(ctx, user("carol"), workflow.ReviewFilter{Team: "nope"})), workflow.ErrBadInput)
	r, err := e.svc.Review(ctx, user("carol"), workflow.ReviewFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Endings) != 1 || r.Endings[0].Member != "dave" || r.Endings[0].Team != "db-temp" {
		t.Fatalf("endings %+v, want dave's db-temp membership (ends within the default notice time)", r.Endings)
	}
	if _, err := e.svc.DecideReview(ctx, user("carol"), workflow.ReviewDecision{Team: "db-temp", User: "dave", Decision: review.Remove, Reason: "project over"}); err != nil {
		t.Fatal(err)
	}
	x, err := e.svc.ReviewExport(ctx, user("carol"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(x.Patch, "--- a/zz-window.yaml") || !strings.Contains(x.Patch, "\n-      - {name: dave, until: 2026-11-23}\n") {
		t.Fatalf("patch:\n%s", x.Patch)
	}
}

func errOf[T any](_ T, err error) error { return err }
