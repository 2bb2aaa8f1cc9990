package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Scheduled windows, escalations and shortened grants.

func testWindowFieldsRoundTrip(t *testing.T, s store.Store) {
	r := newRequest("req-window", "alice")
	r.Start, r.EscalateAt = t0.Add(8*time.Hour), t0.Add(30*time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(r) })
	if diff := cmp.Diff(r, getRequest(t, s, r.ID)); diff != "" {
		t.Fatalf("created request changed in the store (-want +got):\n%s", diff)
	}
	r.EscalatedAt, r.EscalateAt = t0.Add(30*time.Minute+time.Second), time.Time{}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateRequest(r, store.Pending) })
	if diff := cmp.Diff(r, getRequest(t, s, r.ID)); diff != "" {
		t.Fatalf("updated request changed in the store (-want +got):\n%s", diff)
	}
}

func testApprovalDurationRoundTrips(t *testing.T, s store.Store) {
	want := []store.Approval{
		{RequestID: "req-1", Approver: "carol", Reason: "ok", At: t0, Duration: 30 * time.Minute},
		{RequestID: "req-1", Approver: "frank", At: t0.Add(time.Second)},
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, a := range want {
			if err := tx.AddApproval(a); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Approvals("req-1")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("approvals (-want +got):\n%s", diff)
		}
		return err
	})
}

func testEscalateBeforeSelectsDueEscalations(t *testing.T, s store.Store) {
	mk := func(id string, st store.State, at time.Time) *store.Request {
		r := newRequest(id, "alice")
		r.State, r.EscalateAt = st, at
		return r
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, r := range []*store.Request{
			mk("due", store.Pending, t0),
			mk("due-earlier", store.Pending, t0.Add(-time.Hour)),
			mk("later", store.Pending, t0.Add(time.Second)),
			mk("none", store.Pending, time.Time{}),
			mk("decided", store.Approved, t0),
		} {
			if err := tx.CreateRequest(r); err != nil {
				return err
			}
		}
		return nil
	})
	var got []string
	mustView(t, s, func(tx store.Tx) error {
		rs, err := tx.Requests(store.RequestFilter{EscalateBefore: t0})
		for _, r := range rs {
			got = append(got, r.ID)
		}
		return err
	})
	if diff := cmp.Diff([]string{"due", "due-earlier"}, got); diff != "" {
		t.Fatalf("due escalations (-want +got):\n%s", diff)
	}
}
