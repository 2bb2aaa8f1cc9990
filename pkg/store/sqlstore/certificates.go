package sqlstore

import (
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Serials are unsigned 64-bit; both engines store them as signed BIGINT,
// bit for bit.

func (t *tx) AddCertificate(c *store.Certificate) error {
	args := []any{int64(c.Serial), string(c.Kind), c.RequestID, c.User, c.Bastion, c.KeyID, marshalList(c.Principals), c.Fingerprint,
		us(c.ValidAfter), us(c.ValidBefore), us(c.IssuedAt)}
	var err error
	if t.held != nil {
		err = t.held.hold(certTable, args...)
	} else {
		_, err = t.exec(qInsertCertificate, args...)
	}
	if err != nil {
		return fmt.Errorf("recording certificate %d: %w", c.Serial, err)
	}
	return nil
}

func (t *tx) Certificates(requestID string) ([]*store.Certificate, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT serial, kind, request_id, requester, bastion, key_id, principals, fingerprint,
		valid_after_us, valid_before_us, issued_us FROM certificates WHERE request_id = ? ORDER BY issued_us, serial`, requestID)
	if err != nil {
		return nil, fmt.Errorf("reading certificates of %s: %w", requestID, err)
	}
	defer rows.Close()
	var out []*store.Certificate
	for rows.Next() {
		var c store.Certificate
		var serial, va, vb, issued int64
		var kind, principals string
		if err := rows.Scan(&serial, &kind, &c.RequestID, &c.User, &c.Bastion, &c.KeyID, &principals, &c.Fingerprint, &va, &vb, &issued); err != nil {
			return nil, fmt.Errorf("reading certificates of %s: %w", requestID, err)
		}
		c.Serial, c.Kind = uint64(serial), store.CertKind(kind)
		if c.Principals, err = unmarshalList(principals); err != nil {
			return nil, err
		}
		c.ValidAfter, c.ValidBefore, c.IssuedAt = fromUS(va), fromUS(vb), fromUS(issued)
		out = append(out, &c)
	}
	return out, rows.Err()
}

func (t *tx) RevokedSerials(kind store.CertKind, now time.Time) ([]uint64, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT c.serial FROM certificates c JOIN requests r ON r.id = c.request_id
		WHERE r.state = 'revoked' AND c.kind = ? AND c.valid_before_us > ? ORDER BY c.serial`, string(kind), us(now))
	if err != nil {
		return nil, fmt.Errorf("listing revoked serials: %w", err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("listing revoked serials: %w", err)
		}
		out = append(out, uint64(s))
	}
	return out, rows.Err()
}
