package workflow

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Who deprovisions, as requests and grants name the decider; the
// bastion tells the user "grant revoked by directory: ...".
const (
	ByDirectory = "directory"
	ByPolicy    = "policy"
)

// ActionDeprovisioned is the audit action of a person's deprovisioning:
// the one row that says everything they lost. It is written in the
// transaction that takes it away (deprovisioned), the place the outbox
// hooks to tell the person's managers.
const ActionDeprovisioned = "user.deprovisioned"

// Deprovisioned is what a person lost at once.
type Deprovisioned struct {
	User   string
	By     string // ByDirectory or ByPolicy
	Reason string
	// Withdrawn are the pending requests denied, Revoked the grants
	// (live or scheduled) revoked: their certificates are in the KRL
	// from this commit on. Sessions are the sessions still open on a
	// bastion: the bastion ends them at its next heartbeat, with the
	// reason, because their grants are revoked.
	Withdrawn []string
	Revoked   []string
	Sessions  []string
}

// maxOpen bounds the open requests one deprovisioning reads: far above
// what the per-user limits allow.
const maxOpen = 10000

// Deprovision takes everything from user at once, in one transaction:
// pending requests withdrawn (denied with the reason), grants live or
// scheduled revoked (into the KRL), web sessions ended; sessions open on
// a bastion end at its next heartbeat with "grant revoked by BY:
// REASON". All of it is audited, each request and grant on its own row
// and the whole under ActionDeprovisioned. TOTP enrolment and the web
// password are kept: they open nothing without the identity key and an
// active account, and a person who comes back need not enrol again.
//
// by names who took the access (ByDirectory, ByPolicy); actor is the
// caller ("directory:scim", "system").
func (s *Service) Deprovision(ctx context.Context, actor Actor, user, by, reason string) (*Deprovisioned, error) {
	var out *Deprovisioned
	err := s.update(ctx, func(tx store.Tx) (err error) {
		out, err = s.deprovision(tx, actor, user, by, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) deprovision(tx store.Tx, actor Actor, user, by, reason string) (*Deprovisioned, error) {
	now := s.now()
	d := &Deprovisioned{User: user, By: by, Reason: reason}
	open, err := tx.Requests(store.RequestFilter{User: user, States: []store.State{store.Pending, store.Approved}, Limit: maxOpen})
	if err != nil {
		return nil, err
	}
	for _, found := range open {
		r, err := tx.LockRequest(found.ID) // racing approvers wait, then find it decided
		if err != nil {
			return nil, err
		}
		from := r.State
		switch {
		case r.State == store.Pending:
			r.State = store.Denied
			d.Withdrawn = append(d.Withdrawn, r.ID)
		case r.Granted(now):
			r.State = store.Revoked
			d.Revoked = append(d.Revoked, r.ID)
		default:
			continue // a grant past its window: the sweep expires it
		}
		r.DecidedAt, r.DecidedBy, r.Decision = now, by, reason
		if err := tx.UpdateRequest(r, from); err != nil {
			return nil, err
		}
		action := "request.withdrawn"
		if r.State == store.Revoked {
			action = "grant.revoked"
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: action, Subject: r.ID,
			Detail: map[string]any{"reason": reason, "by": by, "deprovisioned": user}}); err != nil {
			return nil, err
		}
	}
	sessions, err := tx.Sessions(store.SessionFilter{User: user, Open: true})
	if err != nil {
		return nil, err
	}
	for _, sess := range sessions {
		d.Sessions = append(d.Sessions, sess.ID)
	}
	if err := tx.DeleteUserWebSessions(user); err != nil {
		return nil, err
	}
	return d, s.deprovisioned(tx, actor, d, now)
}

// deprovisioned audits what d took away and queues the message to the
// person's managers: the one call site for what must follow a
// deprovisioning.
func (s *Service) deprovisioned(tx store.Tx, actor Actor, d *Deprovisioned, now time.Time) error {
	if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: ActionDeprovisioned, Subject: d.User,
		Detail: map[string]any{"by": d.By, "reason": d.Reason, "withdrawn": orEmpty(d.Withdrawn), "revoked": orEmpty(d.Revoked),
			"sessions": orEmpty(d.Sessions), "web_sessions": "ended"}}); err != nil {
		return err
	}
	return s.notifyDeprovisioned(tx, d, now)
}

// orEmpty keeps an empty list a list in the audit detail.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// DeprovisionRemoved deprovisions the people who were in old but are not
// in the current policy, and anyone else who still holds a pending
// request or a grant but is not in the current policy (a policy edited
// while the CA was down). cmd/ca calls it after each successful policy
// reload, and at start with old nil. Each person is deprovisioned in a
// transaction of their own; it returns what was done before the first
// failure.
func (s *Service) DeprovisionRemoved(ctx context.Context, old *policy.Policy) ([]*Deprovisioned, error) {
	cur := s.cfg.Policy.Get()
	var names []string
	if old != nil {
		for name := range old.Users {
			if cur.Users[name] == nil {
				names = append(names, name)
			}
		}
	}
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		open, err := tx.Requests(store.RequestFilter{States: []store.State{store.Pending, store.Approved}, Limit: maxOpen})
		if err != nil {
			return err
		}
		now := s.now()
		for _, r := range open {
			if cur.Users[r.User] == nil && (r.State == store.Pending || r.Granted(now)) {
				names = append(names, r.User)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding people removed from the policy: %w", err)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []*Deprovisioned
	for _, name := range names {
		d, err := s.Deprovision(ctx, "system", name, ByPolicy, "removed from the policy")
		if err != nil {
			return out, fmt.Errorf("deprovisioning %s: %w", name, err)
		}
		out = append(out, d)
	}
	return out, nil
}
