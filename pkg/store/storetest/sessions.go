package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func newSession(id, user, resource string, started time.Time) *store.Session {
	return &store.Session{ID: id, User: user, RequestID: "req-1", Resource: resource, Role: "admin", Bastion: "bastion-1",
		ClientAddr: "127.0.0.1:40000", StartedAt: started}
}

func testSessions(t *testing.T, s store.Store) {
	a := newSession("sess-a", "alice", "db-1", t0)
	b := newSession("sess-b", "bob", "db-2", t0.Add(time.Minute))
	c := newSession("sess-c", "alice", "db-2", t0.Add(2*time.Minute))
	c.Command = "uptime"
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, x := range []*store.Session{a, b, c} {
			if err := tx.CreateSession(x); err != nil {
				return err
			}
		}
		return nil
	})
	b.EndedAt, b.EndReason = t0.Add(3*time.Minute), "idle for 15m0s (100%_done)"
	b.RecordingSize, b.RecordingSHA256, b.RecordedAt = 42, "abc", t0.Add(4*time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSession(b) })
	ids := func(f store.SessionFilter) []string {
		var out []string
		mustView(t, s, func(tx store.Tx) error {
			got, err := tx.Sessions(f)
			for _, x := range got {
				out = append(out, x.ID)
			}
			return err
		})
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.SessionFilter
		want []string
	}{
		{"all, newest first", store.SessionFilter{}, []string{"sess-c", "sess-b", "sess-a"}},
		{"by user", store.SessionFilter{User: "alice"}, []string{"sess-c", "sess-a"}},
		{"by resource", store.SessionFilter{Resource: "db-2"}, []string{"sess-c", "sess-b"}},
		{"by time", store.SessionFilter{Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute)}, []string{"sess-b"}},
		{"open", store.SessionFilter{Open: true}, []string{"sess-c", "sess-a"}},
		{"by end reason, literally", store.SessionFilter{EndReason: "100%_done"}, []string{"sess-b"}},
		{"wildcards are literal", store.SessionFilter{EndReason: "%"}, []string{"sess-b"}},
		{"no match", store.SessionFilter{EndReason: "revoked"}, nil},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Session("sess-b")
		if diff := cmp.Diff(b, got); diff != "" {
			t.Errorf("session (-want +got):\n%s", diff)
		}
		return err
	})
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.Session("sess-x"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
}

func testLeases(t *testing.T, s store.Store) {
	take := func(session string, now time.Time) (*store.Lease, error) {
		var holder *store.Lease
		err := s.Update(context.Background(), func(tx store.Tx) (err error) {
			holder, err = tx.TakeLease(store.Lease{User: "alice", SessionID: session, Bastion: "b1", Expires: now.Add(30 * time.Second)}, now)
			return err
		})
		return holder, err
	}
	lease := func() (*store.Lease, error) {
		var l *store.Lease
		err := s.View(context.Background(), func(tx store.Tx) (err error) { l, err = tx.Lease("alice"); return err })
		return l, err
	}
	if _, err := lease(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a lease nobody took: %v", err)
	}
	if _, err := take("s1", t0); err != nil {
		t.Fatal(err)
	}
	if l, err := lease(); err != nil || l.SessionID != "s1" || l.Bastion != "b1" || !l.Expires.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("reading the lease: %+v %v", l, err)
	}
	holder, err := take("s2", t0.Add(10*time.Second))
	if !errors.Is(err, store.ErrConflict) || holder == nil || holder.SessionID != "s1" {
		t.Fatalf("second session: %v, holder %+v", err, holder)
	}
	// s1 renews; the lease is still s1's at t0+40s.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.RenewLease("alice", "s1", t0.Add(60*time.Second)) })
	if _, err := take("s2", t0.Add(40*time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("after renewal: %v", err)
	}
	// s1's bastion dies: after its lease runs out, s2 takes it over.
	if _, err := take("s2", t0.Add(60*time.Second)); err != nil {
		t.Fatalf("takeover after expiry: %v", err)
	}
	err = s.Update(context.Background(), func(tx store.Tx) error { return tx.RenewLease("alice", "s1", t0.Add(time.Hour)) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("renewing a lost lease: %v", err)
	}
	// Releasing someone else's lease does nothing; releasing one's own frees it.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.ReleaseLease("alice", "s1") })
	if _, err := take("s3", t0.Add(61*time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("released by a non-holder: %v", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.ReleaseLease("alice", "s2") })
	if _, err := take("s3", t0.Add(61*time.Second)); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// Many sessions race for one user's lease: exactly one gets it.
func testLeaseRace(t *testing.T, s store.Store) {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx store.Tx) error {
				_, err := tx.TakeLease(store.Lease{User: "alice", SessionID: fmt.Sprint("s", i), Bastion: "b", Expires: t0.Add(time.Minute)}, t0)
				return err
			})
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("take %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d sessions took the lease, want 1", wins.Load())
	}
}

func testThrottles(t *testing.T, s store.Store) {
	th := &store.Throttle{Key: "user:alice", Failures: 3, LastFailure: t0, BlockedUntil: t0.Add(time.Second)}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutThrottle(th) })
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Throttle("user:alice")
		if diff := cmp.Diff(th, got); diff != "" {
			t.Errorf("throttle (-want +got):\n%s", diff)
		}
		return err
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutThrottle(&store.Throttle{Key: "user:alice"}) })
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Throttle("user:alice")
		if got.Failures != 0 {
			t.Errorf("reset throttle: %+v", got)
		}
		return err
	})
}
