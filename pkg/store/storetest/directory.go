package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Directory users round-trip, are found by ID and by name in any case,
// keep their names unique, and list without tombstones.
func testDirectoryUsers(t *testing.T, s store.Store) {
	alice := &store.DirectoryUser{ID: "u-1", UserName: "alice", ExternalID: "ext-1", DisplayName: "Alice Ä",
		Active: true, Created: t0, Modified: t0, Version: 1}
	gone := &store.DirectoryUser{ID: "u-2", UserName: "bob", Deleted: true, Created: t0, Modified: t0, Version: 3}
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.PutDirectoryUser(alice); err != nil {
			return err
		}
		return tx.PutDirectoryUser(gone)
	})
	mustView(t, s, func(tx store.Tx) error {
		for _, key := range []string{"u-1", "ALICE"} {
			var got *store.DirectoryUser
			var err error
			if key == "u-1" {
				got, err = tx.DirectoryUser(key)
			} else {
				got, err = tx.DirectoryUserByName(key)
			}
			if err != nil {
				return err
			}
			if diff := cmp.Diff(alice, got); diff != "" {
				t.Errorf("directory user by %s (-want +got):\n%s", key, diff)
			}
		}
		users, total, err := tx.DirectoryUsers(0, 10)
		if err != nil {
			return err
		}
		if total != 1 || len(users) != 1 || users[0].ID != "u-1" {
			t.Errorf("listing: %d of %d, want only u-1 (the tombstone is not listed)", len(users), total)
		}
		if _, err := tx.DirectoryUserByName("bob"); err != nil {
			t.Errorf("a tombstone is still found by name: %v", err)
		}
		return nil
	})
	taken := &store.DirectoryUser{ID: "u-3", UserName: "Alice", Active: true, Created: t0, Modified: t0, Version: 1}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.PutDirectoryUser(taken) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a second user named Alice: %v, want ErrDuplicate", err)
	}
	changed := *alice
	changed.Active, changed.Version, changed.Modified = false, 2, t0.Add(time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutDirectoryUser(&changed) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteDirectoryUser("u-2") })
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.DirectoryUser("u-1")
		if err != nil {
			return err
		}
		if got.Active || got.Version != 2 {
			t.Errorf("replaced user: %+v", got)
		}
		if _, err := tx.DirectoryUser("u-2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted user: %v, want ErrNotFound", err)
		}
		return nil
	})
}

// Directory groups keep their members, are unique by name in any case,
// are found by member, and leave no members behind when deleted.
func testDirectoryGroups(t *testing.T, s store.Store) {
	sre := &store.DirectoryGroup{ID: "g-1", DisplayName: "SRE", ExternalID: "e-1", Members: []string{"u-1", "u-2"},
		Created: t0, Modified: t0, Version: 1}
	ops := &store.DirectoryGroup{ID: "g-2", DisplayName: "Ops", Members: []string{"u-2"}, Created: t0, Modified: t0, Version: 1}
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.PutDirectoryGroup(sre); err != nil {
			return err
		}
		return tx.PutDirectoryGroup(ops)
	})
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.DirectoryGroupByName("sre")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(sre, got); diff != "" {
			t.Errorf("group by name (-want +got):\n%s", diff)
		}
		with, err := tx.GroupsWithMember("u-2")
		if err != nil {
			return err
		}
		if len(with) != 2 || with[0].ID != "g-1" || with[1].ID != "g-2" {
			t.Errorf("groups with u-2: %v", with)
		}
		list, total, err := tx.DirectoryGroups(1, 10)
		if err != nil {
			return err
		}
		if total != 2 || len(list) != 1 || list[0].ID != "g-2" {
			t.Errorf("second page: %d of %d", len(list), total)
		}
		return nil
	})
	clash := &store.DirectoryGroup{ID: "g-3", DisplayName: "sre", Created: t0, Modified: t0}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.PutDirectoryGroup(clash) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a second group named sre: %v, want ErrDuplicate", err)
	}
	fewer := *sre
	fewer.Members = []string{"u-1"}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutDirectoryGroup(&fewer) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteDirectoryGroup("g-2") })
	mustView(t, s, func(tx store.Tx) error {
		with, err := tx.GroupsWithMember("u-2")
		if err != nil {
			return err
		}
		if len(with) != 0 {
			t.Errorf("u-2 is still a member of %v", with)
		}
		return nil
	})
}

// Memberships are replaced per user and source, leaving the other
// source's alone.
func testDirectoryMemberships(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.SetDirectoryMemberships("carol", store.SourceSCIM, []string{"sre", "ops"}, t0); err != nil {
			return err
		}
		if err := tx.SetDirectoryMemberships("carol", store.SourceOIDC, []string{"sre"}, t0); err != nil {
			return err
		}
		return tx.SetDirectoryMemberships("erin", store.SourceSCIM, []string{"ops"}, t0)
	})
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.SetDirectoryMemberships("carol", store.SourceSCIM, []string{"security"}, t0.Add(time.Hour))
	})
	var got []store.DirectoryMembership
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.DirectoryMemberships(); return err })
	want := []store.DirectoryMembership{
		{User: "carol", Group: "security", Source: "scim", At: t0.Add(time.Hour)},
		{User: "carol", Group: "sre", Source: "oidc", At: t0},
		{User: "erin", Group: "ops", Source: "scim", At: t0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("memberships (-want +got):\n%s", diff)
	}
}
