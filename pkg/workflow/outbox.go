package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The notification outbox, request side: every event that tells someone
// something is written to the outbox in the transaction of the change it
// reports (one row per message and endpoint the router picks), so a
// crash can neither lose it nor invent it. Nothing here sends: package
// outbox delivers the rows afterwards, on any replica. Without a router
// nothing is queued.

// DefaultGrantEndingNotice is how long before a grant's window ends that
// the sweeper queues grant.ending_soon.
const DefaultGrantEndingNotice = 5 * time.Minute

// enqueue routes m and stores one outbox row per target, addressed to
// the target's recipients. A row already there (the same event again,
// as when a transaction is retried) is left as it is.
func (s *Service) enqueue(tx store.Tx, m *notify.Message, subject string) error {
	if s.cfg.Router == nil {
		return nil
	}
	for _, t := range s.cfg.Router.Route(m) {
		row := *m
		row.To = t.To
		body, err := json.Marshal(&row)
		if err != nil {
			return fmt.Errorf("encoding notification %s: %w", m.Key, err)
		}
		err = tx.EnqueueOutbox(&store.OutboxMessage{Key: m.Key, Endpoint: t.Endpoint, Kind: string(m.Kind),
			Subject: subject, Body: body, CreatedAt: m.Time})
		if err != nil && !errors.Is(err, store.ErrDuplicate) {
			return err
		}
	}
	return nil
}

// notifyRequest queues the message of kind about r, as r's page shows it
// at now, to the people named to (or, for request.pending, to everyone
// who can still approve it when to is nil). keyParts make the
// idempotency key with r's ID.
func (s *Service) notifyRequest(tx store.Tx, kind notify.Kind, r *store.Request, to []string, keyParts ...string) error {
	if s.cfg.Router == nil {
		return nil
	}
	approvals, err := tx.Approvals(r.ID)
	if err != nil {
		return err
	}
	now := s.now()
	v := describe(s.policy(), "", r, approvals, now)
	if kind == notify.RequestPending && to == nil {
		to = v.WhoCanApprove()
	}
	m := &notify.Message{Key: notify.NewKey(kind, append([]string{r.ID}, keyParts...)...), Kind: kind, Time: now,
		To: recipients(to), Link: s.requestLink(r.ID), Request: NotifyRequest(v)}
	return s.enqueue(tx, m, r.ID)
}

// notifyEscalated queues request.escalated for r to the members of the
// escalation groups now asked, once per escalation.
func (s *Service) notifyEscalated(tx store.Tx, r *store.Request) error {
	if s.cfg.Router == nil {
		return nil
	}
	approvals, err := tx.Approvals(r.ID)
	if err != nil {
		return err
	}
	p := s.policy()
	var to []string
	for _, n := range p.Needs(r.User, requirementsOf(p, r), approverNames(approvals)) {
		if n.Escalated {
			to = append(to, n.Of...)
		}
	}
	slices.Sort(to)
	return s.notifyRequest(tx, notify.RequestEscalated, r, slices.Compact(to), r.EscalatedAt.UTC().Format(time.RFC3339Nano))
}

// notifySession queues session.started or session.ended for sess when
// its resource has its own approval rule (customer data): the people
// that rule names get to see access to it.
func (s *Service) notifySession(tx store.Tx, kind notify.Kind, sess *store.Session) error {
	if s.cfg.Router == nil {
		return nil
	}
	p := s.policy()
	r, err := tx.Request(sess.RequestID)
	if err != nil {
		return err
	}
	a := p.Allows(r.Role, []string{sess.Resource})
	if len(a.Resources) != 1 || !a.Resources[0].OwnApproval() {
		return nil
	}
	approvals, err := tx.Approvals(r.ID)
	if err != nil {
		return err
	}
	v := describe(p, "", r, approvals, s.now())
	m := &notify.Message{Key: notify.NewKey(kind, sess.ID), Kind: kind, Time: s.now(), To: recipients([]string{sess.User}),
		Link: s.requestLink(r.ID), Request: NotifyRequest(v),
		Session: &notify.Session{ID: sess.ID, User: sess.User, Resource: sess.Resource, Role: sess.Role, RequestID: sess.RequestID,
			Command: sess.Command, StartedAt: sess.StartedAt, EndedAt: sess.EndedAt, EndReason: sess.EndReason}}
	return s.enqueue(tx, m, sess.ID)
}

// notifyEnding queues eligibility.ending for e, to the people who lose
// the eligibility and the team's managers.
func (s *Service) notifyEnding(tx store.Tx, e policy.Ending, now time.Time) error {
	to := slices.Concat(e.People, e.Managers)
	slices.Sort(to)
	m := &notify.Message{Key: notify.NewKey(notify.EligibilityEnding, e.Key()), Kind: notify.EligibilityEnding, Time: now,
		To: recipients(slices.Compact(to)),
		Eligibility: &notify.Eligibility{Team: e.Team, Member: e.Member, Roles: e.Roles, Resources: e.Resources,
			People: e.People, Managers: e.Managers, Until: e.Dates.Until}}
	return s.enqueue(tx, m, "team:"+e.Team)
}

// notifyDeprovisioned queues user.deprovisioned for d to the person's
// managers.
func (s *Service) notifyDeprovisioned(tx store.Tx, d *Deprovisioned, now time.Time) error {
	m := &notify.Message{Key: notify.NewKey(notify.UserDeprovisioned, d.User, now.UTC().Format(time.RFC3339Nano)),
		Kind: notify.UserDeprovisioned, Time: now, To: recipients(s.policy().ManagersOf(d.User)),
		Deprovisioned: &notify.Deprovisioned{User: d.User, By: d.By, Reason: d.Reason,
			Withdrawn: d.Withdrawn, Revoked: d.Revoked, Sessions: d.Sessions}}
	return s.enqueue(tx, m, d.User)
}

// noteGrants queues, once each (a notice row per grant and event, across
// replicas), grant.started when an approved grant's window has begun and
// grant.ending_soon within GrantEndingNotice of its end. Called by Sweep.
func (s *Service) noteGrants(tx store.Tx, now time.Time) error {
	if s.cfg.Router == nil {
		return nil
	}
	grants, err := tx.Requests(store.RequestFilter{States: []store.State{store.Approved}, Limit: maxOpen})
	if err != nil {
		return err
	}
	for _, r := range grants {
		if !r.Live(now) {
			continue
		}
		if err := s.noteGrantOnce(tx, notify.GrantStarted, r, now); err != nil {
			return err
		}
		if !now.Before(r.NotAfter.Add(-s.cfg.GrantEndingNotice)) {
			if err := s.noteGrantOnce(tx, notify.GrantEndingSoon, r, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) noteGrantOnce(tx store.Tx, kind notify.Kind, r *store.Request, now time.Time) error {
	err := tx.AddNotice(string(kind)+":"+r.ID, now)
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.notifyRequest(tx, kind, r, []string{r.User})
}

// requestLink is request id's page on the web form, if its address is
// configured.
func (s *Service) requestLink(id string) string {
	if s.cfg.WebURL == "" {
		return ""
	}
	return s.cfg.WebURL + "/ui/requests/" + id
}

func recipients(names []string) []notify.Recipient {
	var out []notify.Recipient
	for _, n := range names {
		out = append(out, notify.Recipient{Name: n})
	}
	return out
}
