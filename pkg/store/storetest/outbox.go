package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The notification outbox.

func outboxRow(key, endpoint string, created time.Time) *store.OutboxMessage {
	return &store.OutboxMessage{Key: key, Endpoint: endpoint, Kind: "request.pending", Subject: "req-1",
		Body: []byte(`{"Key":"` + key + `"}`), CreatedAt: created}
}

// A row is one per key and endpoint, round-trips, and is queued due at
// its creation.
func testOutboxRowsAreOnePerKeyAndEndpoint(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.EnqueueOutbox(outboxRow("k1", "ops", t0)); err != nil {
			return err
		}
		return tx.EnqueueOutbox(outboxRow("k1", "mail", t0))
	})
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.EnqueueOutbox(outboxRow("k1", "ops", t0)) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("the same key and endpoint again: %v, want ErrDuplicate", err)
	}
	var got []*store.OutboxMessage
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.OutboxMessages(store.OutboxFilter{}); return err })
	want := []*store.OutboxMessage{
		{Key: "k1", Endpoint: "mail", Kind: "request.pending", Subject: "req-1", Body: []byte(`{"Key":"k1"}`), State: store.OutboxQueued, CreatedAt: t0, DueAt: t0},
		{Key: "k1", Endpoint: "ops", Kind: "request.pending", Subject: "req-1", Body: []byte(`{"Key":"k1"}`), State: store.OutboxQueued, CreatedAt: t0, DueAt: t0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("outbox rows (-want +got):\n%s", diff)
	}
}

// A claimed row is leased to one owner: nobody else claims it until the
// lease runs out; a row not yet due is not claimed; the owner who lost
// the lease cannot record an outcome.
func testOutboxLeaseIsExclusiveUntilItRunsOut(t *testing.T, s store.Store) {
	later := outboxRow("k2", "ops", t0)
	later.DueAt = t0.Add(time.Hour)
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.EnqueueOutbox(outboxRow("k1", "ops", t0)); err != nil {
			return err
		}
		return tx.EnqueueOutbox(later)
	})
	claim := func(owner string, now time.Time) []*store.OutboxMessage {
		var got []*store.OutboxMessage
		mustUpdate(t, s, func(tx store.Tx) (err error) {
			got, err = tx.ClaimOutbox(owner, now, now.Add(time.Minute), 10)
			return err
		})
		return got
	}
	var due []*store.OutboxMessage
	mustView(t, s, func(tx store.Tx) (err error) { due, err = tx.OutboxMessages(store.OutboxFilter{DueBy: t0}); return err })
	if len(due) != 1 || due[0].Key != "k1" {
		t.Fatalf("due at t0: %+v, want k1 alone", due)
	}
	got := claim("ca-1", t0)
	mustView(t, s, func(tx store.Tx) (err error) { due, err = tx.OutboxMessages(store.OutboxFilter{DueBy: t0}); return err })
	if len(due) != 0 {
		t.Fatalf("due at t0 once claimed: %+v, want none (leased)", due)
	}
	if len(got) != 1 || got[0].Key != "k1" || !strings.HasPrefix(got[0].LeaseOwner, "ca-1#") {
		t.Fatalf("first claim: %+v, want k1 leased to ca-1", got)
	}
	if again := claim("ca-2", t0.Add(59*time.Second)); len(again) != 0 {
		t.Fatalf("a second replica claimed %d rows inside the lease", len(again))
	}
	taken := claim("ca-2", t0.Add(time.Minute))
	if len(taken) != 1 || taken[0].Key != "k1" {
		t.Fatalf("claim after the lease ran out: %+v, want k1", taken)
	}
	m := got[0]
	m.State, m.Attempts, m.DoneAt = store.OutboxDelivered, 1, t0.Add(time.Second)
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.FinishOutbox("ca-1", m) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the old owner recorded an outcome: %v, want ErrConflict", err)
	}
	m = taken[0]
	m.State, m.Attempts, m.DueAt, m.LastError = store.OutboxQueued, 1, t0.Add(2*time.Minute), "receiver unavailable"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.FinishOutbox("ca-2", m) })
	if early := claim("ca-1", t0.Add(119*time.Second)); len(early) != 0 {
		t.Fatalf("a row was claimed before its retry was due: %+v", early)
	}
	retry := claim("ca-1", t0.Add(2*time.Minute))
	if len(retry) != 1 || retry[0].Attempts != 1 || retry[0].LastError != "receiver unavailable" {
		t.Fatalf("the retry: %+v, want k1 after 1 attempt with its error", retry)
	}
	m = retry[0]
	m.State, m.Attempts, m.DoneAt = store.OutboxDelivered, 2, t0.Add(2*time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.FinishOutbox("ca-1", m) })
	if got := claim("ca-1", t0.Add(2*time.Hour)); len(got) != 1 || got[0].Key != "k2" {
		t.Fatalf("the later row once due: %+v", got)
	}
}

