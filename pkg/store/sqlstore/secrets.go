package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func (t *tx) UseNonce(principal, nonce string, expires time.Time) error {
	if t.held != nil {
		if err := t.held.hold(nonceTable, principal, nonce, us(expires)); err != nil {
			return fmt.Errorf("recording nonce: %w", err)
		}
		return nil
	}
	if _, err := t.exec(qInsertNonce, principal, nonce, us(expires)); err != nil {
		return fmt.Errorf("recording nonce: %w", err)
	}
	return nil
}

func (t *tx) PruneNonces(now time.Time) error {
	if _, err := t.exec(`DELETE FROM nonces WHERE expires_us < ?`, us(now)); err != nil {
		return fmt.Errorf("pruning nonces: %w", err)
	}
	return nil
}

func (t *tx) MFA(user string) (*store.MFA, error) {
	m := store.MFA{User: user}
	var enrolled int64
	err := t.q.QueryRowContext(t.ctx, `SELECT secret, last_step, enrolled_us FROM mfa WHERE username = ?`, user).Scan(&m.Secret, &m.LastStep, &enrolled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("mfa for %q: %w", user, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading mfa for %s: %w", user, err)
	}
	m.EnrolledAt = fromUS(enrolled)
	return &m, nil
}

func (t *tx) PutMFA(m *store.MFA) error {
	if _, err := t.exec(`DELETE FROM mfa WHERE username = ?`, m.User); err != nil {
		return fmt.Errorf("replacing mfa for %s: %w", m.User, err)
	}
	if _, err := t.exec(`INSERT INTO mfa (username, secret, last_step, enrolled_us) VALUES (?, ?, ?, ?)`,
		m.User, m.Secret, m.LastStep, us(m.EnrolledAt)); err != nil {
		return fmt.Errorf("storing mfa for %s: %w", m.User, err)
	}
	return nil
}

func (t *tx) AdvanceMFAStep(user string, step int64) error {
	res, err := t.exec(`UPDATE mfa SET last_step = ? WHERE username = ? AND last_step < ?`, step, user, step)
	if err != nil {
		return fmt.Errorf("recording %s's code: %w", user, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%s's code was used already: %w", user, store.ErrConflict)
	}
	return nil
}
