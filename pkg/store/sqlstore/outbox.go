package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The outbox's lease works as the session lease does, without
// database-specific locks: a claim is a conditional UPDATE (queued, due,
// lease run out), so of two replicas racing for a row the second finds
// the condition false once the first committed.

const outboxColumns = `msg_key, endpoint, kind, subject, body, state, attempts, created_us, due_us, lease_owner, lease_until_us, last_error, done_us`

func (t *tx) EnqueueOutbox(m *store.OutboxMessage) error {
	due := m.DueAt
	if due.IsZero() {
		due = m.CreatedAt
	}
	_, err := t.exec(`INSERT INTO outbox (`+outboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, '', 0, '', 0)`,
		m.Key, m.Endpoint, m.Kind, m.Subject, m.Body, string(store.OutboxQueued), us(m.CreatedAt), us(due))
	if err != nil {
		return fmt.Errorf("queueing notification %s for %s: %w", m.Key, m.Endpoint, err)
	}
	return nil
}

func (t *tx) ClaimOutbox(owner string, now, leaseUntil time.Time, limit int) ([]*store.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	// One statement claims them all, marking them with a token of this
	// claim (the owner and random characters), by which they are read
	// back and their outcome recorded.
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	token = owner + "#" + token[:12]
	due := `state = ? AND due_us <= ? AND lease_until_us <= ?`
	q := `UPDATE outbox SET lease_owner = ?, lease_until_us = ? WHERE rowid IN (SELECT rowid FROM outbox WHERE ` + due + ` ORDER BY due_us, msg_key, endpoint LIMIT ?)`
	if t.d.name() == "mysql" {
		q = `UPDATE outbox SET lease_owner = ?, lease_until_us = ? WHERE ` + due + ` ORDER BY due_us, msg_key, endpoint LIMIT ?`
	}
	res, err := t.exec(q, token, us(leaseUntil), string(store.OutboxQueued), us(now), us(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claiming due notifications: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return nil, nil
	}
	claimed, err := t.outboxRows(`WHERE lease_owner = ? AND state = ? ORDER BY due_us, msg_key, endpoint`, token, string(store.OutboxQueued))
	if err != nil {
		return nil, fmt.Errorf("reading claimed notifications: %w", err)
	}
	return claimed, nil
}

func (t *tx) FinishOutbox(owner string, m *store.OutboxMessage) error {
	if !strings.HasPrefix(m.LeaseOwner, owner+"#") {
		return fmt.Errorf("notification %s for %s was not claimed by %s: %w", m.Key, m.Endpoint, owner, store.ErrConflict)
	}
	res, err := t.exec(`UPDATE outbox SET state = ?, attempts = ?, due_us = ?, last_error = ?, done_us = ?, lease_owner = '', lease_until_us = 0
		WHERE msg_key = ? AND endpoint = ? AND lease_owner = ? AND state = ?`,
		string(m.State), m.Attempts, us(m.DueAt), m.LastError, us(m.DoneAt), m.Key, m.Endpoint, m.LeaseOwner, string(store.OutboxQueued))
	if err != nil {
		return fmt.Errorf("recording the delivery of %s to %s: %w", m.Key, m.Endpoint, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("notification %s for %s is no longer leased to %s: %w", m.Key, m.Endpoint, owner, store.ErrConflict)
	}
	m.LeaseOwner, m.LeaseUntil = "", time.Time{}
	return nil
}

func (t *tx) OutboxMessages(f store.OutboxFilter) ([]*store.OutboxMessage, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		where = append(where, "state IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.States)), ", ")+")")
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if !f.DueBy.IsZero() {
		where = append(where, "state = ? AND due_us <= ? AND lease_until_us <= ?")
		args = append(args, string(store.OutboxQueued), us(f.DueBy), us(f.DueBy))
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.outboxRows(q+" ORDER BY created_us DESC, msg_key, endpoint LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing notifications: %w", err)
	}
	return rows, nil
}

func (t *tx) CountOutbox() (map[store.OutboxState]int, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting notifications: %w", err)
	}
	defer rows.Close()
	out := map[store.OutboxState]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("counting notifications: %w", err)
		}
		out[store.OutboxState(s)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting notifications: %w", err)
	}
	return out, nil
}

func (t *tx) PruneOutbox(before time.Time) error {
	if _, err := t.exec(`DELETE FROM outbox WHERE state = ? AND done_us < ?`, string(store.OutboxDelivered), us(before)); err != nil {
		return fmt.Errorf("pruning delivered notifications: %w", err)
	}
	return nil
}

func (t *tx) outboxRows(tail string, args ...any) ([]*store.OutboxMessage, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT `+outboxColumns+` FROM outbox `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.OutboxMessage
	for rows.Next() {
		var m store.OutboxMessage
		var state string
		var created, due, leaseUntil, done int64
		if err := rows.Scan(&m.Key, &m.Endpoint, &m.Kind, &m.Subject, &m.Body, &state, &m.Attempts,
			&created, &due, &m.LeaseOwner, &leaseUntil, &m.LastError, &done); err != nil {
			return nil, err
		}
		m.State = store.OutboxState(state)
		m.CreatedAt, m.DueAt, m.LeaseUntil, m.DoneAt = fromUS(created), fromUS(due), fromUS(leaseUntil), fromUS(done)
		out = append(out, &m)
	}
	return out, rows.Err()
}
