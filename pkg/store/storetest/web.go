package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func testPasswords(t *testing.T, s store.Store) {
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.Password("carol"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no password yet: %v", err)
	}
	p := &store.Password{User: "carol", Hash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", SetAt: t0}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutPassword(p) })
	p2 := &store.Password{User: "carol", Hash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdDI$aGFzaDI", SetAt: t0.Add(time.Hour)}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutPassword(p2) })
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Password("carol")
		if diff := cmp.Diff(p2, got); diff != "" {
			t.Errorf("password (-want +got):\n%s", diff)
		}
		return err
	})
}

func newWebSession(hash, user string) *store.WebSession {
	return &store.WebSession{TokenHash: hash, User: user, CSRF: "csrf-" + hash, Addr: "192.0.2.1",
		CreatedAt: t0, LastSeen: t0, IdleUntil: t0.Add(30 * time.Minute), Expires: t0.Add(12 * time.Hour)}
}

func webSessionErr(s store.Store, hash string) error {
	return s.View(context.Background(), func(tx store.Tx) error { _, err := tx.WebSession(hash); return err })
}

func testWebSessions(t *testing.T, s store.Store) {
	a, b, c := newWebSession("aa", "carol"), newWebSession("bb", "carol"), newWebSession("cc", "erin")
	c.IdleUntil = t0.Add(time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, x := range []*store.WebSession{a, b, c} {
			if err := tx.CreateWebSession(x); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateWebSession(newWebSession("aa", "erin")) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("reused token: %v, want ErrDuplicate", err)
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.WebSession("aa")
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("web session (-want +got):\n%s", diff)
		}
		return err
	})
	a.LastSeen, a.IdleUntil = t0.Add(time.Minute), t0.Add(31*time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchWebSession("aa", a.LastSeen, a.IdleUntil) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchWebSession("aa", a.LastSeen, a.IdleUntil) }) // no change is fine
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.WebSession("aa")
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("touched web session (-want +got):\n%s", diff)
		}
		return err
	})
	err = s.Update(context.Background(), func(tx store.Tx) error { return tx.TouchWebSession("zz", t0, t0) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touching a missing session: %v, want ErrNotFound", err)
	}
	// Pruning at t0+2m removes erin's idle session only.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneWebSessions(t0.Add(2 * time.Minute)) })
	if err := webSessionErr(s, "cc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("idle session after pruning: %v", err)
	}
	if err := webSessionErr(s, "aa"); err != nil {
		t.Fatalf("live session after pruning: %v", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteWebSession("aa") })
	if err := webSessionErr(s, "aa"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.CreateWebSession(newWebSession("dd", "erin")); err != nil {
			return err
		}
		return tx.DeleteUserWebSessions("carol")
	})
	if err := webSessionErr(s, "bb"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("carol's other session after DeleteUserWebSessions: %v", err)
	}
	if err := webSessionErr(s, "dd"); err != nil {
		t.Fatalf("erin's session after carol's were deleted: %v", err)
	}
	// Past the absolute expiry, pruning removes even a recently used one.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneWebSessions(t0.Add(12 * time.Hour)) })
	if err := webSessionErr(s, "dd"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session after pruning: %v", err)
	}
}

func testSSOPending(t *testing.T, s store.Store) {
	p := &store.SSOPending{TokenHash: "p1", User: "carol", Groups: []string{"Security Team", "sre"}, Issuer: "https://idp.example",
		Subject: "sub-1", Addr: "192.0.2.1", CreatedAt: t0, Expires: t0.Add(5 * time.Minute)}
	old := &store.SSOPending{TokenHash: "p2", User: "erin", Issuer: "https://idp.example", Subject: "sub-2", CreatedAt: t0, Expires: t0.Add(time.Minute)}
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.CreateSSOPending(p); err != nil {
			return err
		}
		return tx.CreateSSOPending(old)
	})
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateSSOPending(p) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("reused token: %v, want ErrDuplicate", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		got, err := tx.TakeSSOPending("p1")
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("pending sign-in (-want +got):\n%s", diff)
		}
		return err
	})
	take := func(hash string) error {
		return s.Update(context.Background(), func(tx store.Tx) error { _, err := tx.TakeSSOPending(hash); return err })
	}
	if err := take("p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("taken twice: %v, want ErrNotFound", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneSSOPending(t0.Add(time.Minute)) })
	if err := take("p2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pruned at its expiry: %v, want ErrNotFound", err)
	}
}
