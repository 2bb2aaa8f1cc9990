package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// RequestView is a request with what a reader needs to act on it.
type RequestView struct {
	*store.Request
	// Approvals are the approvals given: who, when, with what reason. Get
	// fills them in every state; List for pending requests only.
	Approvals []store.Approval
	// Outstanding describes the approvals still needed (pending requests),
	// as the audit log words them ("1 from group security").
	Outstanding []string
	// Needs are the same approvals with who can give each, and whether
	// the reader can (pending requests).
	Needs []Need
	// Allows is what the grant lets its holder do, under the current
	// policy (pending and approved requests).
	Allows *policy.Allowance
	// Window is the grant's window: for a pending request the one it
	// would have if approved now, for an approved one its own; nil for
	// requests that never started a grant.
	Window *Window
	// NoLongerFits says why a pending request can no longer be approved
	// under the current policy (what changed since it was made).
	NoLongerFits string
	// At is the time the view was made at, by the workflow's clock: the
	// "now" of Window's "if approved now".
	At time.Time
	// CanApprove tells the reader whether their approval now would count:
	// the request still fits the policy and waits for an approval they
	// can give (they are named in Needs, marked You).
	CanApprove bool
	// GrantDuration is how long the grant lasts (or would last if
	// approved now): the duration asked, or the shortest an approver gave.
	// Set where Approvals are.
	GrantDuration time.Duration
	// StepUpMFA: the role asks for a fresh MFA code to approve the request
	// and to fetch its certificate.
	StepUpMFA bool
}

// Get returns request id if actor may see it: the requester, anyone who
// may approve it, and auditors.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (*RequestView, error) {
	var v *RequestView
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Request(id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if !s.mayManage(actor, r) {
			// The same answer as for a missing request: IDs are not a
			// way to learn about other people's requests.
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		v, err = s.view(tx, actor, r, true)
		return err
	})
	return v, err
}

// view describes r for actor; the approvals of a decided request are read
// only when withApprovals is set (one query each, too many for a list).
func (s *Service) view(tx store.Tx, actor Actor, r *store.Request, withApprovals bool) (*RequestView, error) {
	var approvals []store.Approval
	if r.State == store.Pending || withApprovals {
		var err error
		if approvals, err = tx.Approvals(r.ID); err != nil {
			return nil, err
		}
	}
	return describe(s.policy(), actor, r, approvals, s.now()), nil
}

// ListFilter selects requests for List.
type ListFilter struct {
	Mine    bool // only the actor's own
	Pending bool // only pending ones
	Limit   int
}

// List returns the requests actor may see, newest first.
func (s *Service) List(ctx context.Context, actor Actor, f ListFilter) ([]*RequestView, error) {
	if !actor.IsUser() {
		return nil, fmt.Errorf("%w: only people list requests", ErrForbidden)
	}
	sf := store.RequestFilter{Limit: f.Limit}
	if f.Mine {
		sf.User = actor.User()
	}
	if f.Pending {
		sf.States = []store.State{store.Pending}
	}
	var out []*RequestView
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		rs, err := tx.Requests(sf)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, r := range rs {
			if !s.mayManage(actor, r) {
				continue
			}
			v, err := s.view(tx, actor, r, false)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// AuditLog returns up to limit audit records after seq; auditors only.
func (s *Service) AuditLog(ctx context.Context, actor Actor, after int64, limit int) ([]audit.Record, error) {
	if !actor.IsUser() || !s.policy().IsAuditor(actor.User()) {
		return nil, fmt.Errorf("%w: reading the audit log is for auditors", ErrForbidden)
	}
	var out []audit.Record
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(after, limit)
		out = toAudit(rows)
		return err
	})
	return out, err
}

func toAudit(rows []store.AuditRecord) []audit.Record {
	out := make([]audit.Record, len(rows))
	for i, r := range rows {
		out[i] = audit.Record{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject,
			Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
	}
	return out
}

// Verification is the result of checking the whole audit chain.
type Verification struct {
	Rows     int64  `json:"rows"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash []byte `json:"head_hash"`
	// Error names the first broken row; empty when the chain is intact.
	Error string `json:"error,omitempty"`
}

// VerifyAudit walks the whole audit chain in pages and checks it against
// the recorded head; auditors only.
func (s *Service) VerifyAudit(ctx context.Context, actor Actor) (*Verification, error) {
	if !actor.IsUser() || !s.policy().IsAuditor(actor.User()) {
		return nil, fmt.Errorf("%w: verifying the audit log is for auditors", ErrForbidden)
	}
	var v audit.Verifier
	var res Verification
	var after int64
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if res.HeadSeq, res.HeadHash, err = tx.AuditHead(); err != nil {
			return err
		}
		for {
			rows, err := tx.Audit(after, 5000)
			if err != nil {
				return err
			}
			for _, r := range toAudit(rows) {
				if err := v.Next(r); err != nil {
					return err
				}
				after = r.Seq
			}
			if len(rows) < 5000 {
				break
			}
		}
		head := res.HeadHash
		if head == nil {
			head = audit.Genesis
		}
		res.Rows, err = v.End(res.HeadSeq, head)
		return err
	})
	var ce *audit.ChainError
	if errors.As(err, &ce) {
		res.Error = ce.Error()
		return &res, nil
	}
	if err != nil {
		return nil, err
	}
	return &res, nil
}
