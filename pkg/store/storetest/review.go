package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Eligibility notices and access reviews.

func testNoticeIsGivenOnce(t *testing.T, s store.Store) {
	key := strings.Repeat("ab", 32)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.AddNotice(key, t0) })
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.AddNotice(key, t0.Add(time.Minute)) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("the same notice again: %v, want ErrDuplicate", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.AddNotice(strings.Repeat("cd", 32), t0) })
}

// Usage splits a request's resources, takes the latest request that was
// not rejected and the latest session, per user, role and resource.
func testUsageSaysWhenLastRequestedAndUsed(t *testing.T, s store.Store) {
	old := newRequest("req-old", "alice") // reader on db-1, db-2 at t0
	newer := newRequest("req-new", "alice")
	newer.Resources, newer.CreatedAt, newer.State = []string{"db-1"}, t0.Add(time.Hour), store.Approved
	rejected := newRequest("req-rejected", "alice")
	rejected.Resources, rejected.CreatedAt, rejected.State = []string{"db-2"}, t0.Add(2*time.Hour), store.Rejected
	bob := newRequest("req-bob", "bob")
	bob.Role = "admin"
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, r := range []*store.Request{old, newer, rejected, bob} {
			if err := tx.CreateRequest(r); err != nil {
				return err
			}
		}
		for _, x := range []*store.Session{
			{ID: "s1", User: "alice", RequestID: "req-new", Resource: "db-1", Role: "reader", StartedAt: t0.Add(90 * time.Minute)},
			{ID: "s2", User: "alice", RequestID: "req-new", Resource: "db-1", Role: "reader", StartedAt: t0.Add(100 * time.Minute)},
			{ID: "s3", User: "carol", RequestID: "req-x", Resource: "web-1", Role: "health", StartedAt: t0.Add(time.Minute)},
		} {
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		return nil
	})
	var got []store.Usage
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.Usage(); return err })
	slices.SortFunc(got, func(a, b store.Usage) int {
		return strings.Compare(a.User+" "+a.Role+" "+a.Resource, b.User+" "+b.Role+" "+b.Resource)
	})
	want := []store.Usage{
		{User: "alice", Role: "reader", Resource: "db-1", LastRequested: t0.Add(time.Hour), LastUsed: t0.Add(100 * time.Minute)},
		{User: "alice", Role: "reader", Resource: "db-2", LastRequested: t0},
		{User: "bob", Role: "admin", Resource: "db-1", LastRequested: t0},
		{User: "bob", Role: "admin", Resource: "db-2", LastRequested: t0},
		{User: "carol", Role: "health", Resource: "web-1", LastUsed: t0.Add(time.Minute)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("usage (-want +got):\n%s", diff)
	}
}

func testReviewDecisionReplacesThePreviousOne(t *testing.T, s store.Store) {
	first := store.ReviewDecision{User: "alice", Team: "storage", Decision: "keep", Reason: "on call", Reviewer: "carol", At: t0}
	other := store.ReviewDecision{User: "bob", Team: "storage", Decision: "remove", Reason: "moved teams ✓", Reviewer: "erin", At: t0}
	second := store.ReviewDecision{User: "alice", Team: "storage", Decision: "remove", Reason: "left on-call", Reviewer: "erin", At: t0.Add(time.Hour)}
	for _, d := range []store.ReviewDecision{first, other, second} {
		mustUpdate(t, s, func(tx store.Tx) error { return tx.PutReviewDecision(d) })
	}
	var got []store.ReviewDecision
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.ReviewDecisions(); return err })
	if diff := cmp.Diff([]store.ReviewDecision{second, other}, got); diff != "" {
		t.Fatalf("standing decisions (-want +got):\n%s", diff)
	}
}
