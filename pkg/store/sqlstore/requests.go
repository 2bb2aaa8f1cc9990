package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

const requestColumns = `id, requester, role, resources, duration_us, reason, ticket, state,
	created_us, pending_until_us, decided_us, decided_by, decision, not_before_us, not_after_us,
	start_us, escalate_at_us, escalated_us`

// requestColumnCount is the number of requestColumns.
const requestColumnCount = 18

func requestArgs(r *store.Request) []any {
	return []any{r.ID, r.User, r.Role, marshalList(r.Resources), r.Duration.Microseconds(), r.Reason, r.Ticket, string(r.State),
		us(r.CreatedAt), us(r.PendingUntil), us(r.DecidedAt), r.DecidedBy, r.Decision, us(r.NotBefore), us(r.NotAfter),
		us(r.Start), us(r.EscalateAt), us(r.EscalatedAt)}
}

type scanner interface{ Scan(dest ...any) error }

func scanRequest(s scanner) (*store.Request, error) {
	var r store.Request
	var resources, state string
	var dur, created, pending, decided, nb, na, start, escAt, escd int64
	if err := s.Scan(&r.ID, &r.User, &r.Role, &resources, &dur, &r.Reason, &r.Ticket, &state,
		&created, &pending, &decided, &r.DecidedBy, &r.Decision, &nb, &na, &start, &escAt, &escd); err != nil {
		return nil, err
	}
	var err error
	if r.Resources, err = unmarshalList(resources); err != nil {
		return nil, err
	}
	r.State = store.State(state)
	r.Duration = time.Duration(dur) * time.Microsecond
	r.CreatedAt, r.PendingUntil, r.DecidedAt = fromUS(created), fromUS(pending), fromUS(decided)
	r.NotBefore, r.NotAfter = fromUS(nb), fromUS(na)
	r.Start, r.EscalateAt, r.EscalatedAt = fromUS(start), fromUS(escAt), fromUS(escd)
	return &r, nil
}

func (t *tx) CreateRequest(r *store.Request) error {
	_, err := t.exec(qInsertRequest, requestArgs(r)...)
	if err != nil {
		return fmt.Errorf("creating request %s: %w", r.ID, err)
	}
	return nil
}

func (t *tx) Request(id string) (*store.Request, error) { return t.request(id, "") }

func (t *tx) LockRequest(id string) (*store.Request, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	if t.held != nil {
		if r := t.held.locked[id]; r != nil {
			return copyRequest(r), nil
		}
	}
	r, err := t.request(id, t.d.forUpdate())
	if err == nil && t.held != nil {
		t.held.locked[id] = copyRequest(r)
	}
	return r, err
}

func copyRequest(r *store.Request) *store.Request {
	c := *r
	c.Resources = slices.Clone(r.Resources)
	return &c
}

func (t *tx) request(id, suffix string) (*store.Request, error) {
	r, err := scanRequest(t.q.QueryRowContext(t.ctx, qSelectRequest+suffix, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("request %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request %s: %w", id, err)
	}
	return r, nil
}

func (t *tx) UpdateRequest(r *store.Request, from store.State) error {
	args := requestArgs(r)[1:]
	args = append(args, r.ID, string(from))
	res, err := t.exec(qUpdateRequest, args...)
	if err != nil {
		return fmt.Errorf("updating request %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("updating request %s: %w", r.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("request %s is no longer %s: %w", r.ID, from, store.ErrConflict)
	}
	return nil
}

func (t *tx) Requests(f store.RequestFilter) ([]*store.Request, error) {
	var where []string
	var args []any
	if f.User != "" {
		where, args = append(where, "requester = ?"), append(args, f.User)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if !f.PendingBefore.IsZero() {
		where, args = append(where, "state = 'pending' AND pending_until_us <= ?"), append(args, us(f.PendingBefore))
	}
	if !f.EndedBefore.IsZero() {
		where, args = append(where, "state = 'approved' AND not_after_us <= ?"), append(args, us(f.EndedBefore))
	}
	if !f.EscalateBefore.IsZero() {
		where, args = append(where, "state = 'pending' AND escalate_at_us > 0 AND escalate_at_us <= ?"), append(args, us(f.EscalateBefore))
	}
	q := `SELECT ` + requestColumns + ` FROM requests`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += fmt.Sprintf(" ORDER BY created_us DESC, id LIMIT %d", limit)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	defer rows.Close()
	var out []*store.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("listing requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *tx) CountOpen(user string, now time.Time) (pending, active int, err error) {
	suffix := ""
	if !t.readOnly {
		suffix = t.d.forUpdate() // a user's submissions serialise on their rows
	}
	err = t.q.QueryRowContext(t.ctx, qCountOpen+suffix, us(now), us(now), user).Scan(&pending, &active)
	if err != nil {
		return 0, 0, fmt.Errorf("counting %s's requests: %w", user, err)
	}
	return pending, active, nil
}

func (t *tx) AddApproval(a store.Approval) error {
	_, err := t.exec(qInsertApproval,
		a.RequestID, a.Approver, a.Reason, us(a.At), a.Duration.Microseconds())
	if err != nil {
		return fmt.Errorf("recording %s's approval of %s: %w", a.Approver, a.RequestID, err)
	}
	return nil
}

func (t *tx) Approvals(requestID string) ([]store.Approval, error) {
	rows, err := t.q.QueryContext(t.ctx, qSelectApprovals, requestID)
	if err != nil {
		return nil, fmt.Errorf("reading approvals of %s: %w", requestID, err)
	}
	defer rows.Close()
	var out []store.Approval
	for rows.Next() {
		var a store.Approval
		var at, dur int64
		if err := rows.Scan(&a.RequestID, &a.Approver, &a.Reason, &at, &dur); err != nil {
			return nil, fmt.Errorf("reading approvals of %s: %w", requestID, err)
		}
		a.At, a.Duration = fromUS(at), time.Duration(dur)*time.Microsecond
		out = append(out, a)
	}
	return out, rows.Err()
}
