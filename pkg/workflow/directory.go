package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// ErrDeactivated: the person is disabled (or deleted) in the
// organisation's directory, and refused everything while so.
var ErrDeactivated = errors.New("account deactivated in the directory")

// directoryView is the policy with the directory's group membership
// merged in (policy.WithDirectory), for the policy it was made from.
type directoryView struct {
	base    *policy.Policy
	members map[string][]string // user → directory groups
	merged  *policy.Policy
}

// policy returns the current policy with the directory's group
// membership, as last read from the store, merged into bound groups.
// Every decision reads it once and uses that value throughout.
//
// This replica's directory changes take effect at their commit; those
// made through another replica (and OIDC sign-ins there) when the sweep
// next reads the store (sweep_interval). Approvals do not wait for that:
// they read the membership in their own transaction (policyIn).
func (s *Service) policy() *policy.Policy {
	base := s.cfg.Policy.Get()
	v := s.directory.Load()
	if v == nil || len(v.members) == 0 || !base.Bound() {
		return base
	}
	if v.base == base {
		return v.merged
	}
	nv := &directoryView{base: base, members: v.members, merged: base.WithDirectory(v.members)}
	s.directory.CompareAndSwap(v, nv) // losing the race to a fresher view is fine
	return nv.merged
}

// policyIn is policy with the directory membership read in tx, for
// decisions that must not act on a membership the directory has since
// changed through another replica.
func (s *Service) policyIn(tx store.Tx) (*policy.Policy, error) {
	base := s.cfg.Policy.Get()
	if !base.Bound() {
		return base, nil
	}
	members, err := readMemberships(tx)
	if err != nil {
		return nil, err
	}
	return base.WithDirectory(members), nil
}

// readMemberships reads every user's directory groups.
func readMemberships(tx store.Tx) (map[string][]string, error) {
	rows, err := tx.DirectoryMemberships()
	if err != nil {
		return nil, fmt.Errorf("reading directory group memberships: %w", err)
	}
	out := map[string][]string{}
	for _, m := range rows {
		out[m.User] = append(out[m.User], m.Group)
	}
	return out, nil
}

// keepMemberships makes members the directory membership policy merges.
func (s *Service) keepMemberships(members map[string][]string) {
	base := s.cfg.Policy.Get()
	s.directory.Store(&directoryView{base: base, members: members, merged: base.WithDirectory(members)})
}

// LoadDirectory reads the directory's group membership from the store,
// as the sweep does; cmd/ca calls it once at start.
func (s *Service) LoadDirectory(ctx context.Context) error {
	var members map[string][]string
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		members, err = readMemberships(tx)
		return err
	})
	if err != nil {
		return err
	}
	s.keepMemberships(members)
	return nil
}

// checkActive refuses a user the directory has deactivated or deleted.
// People the directory never provisioned are governed by the policy
// alone.
func checkActive(tx store.Tx, user string) error {
	u, err := tx.DirectoryUserByName(user)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !u.Active || u.Deleted {
		return errDeactivated(user)
	}
	return nil
}

// errDeactivated is the refusal of user, whom the directory disabled.
func errDeactivated(user string) error {
	return fmt.Errorf("%w: %s is disabled in the organisation's directory; ask an administrator of the directory", ErrDeactivated, user)
}

// CheckActive refuses a person the directory has deactivated: the API
// asks it for every call a user makes. A refusal is audited
// (auth.refused): the caller proved who they are.
func (s *Service) CheckActive(ctx context.Context, actor Actor) error {
	if !actor.IsUser() {
		return nil
	}
	var why error
	if err := s.viewEach(ctx, func(tx store.Tx) error {
		why = checkActive(tx, actor.User())
		return nil
	}); err != nil {
		return err
	}
	if why == nil {
		return nil
	}
	return s.RecordRefusal(ctx, actor, "auth.refused", actor.User(), why)
}
