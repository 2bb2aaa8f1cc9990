package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
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
