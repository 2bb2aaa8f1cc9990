package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func (t *tx) Answer(principal, key string) (*store.Answer, error) {
	a := store.Answer{Principal: principal, Key: key}
	var created, expires int64
	err := t.q.QueryRowContext(t.ctx, qSelectAnswer, principal, key).Scan(&a.Fingerprint, &a.Status, &a.Body, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("answer of %s under key %q: %w", principal, key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading an answer of %s: %w", principal, err)
	}
	a.Created, a.Expires = fromUS(created), fromUS(expires)
	return &a, nil
}

func (t *tx) Admission(userName, principal, key string) (bool, *store.Answer, error) {
	var active, deleted, status, created, expires sql.NullInt64
	var fingerprint, body []byte
	err := t.q.QueryRowContext(t.ctx, qAdmission, strings.ToLower(userName), principal, key).
		Scan(&active, &deleted, &fingerprint, &status, &body, &created, &expires)
	if err != nil {
		return false, nil, fmt.Errorf("reading the admission of %s: %w", principal, err)
	}
	disabled := userName != "" && active.Valid && (active.Int64 == 0 || deleted.Int64 != 0)
	if !status.Valid {
		return disabled, nil, nil
	}
	return disabled, &store.Answer{Principal: principal, Key: key, Fingerprint: fingerprint, Status: int(status.Int64), Body: body,
		Created: fromUS(created.Int64), Expires: fromUS(expires.Int64)}, nil
}

func (t *tx) KeepAnswer(a *store.Answer) error {
	args := []any{a.Principal, a.Key, a.Fingerprint, a.Status, a.Body, us(a.Created), us(a.Expires)}
	var err error
	if t.held != nil {
		err = t.held.hold(answerTable, args...)
	} else {
		_, err = t.exec(answerTable.insert(1), args...)
	}
	if err != nil {
		return fmt.Errorf("keeping an answer of %s: %w", a.Principal, err)
	}
	return nil
}

func (t *tx) PruneAnswers(now time.Time) error {
	if _, err := t.exec(`DELETE FROM answers WHERE expires_us < ?`, us(now)); err != nil {
		return fmt.Errorf("pruning kept answers: %w", err)
	}
	return nil
}
