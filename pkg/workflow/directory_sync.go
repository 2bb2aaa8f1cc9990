package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Errors of the directory's pushes (SCIM).
var (
	ErrNoDirectoryEntry  = errors.New("no such user or group in the directory")
	ErrDirectoryConflict = errors.New("already in the directory")
)

// DirectoryActor is the caller of directory pushes.
const DirectoryActor Actor = "directory:scim"

// MaxDirectoryText bounds a directory user's or group's names, in
// characters.
const MaxDirectoryText = 256

// checkDirectoryText keeps a name the directory sends to one line of
// visible text.
func checkDirectoryText(what, v string, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%w: %s is required", ErrBadInput, what)
	case utf8.RuneCountInString(v) > MaxDirectoryText:
		return fmt.Errorf("%w: %s has more than %d characters", ErrBadInput, what, MaxDirectoryText)
	}
	if err := policy.CheckText(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadInput, what, err)
	}
	return nil
}

func checkDirectoryUser(u *store.DirectoryUser) error {
	if err := checkDirectoryText("userName", u.UserName, true); err != nil {
		return err
	}
	if err := checkDirectoryText("externalId", u.ExternalID, false); err != nil {
		return err
	}
	return checkDirectoryText("displayName", u.DisplayName, false)
}

// newDirectoryID makes a directory resource's ID: prefix and 16 random
// base32 characters.
func (s *Service) newDirectoryID(prefix string) (string, error) {
	id, err := s.newID()
	if err != nil {
		return "", err
	}
	return prefix + id[len("req-"):], nil
}

// directoryUpdate runs fn as a directory change: in one transaction with
// its audit rows and any deprovisioning, after which the merged policy
// takes the new membership.
func (s *Service) directoryUpdate(ctx context.Context, fn func(tx store.Tx) error) error {
	var members map[string][]string
	err := s.update(ctx, func(tx store.Tx) error {
		members = nil
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		members, err = readMemberships(tx)
		return err
	})
	if err == nil || members != nil {
		s.keepMemberships(members)
	}
	return err
}

// lookUser reads a user that SCIM may see: not a tombstone.
func lookUser(tx store.Tx, id string) (*store.DirectoryUser, error) {
	u, err := tx.DirectoryUser(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Deleted) {
		return nil, fmt.Errorf("%w: user %q", ErrNoDirectoryEntry, id)
	}
	return u, err
}

// DirectoryUser returns the directory's user with id.
func (s *Service) DirectoryUser(ctx context.Context, id string) (*store.DirectoryUser, error) {
	var out *store.DirectoryUser
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { out, err = lookUser(tx, id); return err })
	return out, err
}

// FindDirectoryUser returns the user named userName (any case), or
// ErrNoDirectoryEntry.
func (s *Service) FindDirectoryUser(ctx context.Context, userName string) (*store.DirectoryUser, error) {
	var out *store.DirectoryUser
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		u, err := tx.DirectoryUserByName(userName)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Deleted) {
			return fmt.Errorf("%w: user %q", ErrNoDirectoryEntry, userName)
		}
		out = u
		return err
	})
	return out, err
}

// DirectoryUsers lists the directory's users, by ID.
func (s *Service) DirectoryUsers(ctx context.Context, offset, limit int) ([]*store.DirectoryUser, int, error) {
	var out []*store.DirectoryUser
	var total int
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { out, total, err = tx.DirectoryUsers(offset, limit); return err })
	return out, total, err
}

