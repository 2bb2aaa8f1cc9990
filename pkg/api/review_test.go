package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// withReviews serves access reviews on s's workflow.
func withReviews(t testing.TB, s *server) {
	t.Helper()
	s.cfg.Reviews = s.wf
	s.url = s.replica(t)
}

// Reviews through the API: a manager decides on their team, a member may
// not, nobody about themselves; the export carries the patch; each
// refusal has its code.
func TestAccessReviewThroughTheAPI(t *testing.T) {
	s := newServer(t)
	withReviews(t, s)
	carol, bob, alice := s.client(t, "user:carol"), s.client(t, "user:bob"), s.client(t, "user:alice")
	rev, err := carol.Review(ctx, "storage", 0)
	if err != nil || len(rev.Entries) != 2 || rev.Unused != (30*24*time.Hour).String() || len(rev.Entries[0].Grants) != 9 {
		t.Fatalf("carol's review of storage: %v %+v", err, rev)
	}
	if own, err := alice.Review(ctx, "", 0); err != nil || len(own.Entries) != 0 {
		t.Fatalf("alice, neither manager nor auditor, sees no memberships: %v %+v", err, own)
	}
	_, err = alice.Review(ctx, "storage", 0)
	wantCode(t, err, 403, "forbidden")
	_, err = bob.DecideReview(ctx, wire.ReviewDecide{Team: "storage", User: "alice", Decision: "remove", Reason: "x"})
	wantCode(t, err, 403, "not_a_reviewer")
	_, err = carol.DecideReview(ctx, wire.ReviewDecide{Team: "storage", User: "alice", Decision: "drop", Reason: "x"})
	wantCode(t, err, 422, "bad_decision")
	_, err = carol.DecideReview(ctx, wire.ReviewDecide{Team: "storage", User: "dave", Decision: "remove", Reason: "x"})
	wantCode(t, err, 404, "no_membership")
	_, err = s.client(t, "user:erin").DecideReview(ctx, wire.ReviewDecide{Team: "web", User: "dave", Decision: "keep", Reason: "on call"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := carol.DecideReview(ctx, wire.ReviewDecide{Team: "storage", User: "bob", Decision: "remove", Reason: "moved to web"})
	if err != nil || v.Reviewer != "carol" || v.Decision != "remove" {
		t.Fatalf("carol's decision: %v %+v", err, v)
	}
	x, err := carol.ReviewExport(ctx, "storage")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Decisions) != 1 || len(x.Removed) != 1 || x.Removed[0] != (wire.ReviewMembership{Team: "storage", User: "bob"}) ||
		!strings.Contains(x.Patch, "+    members: [alice]\n") {
		t.Fatalf("export of storage: %+v", x)
	}
	all, err := carol.ReviewExport(ctx, "")
	if err != nil || len(all.Decisions) != 2 {
		t.Fatalf("carol, an auditor, exports every team's decisions: %v %+v", err, all)
	}
}

// A request outside a dated membership is refused with its own code.
func TestEligibilityEndedHasItsCode(t *testing.T) {
	s := newServer(t)
	p := s.policy.Get()
	p.Teams["storage"].MemberDates = map[string]policy.Dates{"alice": {Until: time.Now().Add(-time.Hour), UntilText: "2026-01-01"}}
	_, err := s.client(t, "user:alice").Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "disk"})
	wantCode(t, err, 403, "eligibility_ended")
}