// Replicas racing for the same rows claim each once.
func testOutboxRacingClaimsTakeEachRowOnce(t *testing.T, s store.Store) {
	const rows = 40
	mustUpdate(t, s, func(tx store.Tx) error {
		for i := range rows {
			if err := tx.EnqueueOutbox(outboxRow(fmt.Sprintf("k%02d", i), "ops", t0)); err != nil {
				return err
			}
		}
		return nil
	})
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("ca-", w)
			for {
				var got []*store.OutboxMessage
				err := s.Update(context.Background(), func(tx store.Tx) (err error) {
					got, err = tx.ClaimOutbox(owner, t0, t0.Add(time.Minute), 3)
					return err
				})
				if err != nil {
					t.Errorf("%s claiming: %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					if prev, ok := claimed[m.Key]; ok {
						t.Errorf("%s claimed by %s and %s", m.Key, prev, owner)
					}
					claimed[m.Key] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claimed) != rows {
		t.Fatalf("%d rows claimed, want %d", len(claimed), rows)
	}
}

// Lists filter by state, counts count per state, and pruning deletes
// delivered rows only.
func testOutboxListsCountsAndPrunes(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		for i, k := range []string{"a", "b", "c"} {
			if err := tx.EnqueueOutbox(outboxRow(k, "ops", t0.Add(time.Duration(i)*time.Second))); err != nil {
				return err
			}
		}
		got, err := tx.ClaimOutbox("ca-1", t0.Add(time.Minute), t0.Add(2*time.Minute), 2)
		if err != nil {
			return err
		}
		got[0].State, got[0].Attempts, got[0].DoneAt = store.OutboxDelivered, 1, t0.Add(time.Minute)
		got[1].State, got[1].Attempts, got[1].DoneAt, got[1].LastError = store.OutboxDead, 5, t0.Add(time.Minute), "refused"
		for _, m := range got {
			if err := tx.FinishOutbox("ca-1", m); err != nil {
				return err
			}
		}
		return nil
	})
	var dead []*store.OutboxMessage
	var counts map[store.OutboxState]int
	mustView(t, s, func(tx store.Tx) (err error) {
		if dead, err = tx.OutboxMessages(store.OutboxFilter{States: []store.OutboxState{store.OutboxDead}}); err != nil {
			return err
		}
		counts, err = tx.CountOutbox()
		return err
	})
	if len(dead) != 1 || dead[0].Key != "b" || dead[0].Attempts != 5 || dead[0].LastError != "refused" || !dead[0].DoneAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("dead rows: %+v, want b after 5 attempts", dead)
	}
	want := map[store.OutboxState]int{store.OutboxQueued: 1, store.OutboxDelivered: 1, store.OutboxDead: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Fatalf("counts (-want +got):\n%s", diff)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneOutbox(t0.Add(time.Hour)) })
	var left []*store.OutboxMessage
	mustView(t, s, func(tx store.Tx) (err error) { left, err = tx.OutboxMessages(store.OutboxFilter{}); return err })
	if len(left) != 2 || left[0].Key != "c" || left[1].Key != "b" {
		t.Fatalf("after pruning: %+v, want c (queued) and b (dead), newest first", left)
	}
}
