package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The lease is a row keyed by user: inserting it is taking it, and the
// primary key makes sure only one session holds it, across every bastion
// and CA replica, without database-specific locks.

func (t *tx) TakeLease(l store.Lease, now time.Time) (*store.Lease, error) {
	_, err := t.exec(`INSERT INTO session_leases (username, session_id, bastion, expires_us) VALUES (?, ?, ?, ?)`,
		l.User, l.SessionID, l.Bastion, us(l.Expires))
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, store.ErrDuplicate) {
		return nil, fmt.Errorf("taking %s's session lease: %w", l.User, err)
	}
	// Someone holds it: take it over only if their lease ran out.
	res, err := t.exec(`UPDATE session_leases SET session_id = ?, bastion = ?, expires_us = ? WHERE username = ? AND expires_us <= ?`,
		l.SessionID, l.Bastion, us(l.Expires), l.User, us(now))
	if err != nil {
		return nil, fmt.Errorf("taking over %s's session lease: %w", l.User, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil, nil
	}
	holder := store.Lease{User: l.User}
	var expires int64
	err = t.q.QueryRowContext(t.ctx, `SELECT session_id, bastion, expires_us FROM session_leases WHERE username = ?`, l.User).
		Scan(&holder.SessionID, &holder.Bastion, &expires)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading %s's session lease: %w", l.User, err)
	}
	holder.Expires = fromUS(expires)
	return &holder, fmt.Errorf("%s already has a session: %w", l.User, store.ErrConflict)
}

func (t *tx) RenewLease(user, sessionID string, expires time.Time) error {
	res, err := t.exec(`UPDATE session_leases SET expires_us = ? WHERE username = ? AND session_id = ?`, us(expires), user, sessionID)
	if err != nil {
		return fmt.Errorf("renewing %s's session lease: %w", user, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%s's lease is not held by %s: %w", user, sessionID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) ReleaseLease(user, sessionID string) error {
	if _, err := t.exec(`DELETE FROM session_leases WHERE username = ? AND session_id = ?`, user, sessionID); err != nil {
		return fmt.Errorf("releasing %s's session lease: %w", user, err)
	}
	return nil
}

func (t *tx) Lease(user string) (*store.Lease, error) {
	l := store.Lease{User: user}
	var expires int64
	err := t.q.QueryRowContext(t.ctx, `SELECT session_id, bastion, expires_us FROM session_leases WHERE username = ?`, user).
		Scan(&l.SessionID, &l.Bastion, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s's session lease: %w", user, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s's session lease: %w", user, err)
	}
	l.Expires = fromUS(expires)
	return &l, nil
}

func (t *tx) Throttle(key string) (*store.Throttle, error) {
	th := store.Throttle{Key: key}
	var last, blocked int64
	err := t.q.QueryRowContext(t.ctx, `SELECT failures, last_failure_us, blocked_until_us FROM throttles WHERE throttle_key = ?`, key).
		Scan(&th.Failures, &last, &blocked)
	if errors.Is(err, sql.ErrNoRows) {
		return &th, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading throttle %s: %w", key, err)
	}
	th.LastFailure, th.BlockedUntil = fromUS(last), fromUS(blocked)
	return &th, nil
}

func (t *tx) PutThrottle(th *store.Throttle) error {
	if _, err := t.exec(`DELETE FROM throttles WHERE throttle_key = ?`, th.Key); err != nil {
		return fmt.Errorf("writing throttle %s: %w", th.Key, err)
	}
	if th.Failures == 0 {
		return nil
	}
	if _, err := t.exec(`INSERT INTO throttles (throttle_key, failures, last_failure_us, blocked_until_us) VALUES (?, ?, ?, ?)`,
		th.Key, th.Failures, us(th.LastFailure), us(th.BlockedUntil)); err != nil {
		return fmt.Errorf("writing throttle %s: %w", th.Key, err)
	}
	return nil
}
