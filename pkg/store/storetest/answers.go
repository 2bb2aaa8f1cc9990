package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Kept answers round-trip, one per principal and key, and are pruned
// only once expired.
func testAnswers(t *testing.T, s store.Store) {
	a := &store.Answer{Principal: "user:alice", Key: "k-1", Fingerprint: []byte{1, 2, 3}, Status: 201,
		Body: []byte("sealed\x00answer"), Created: t0, Expires: t0.Add(24 * time.Hour)}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.KeepAnswer(a) })
	var got *store.Answer
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.Answer("user:alice", "k-1"); return err })
	if diff := cmp.Diff(a, got); diff != "" {
		t.Fatalf("answer changed in the store (-want +got):\n%s", diff)
	}
	dup := *a
	dup.Status = 500
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.KeepAnswer(&dup) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a second answer under the same key: got %v, want ErrDuplicate", err)
	}
	other := *a
	other.Principal, other.Expires = "user:bob", t0.Add(time.Hour)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.KeepAnswer(&other) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneAnswers(t0.Add(2 * time.Hour)) })
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.Answer("user:bob", "k-1"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired answer: got %v, want ErrNotFound", err)
	}
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.Answer("user:alice", "k-1"); return err })
	if got.Status != 201 {
		t.Fatalf("the live answer changed: %+v", got)
	}
}
