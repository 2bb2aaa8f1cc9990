package apiauth

import (
	"errors"
	"testing"
	"time"
)

func TestMemoryNonces(t *testing.T) {
	now := testNow
	m := &MemoryNonces{Max: 2, Clock: func() time.Time { return now }}
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
		t.Fatalf("use when full = %v, want ErrNonceStoreFull", err)
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
