package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func (t *tx) Password(user string) (*store.Password, error) {
	p := store.Password{User: user}
	var set int64
	err := t.q.QueryRowContext(t.ctx, `SELECT hash, set_us FROM web_passwords WHERE username = ?`, user).Scan(&p.Hash, &set)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("password of %q: %w", user, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s's password: %w", user, err)
	}
	p.SetAt = fromUS(set)
	return &p, nil
}

func (t *tx) PutPassword(p *store.Password) error {
	if _, err := t.exec(`DELETE FROM web_passwords WHERE username = ?`, p.User); err != nil {
		return fmt.Errorf("replacing %s's password: %w", p.User, err)
	}
	if _, err := t.exec(`INSERT INTO web_passwords (username, hash, set_us) VALUES (?, ?, ?)`, p.User, p.Hash, us(p.SetAt)); err != nil {
		return fmt.Errorf("storing %s's password: %w", p.User, err)
	}
	return nil
}

func (t *tx) CreateWebSession(s *store.WebSession) error {
	_, err := t.exec(`INSERT INTO web_sessions (token_hash, username, csrf, client_addr, created_us, last_seen_us, idle_until_us, expires_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.TokenHash, s.User, s.CSRF, s.Addr, us(s.CreatedAt), us(s.LastSeen), us(s.IdleUntil), us(s.Expires))
	if err != nil {
		return fmt.Errorf("creating a web session for %s: %w", s.User, err)
	}
	return nil
}

func (t *tx) WebSession(tokenHash string) (*store.WebSession, error) {
	s := store.WebSession{TokenHash: tokenHash}
	var created, seen, idle, expires int64
	err := t.q.QueryRowContext(t.ctx, `SELECT username, csrf, client_addr, created_us, last_seen_us, idle_until_us, expires_us
		FROM web_sessions WHERE token_hash = ?`, tokenHash).Scan(&s.User, &s.CSRF, &s.Addr, &created, &seen, &idle, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("web session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading a web session: %w", err)
	}
	s.CreatedAt, s.LastSeen, s.IdleUntil, s.Expires = fromUS(created), fromUS(seen), fromUS(idle), fromUS(expires)
	return &s, nil
}

func (t *tx) TouchWebSession(tokenHash string, lastSeen, idleUntil time.Time) error {
	res, err := t.exec(`UPDATE web_sessions SET last_seen_us = ?, idle_until_us = ? WHERE token_hash = ?`, us(lastSeen), us(idleUntil), tokenHash)
	if err != nil {
		return fmt.Errorf("touching a web session: %w", err)
	}
	// MySQL counts only changed rows: a touch within the same microsecond
	// changes nothing, but the row exists; check it.
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	_, err = t.WebSession(tokenHash)
	return err
}

func (t *tx) DeleteWebSession(tokenHash string) error {
	if _, err := t.exec(`DELETE FROM web_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("deleting a web session: %w", err)
	}
	return nil
}

func (t *tx) DeleteUserWebSessions(user string) error {
	if _, err := t.exec(`DELETE FROM web_sessions WHERE username = ?`, user); err != nil {
		return fmt.Errorf("deleting %s's web sessions: %w", user, err)
	}
	return nil
}

func (t *tx) PruneWebSessions(now time.Time) error {
	if _, err := t.exec(`DELETE FROM web_sessions WHERE idle_until_us <= ? OR expires_us <= ?`, us(now), us(now)); err != nil {
		return fmt.Errorf("pruning web sessions: %w", err)
	}
	return nil
}
