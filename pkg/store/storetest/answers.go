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

// Admission says, in one read, whether the directory disables a user
// (listed by name in any case, inactive or deleted) and which answer is
// kept under the caller's key; neither depends on the other.
func testAdmission(t *testing.T, s store.Store) {
	users := []*store.DirectoryUser{
		{ID: "u-1", UserName: "alice", Active: true, Created: t0, Modified: t0, Version: 1},
		{ID: "u-2", UserName: "bob", Active: false, Created: t0, Modified: t0, Version: 1},
		{ID: "u-3", UserName: "carol", Active: true, Deleted: true, Created: t0, Modified: t0, Version: 1},
	}
	kept := &store.Answer{Principal: "user:bob", Key: "k-1", Fingerprint: []byte{9, 8}, Status: 201,
		Body: []byte("sealed\x00answer"), Created: t0, Expires: t0.Add(time.Hour)}
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, u := range users {
			if err := tx.PutDirectoryUser(u); err != nil {
				return err
			}
		}
		return tx.KeepAnswer(kept)
	})
	for _, c := range []struct {
		user, principal, key string
		disabled             bool
		kept                 *store.Answer
	}{
		{"alice", "user:alice", "k-1", false, nil},
		{"ALICE", "user:alice", "k-1", false, nil},
		{"dave", "user:dave", "k-1", false, nil},
		{"", "bastion:b1", "k-1", false, nil},
		{"bob", "user:bob", "k-1", true, kept},
		{"Bob", "user:bob", "k-2", true, nil},
		{"carol", "user:carol", "k-1", true, nil},
		{"", "user:bob", "k-1", false, kept},
		{"alice", "user:bob", "k-1", false, kept},
	} {
		var disabled bool
		var got *store.Answer
		mustView(t, s, func(tx store.Tx) (err error) {
			disabled, got, err = tx.Admission(c.user, c.principal, c.key)
			return err
		})
		if disabled != c.disabled {
			t.Errorf("Admission(%q, %q, %q): disabled %v, want %v", c.user, c.principal, c.key, disabled, c.disabled)
		}
		if diff := cmp.Diff(c.kept, got); diff != "" {
			t.Errorf("Admission(%q, %q, %q): kept answer (-want +got):\n%s", c.user, c.principal, c.key, diff)
		}
	}
}
