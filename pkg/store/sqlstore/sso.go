package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func (t *tx) CreateSSOPending(p *store.SSOPending) error {
	groups, err := json.Marshal(p.Groups)
	if err != nil {
		return fmt.Errorf("encoding %s's groups: %w", p.User, err)
	}
	_, err = t.exec(`INSERT INTO sso_pending (token_hash, username, groups_json, issuer, subject, client_addr, created_us, expires_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.TokenHash, p.User, string(groups), p.Issuer, p.Subject, p.Addr, us(p.CreatedAt), us(p.Expires))
	if err != nil {
		return fmt.Errorf("storing a sign-in of %s waiting for its code: %w", p.User, err)
	}
	return nil
}

func (t *tx) TakeSSOPending(tokenHash string) (*store.SSOPending, error) {
	p := store.SSOPending{TokenHash: tokenHash}
	var groups string
	var created, expires int64
	err := t.q.QueryRowContext(t.ctx, `SELECT username, groups_json, issuer, subject, client_addr, created_us, expires_us
		FROM sso_pending WHERE token_hash = ?`, tokenHash).Scan(&p.User, &groups, &p.Issuer, &p.Subject, &p.Addr, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("pending sign-in: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading a pending sign-in: %w", err)
	}
	res, err := t.exec(`DELETE FROM sso_pending WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return nil, fmt.Errorf("taking a pending sign-in: %w", err)
	}
	// Two replicas taking the same row: only the one whose delete
	// removed it may use it.
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, fmt.Errorf("pending sign-in taken already: %w", store.ErrNotFound)
	}
	if err := json.Unmarshal([]byte(groups), &p.Groups); err != nil {
		return nil, fmt.Errorf("decoding %s's pending groups: %w", p.User, err)
	}
	p.CreatedAt, p.Expires = fromUS(created), fromUS(expires)
	return &p, nil
}

func (t *tx) PruneSSOPending(now time.Time) error {
	if _, err := t.exec(`DELETE FROM sso_pending WHERE expires_us <= ?`, us(now)); err != nil {
		return fmt.Errorf("pruning pending sign-ins: %w", err)
	}
	return nil
}
