package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func lookGroup(tx store.Tx, id string) (*store.DirectoryGroup, error) {
	g, err := tx.DirectoryGroup(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: group %q", ErrNoDirectoryEntry, id)
	}
	return g, err
}

// DirectoryGroup returns the directory's group with id.
func (s *Service) DirectoryGroup(ctx context.Context, id string) (*store.DirectoryGroup, error) {
	var out *store.DirectoryGroup
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { out, err = lookGroup(tx, id); return err })
	return out, err
}

// FindDirectoryGroup returns the group named displayName (any case), or
// ErrNoDirectoryEntry.
func (s *Service) FindDirectoryGroup(ctx context.Context, displayName string) (*store.DirectoryGroup, error) {
	var out *store.DirectoryGroup
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		out, err = tx.DirectoryGroupByName(displayName)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: group %q", ErrNoDirectoryEntry, displayName)
		}
		return err
	})
	return out, err
}

// DirectoryGroups lists the directory's groups, by ID.
func (s *Service) DirectoryGroups(ctx context.Context, offset, limit int) ([]*store.DirectoryGroup, int, error) {
	var out []*store.DirectoryGroup
	var total int
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { out, total, err = tx.DirectoryGroups(offset, limit); return err })
	return out, total, err
}

// checkDirectoryGroup checks g's names and that every member is a user
// of the directory, and sorts its members without repeats.
func checkDirectoryGroup(tx store.Tx, g *store.DirectoryGroup) error {
	if err := checkDirectoryText("displayName", g.DisplayName, true); err != nil {
		return err
	}
	if err := checkDirectoryText("externalId", g.ExternalID, false); err != nil {
		return err
	}
	g.Members = slices.Compact(slices.Sorted(slices.Values(g.Members)))
	for _, m := range g.Members {
		if _, err := lookUser(tx, m); errors.Is(err, ErrNoDirectoryEntry) {
			return fmt.Errorf("%w: member %q is no user of the directory", ErrBadInput, clip.Runes(m, 40))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// userNames names the users with ids, for audit rows.
func userNames(tx store.Tx, ids []string) ([]string, error) {
	out := []string{}
	for _, id := range ids {
		u, err := tx.DirectoryUser(id)
		if errors.Is(err, store.ErrNotFound) {
			out = append(out, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u.UserName)
	}
	return out, nil
}

// CreateDirectoryGroup adds g (ID, times and version are set here); its
// members take it into their directory groups.
func (s *Service) CreateDirectoryGroup(ctx context.Context, g store.DirectoryGroup) (*store.DirectoryGroup, error) {
	id, err := s.newDirectoryID("g-")
	if err != nil {
		return nil, err
	}
	var out *store.DirectoryGroup
	err = s.directoryUpdate(ctx, func(tx store.Tx) error {
		out = nil
		ng := g
		ng.Members = slices.Clone(g.Members)
		if err := checkDirectoryGroup(tx, &ng); err != nil {
			return s.refuse(tx, DirectoryActor, "directory.refused", "group "+clip.Runes(ng.DisplayName, 40), err, nil)
		}
		if other, err := tx.DirectoryGroupByName(ng.DisplayName); err == nil {
			return s.refuse(tx, DirectoryActor, "directory.refused", "group "+ng.DisplayName,
				fmt.Errorf("%w: a group named %q exists (id %s)", ErrDirectoryConflict, ng.DisplayName, other.ID), nil)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := s.now()
		ng.ID, ng.Created, ng.Modified, ng.Version = id, now, now, 1
		if err := tx.PutDirectoryGroup(&ng); err != nil {
			return err
		}
		names, err := userNames(tx, ng.Members)
		if err != nil {
			return err
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(DirectoryActor), Action: "directory.group.created", Subject: ng.DisplayName,
			Detail: map[string]any{"id": ng.ID, "external_id": ng.ExternalID, "members": names}}); err != nil {
			return err
		}
		out = &ng
		return s.syncMemberships(tx, ng.Members)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeDirectoryGroup applies change to group id (a SCIM PUT or PATCH)
// and stores the result; the members who joined or left, or all of them
// when the group is renamed, have their directory groups rewritten in
// the same transaction. change must only change the value it is given.
func (s *Service) ChangeDirectoryGroup(ctx context.Context, id string, change func(*store.DirectoryGroup) error) (*store.DirectoryGroup, error) {
	const refused = "directory.refused"
	var out *store.DirectoryGroup
	err := s.directoryUpdate(ctx, func(tx store.Tx) error {
		out = nil
		old, err := lookGroup(tx, id)
		if errors.Is(err, ErrNoDirectoryEntry) {
			return s.refuse(tx, DirectoryActor, refused, "group "+id, err, nil)
		}
		if err != nil {
			return err
		}
		ng := *old
		ng.Members = slices.Clone(old.Members)
		if err := change(&ng); err != nil {
			return s.refuse(tx, DirectoryActor, refused, old.DisplayName, err, nil)
		}
		ng.ID, ng.Created = old.ID, old.Created
		if err := checkDirectoryGroup(tx, &ng); err != nil {
			return s.refuse(tx, DirectoryActor, refused, old.DisplayName, err, nil)
		}
		if other, err := tx.DirectoryGroupByName(ng.DisplayName); err == nil && other.ID != id {
			return s.refuse(tx, DirectoryActor, refused, old.DisplayName,
				fmt.Errorf("%w: a group named %q exists (id %s)", ErrDirectoryConflict, ng.DisplayName, other.ID), nil)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := s.now()
		ng.Modified, ng.Version = now, old.Version+1
		if err := tx.PutDirectoryGroup(&ng); err != nil {
			return err
		}
		joined := without(ng.Members, old.Members)
		left := without(old.Members, ng.Members)
		detail := map[string]any{"id": id}
		if detail["joined"], err = userNames(tx, joined); err != nil {
			return err
		}
		if detail["left"], err = userNames(tx, left); err != nil {
			return err
		}
		affected := append(joined, left...)
		if ng.DisplayName != old.DisplayName {
			detail["renamed"] = []string{old.DisplayName, ng.DisplayName}
			affected = append(affected, ng.Members...)
		}
		if ng.ExternalID != old.ExternalID {
			detail["external_id"] = []string{old.ExternalID, ng.ExternalID}
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(DirectoryActor), Action: "directory.group.changed", Subject: ng.DisplayName, Detail: detail}); err != nil {
			return err
		}
		out = &ng
		return s.syncMemberships(tx, slices.Compact(slices.Sorted(slices.Values(affected))))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// without returns the items of a not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// DeleteDirectoryGroup removes group id; its members leave it.
func (s *Service) DeleteDirectoryGroup(ctx context.Context, id string) error {
	return s.directoryUpdate(ctx, func(tx store.Tx) error {
		g, err := lookGroup(tx, id)
		if errors.Is(err, ErrNoDirectoryEntry) {
			return s.refuse(tx, DirectoryActor, "directory.refused", "group "+id, err, nil)
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteDirectoryGroup(id); err != nil {
			return err
		}
		names, err := userNames(tx, g.Members)
		if err != nil {
			return err
		}
		if err := record(tx, audit.Event{Time: s.now(), Actor: string(DirectoryActor), Action: "directory.group.deleted", Subject: g.DisplayName,
			Detail: map[string]any{"id": id, "members": names}}); err != nil {
			return err
		}
		return s.syncMemberships(tx, g.Members)
	})
}