// CreateDirectoryUser adds u (ID, times and version are set here). A
// user the directory deleted earlier under the same name is replaced. A
// user created inactive is deprovisioned at once.
func (s *Service) CreateDirectoryUser(ctx context.Context, u store.DirectoryUser) (*store.DirectoryUser, error) {
	const refused = "directory.refused"
	u.UserName = strings.ToLower(u.UserName)
	if err := checkDirectoryUser(&u); err != nil {
		return nil, s.RecordRefusal(ctx, DirectoryActor, refused, "user "+clip.Runes(u.UserName, 40), err)
	}
	id, err := s.newDirectoryID("u-")
	if err != nil {
		return nil, err
	}
	var out *store.DirectoryUser
	err = s.directoryUpdate(ctx, func(tx store.Tx) error {
		out = nil
		old, err := tx.DirectoryUserByName(u.UserName)
		switch {
		case err == nil && !old.Deleted:
			return s.refuse(tx, DirectoryActor, refused, "user "+u.UserName, fmt.Errorf("%w: a user named %q exists (id %s)", ErrDirectoryConflict, u.UserName, old.ID), nil)
		case err == nil:
			if err := tx.DeleteDirectoryUser(old.ID); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		now := s.now()
		nu := u
		nu.ID, nu.Deleted, nu.Created, nu.Modified, nu.Version = id, false, now, now, 1
		if err := tx.PutDirectoryUser(&nu); err != nil {
			return err
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(DirectoryActor), Action: "directory.user.created", Subject: nu.UserName,
			Detail: map[string]any{"id": nu.ID, "active": nu.Active, "external_id": nu.ExternalID}}); err != nil {
			return err
		}
		if !nu.Active {
			if _, err := s.deprovision(tx, DirectoryActor, nu.UserName, ByDirectory, "deactivated in the directory"); err != nil {
				return err
			}
		}
		out = &nu
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeDirectoryUser applies change to user id (a SCIM PUT or PATCH)
// and stores the result. change must only change the value it is given
// (it may run more than once). A user who goes from active to inactive
// is deprovisioned in the same transaction; one renamed keeps their
// group memberships under the new name.
func (s *Service) ChangeDirectoryUser(ctx context.Context, id string, change func(*store.DirectoryUser) error) (*store.DirectoryUser, error) {
	const refused = "directory.refused"
	var out *store.DirectoryUser
	err := s.directoryUpdate(ctx, func(tx store.Tx) error {
		out = nil
		old, err := lookUser(tx, id)
		if errors.Is(err, ErrNoDirectoryEntry) {
			return s.refuse(tx, DirectoryActor, refused, "user "+id, err, nil)
		}
		if err != nil {
			return err
		}
		nu := *old
		if err := change(&nu); err != nil {
			return s.refuse(tx, DirectoryActor, refused, old.UserName, err, nil)
		}
		nu.UserName = strings.ToLower(nu.UserName)
		nu.ID, nu.Created, nu.Deleted = old.ID, old.Created, false
		if err := checkDirectoryUser(&nu); err != nil {
			return s.refuse(tx, DirectoryActor, refused, old.UserName, err, nil)
		}
		if nu.UserName != old.UserName {
			if other, err := tx.DirectoryUserByName(nu.UserName); err == nil && other.ID != old.ID {
				return s.refuse(tx, DirectoryActor, refused, old.UserName, fmt.Errorf("%w: a user named %q exists (id %s)", ErrDirectoryConflict, nu.UserName, other.ID), nil)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		now := s.now()
		nu.Modified, nu.Version = now, old.Version+1
		if err := tx.PutDirectoryUser(&nu); err != nil {
			return err
		}
		changed := userChanges(old, &nu)
		if err := record(tx, audit.Event{Time: now, Actor: string(DirectoryActor), Action: "directory.user.changed", Subject: nu.UserName,
			Detail: map[string]any{"id": nu.ID, "changed": changed}}); err != nil {
			return err
		}
		if nu.UserName != old.UserName {
			if err := tx.SetDirectoryMemberships(old.UserName, store.SourceSCIM, nil, now); err != nil {
				return err
			}
		}
		if err := s.syncMemberships(tx, []string{nu.ID}); err != nil {
			return err
		}
		if old.Active && !nu.Active {
			if _, err := s.deprovision(tx, DirectoryActor, nu.UserName, ByDirectory, "deactivated in the directory"); err != nil {
				return err
			}
		}
		out = &nu
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userChanges names what changed, old → new, for the audit row.
func userChanges(old, nu *store.DirectoryUser) map[string]any {
	out := map[string]any{}
	add := func(name string, a, b any) {
		if a != b {
			out[name] = []any{a, b}
		}
	}
	add("userName", old.UserName, nu.UserName)
	add("active", old.Active, nu.Active)
	add("externalId", old.ExternalID, nu.ExternalID)
	add("displayName", old.DisplayName, nu.DisplayName)
	return out
}

// DeleteDirectoryUser removes user id from the directory: out of every
// group, left as a tombstone so that the person stays refused until the
// directory creates them again, and deprovisioned if still active.
func (s *Service) DeleteDirectoryUser(ctx context.Context, id string) error {
	const refused = "directory.refused"
	return s.directoryUpdate(ctx, func(tx store.Tx) error {
		u, err := lookUser(tx, id)
		if errors.Is(err, ErrNoDirectoryEntry) {
			return s.refuse(tx, DirectoryActor, refused, "user "+id, err, nil)
		}
		if err != nil {
			return err
		}
		now := s.now()
		groups, err := tx.GroupsWithMember(id)
		if err != nil {
			return err
		}
		for _, g := range groups {
			g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == id })
			g.Modified, g.Version = now, g.Version+1
			if err := tx.PutDirectoryGroup(g); err != nil {
				return err
			}
		}
		wasActive := u.Active
		u.Active, u.Deleted, u.Modified, u.Version = false, true, now, u.Version+1
		if err := tx.PutDirectoryUser(u); err != nil {
			return err
		}
		if err := tx.SetDirectoryMemberships(u.UserName, store.SourceSCIM, nil, now); err != nil {
			return err
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(DirectoryActor), Action: "directory.user.deleted", Subject: u.UserName,
			Detail: map[string]any{"id": u.ID, "groups": len(groups)}}); err != nil {
			return err
		}
		if wasActive {
			_, err = s.deprovision(tx, DirectoryActor, u.UserName, ByDirectory, "deleted from the directory")
		}
		return err
	})
}

// syncMemberships rewrites the SCIM memberships of the users with ids
// from the groups that list them: the names of those groups, or none
// for a user who is inactive.
func (s *Service) syncMemberships(tx store.Tx, ids []string) error {
	now := s.now()
	for _, id := range ids {
		u, err := tx.DirectoryUser(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var names []string
		if u.Active && !u.Deleted {
			groups, err := tx.GroupsWithMember(id)
			if err != nil {
				return err
			}
			for _, g := range groups {
				names = append(names, g.DisplayName)
			}
		}
		if err := tx.SetDirectoryMemberships(u.UserName, store.SourceSCIM, names, now); err != nil {
			return err
		}
	}
	return nil
}
