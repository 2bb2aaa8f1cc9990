package apiauth

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestMemoryNonces(t *testing.T) {
	now := testNow
	m := &MemoryNonces{MaxPerPrincipal: 1, Clock: func() time.Time { return now }}
	use := func(principal, nonce string, expires time.Time) error {
		return m.Use(t.Context(), principal, nonce, expires)
	}
	if err := use("user:alice", "n1", now.Add(time.Minute)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := use("user:alice", "n1", now.Add(time.Minute)); !errors.Is(err, ErrReplay) {
		t.Fatalf("reuse = %v, want ErrReplay", err)
	}
	if err := use("user:bob", "n1", now.Add(2*time.Minute)); err != nil {
		t.Fatalf("same nonce, other principal: %v", err)
	}
	if err := use("user:alice", "n2", now.Add(time.Minute)); !errors.Is(err, ErrNonceStoreFull) {
		t.Fatalf("use when alice's share is full = %v, want ErrNonceStoreFull", err)
	}

	now = now.Add(time.Minute) // n1 of alice expires now: still kept through this instant
	if err := use("user:alice", "n1", now.Add(time.Minute)); !errors.Is(err, ErrReplay) {
		t.Fatalf("reuse at the instant of expiry = %v, want ErrReplay", err)
	}

	now = now.Add(time.Nanosecond) // alice's n1 now pruned, bob's kept
	if err := use("user:alice", "n2", now.Add(time.Minute)); err != nil {
		t.Fatalf("use after pruning: %v", err)
	}
	if got := m.Len(); got != 2 {
		t.Errorf("Len = %d, want 2 (bob's n1 and alice's n2)", got)
	}
	if err := use("user:bob", "n1", now); !errors.Is(err, ErrReplay) {
		t.Errorf("bob's unexpired nonce forgotten: %v", err)
	}
}

// One principal that fills its share of read nonces makes only its own
// calls fail: everyone else's reads go on being answered.
func TestMemoryNoncesCapEachPrincipalOnItsOwn(t *testing.T) {
	now := testNow
	m := &MemoryNonces{MaxPerPrincipal: 100, Clock: func() time.Time { return now }}
	for i := range 100 {
		if err := m.Use(t.Context(), "user:mallory", fmt.Sprint("n", i), now.Add(time.Minute)); err != nil {
			t.Fatalf("mallory's nonce %d: %v", i, err)
		}
	}
	if err := m.Use(t.Context(), "user:mallory", "one-more", now.Add(time.Minute)); !errors.Is(err, ErrNonceStoreFull) {
		t.Fatalf("mallory past her share = %v, want ErrNonceStoreFull", err)
	}
	for _, p := range []string{"user:alice", "user:bob", "bastion:bastion-1"} {
		for i := range 100 {
			if err := m.Use(t.Context(), p, fmt.Sprint("n", i), now.Add(time.Minute)); err != nil {
				t.Fatalf("%s's nonce %d while mallory's share is full: %v", p, i, err)
			}
		}
	}
	now = now.Add(time.Minute + time.Nanosecond) // everything expires
	if err := m.Use(t.Context(), "user:mallory", "later", now.Add(time.Minute)); err != nil {
		t.Fatalf("mallory once her nonces expired: %v", err)
	}
	if got := m.Len(); got != 1 {
		t.Fatalf("Len = %d after expiry, want 1", got)
	}
}
