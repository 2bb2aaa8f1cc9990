package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

const sessionColumns = `id, requester, request_id, resource, role, bastion, client_addr, command,
	started_us, ended_us, end_reason, recording_size, recording_sha256, recorded_us`

func sessionArgs(s *store.Session) []any {
	return []any{s.ID, s.User, s.RequestID, s.Resource, s.Role, s.Bastion, s.ClientAddr, s.Command,
		us(s.StartedAt), us(s.EndedAt), s.EndReason, s.RecordingSize, s.RecordingSHA256, us(s.RecordedAt)}
}

func scanSession(sc scanner) (*store.Session, error) {
	var s store.Session
	var started, ended, recorded int64
	if err := sc.Scan(&s.ID, &s.User, &s.RequestID, &s.Resource, &s.Role, &s.Bastion, &s.ClientAddr, &s.Command,
		&started, &ended, &s.EndReason, &s.RecordingSize, &s.RecordingSHA256, &recorded); err != nil {
		return nil, err
	}
	s.StartedAt, s.EndedAt, s.RecordedAt = fromUS(started), fromUS(ended), fromUS(recorded)
	return &s, nil
}

func (t *tx) CreateSession(s *store.Session) error {
	if _, err := t.exec(`INSERT INTO sessions (`+sessionColumns+`) VALUES (`+placeholders(14)+`)`, sessionArgs(s)...); err != nil {
		return fmt.Errorf("creating session %s: %w", s.ID, err)
	}
	return nil
}

func (t *tx) Session(id string) (*store.Session, error) {
	s, err := scanSession(t.q.QueryRowContext(t.ctx, qSelectSession, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading session %s: %w", id, err)
	}
	return s, nil
}

func (t *tx) UpdateSession(s *store.Session) error {
	args := append(sessionArgs(s)[1:], s.ID)
	res, err := t.exec(`UPDATE sessions SET requester = ?, request_id = ?, resource = ?, role = ?, bastion = ?, client_addr = ?, command = ?,
		started_us = ?, ended_us = ?, end_reason = ?, recording_size = ?, recording_sha256 = ?, recorded_us = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("updating session %s: %w", s.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("session %q: %w", s.ID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) Sessions(f store.SessionFilter) ([]*store.Session, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.User != "" {
		add("requester = ?", f.User)
	}
	if f.Resource != "" {
		add("resource = ?", f.Resource)
	}
	if f.RequestID != "" {
		add("request_id = ?", f.RequestID)
	}
	if !f.Since.IsZero() {
		add("started_us >= ?", us(f.Since))
	}
	if !f.Until.IsZero() {
		add("started_us < ?", us(f.Until))
	}
	if f.Open {
		where = append(where, "ended_us = 0")
	}
	if f.EndReason != "" {
		add("INSTR(end_reason, ?) > 0", f.EndReason)
	}
	q := `SELECT ` + sessionColumns + ` FROM sessions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q += " ORDER BY started_us DESC, id LIMIT ?"
	rows, err := t.q.QueryContext(t.ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	defer rows.Close()
	var out []*store.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("listing sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
