package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// querier is what a *sql.Tx offers.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx implements store.Tx.
type tx struct {
	ctx      context.Context
	q        querier
	d        dialect
	readOnly bool
	// held, in a transaction several Updates share, keeps their appends
	// for the end of the batch (see deferred); nil otherwise. broken is
	// why held rows could not be written, which fails the batch.
	held   *deferred
	broken error
}

var errReadOnly = errors.New("store: write in a read-only transaction")

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	res, err := t.q.ExecContext(t.ctx, query, args...)
	if err != nil && t.d.isDuplicate(err) {
		return nil, fmt.Errorf("%w: %v", store.ErrDuplicate, err)
	}
	return res, err
}

// us stores times as microseconds since the epoch; the zero time as 0.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func marshalList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func unmarshalList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("store: corrupt list %q: %w", s, err)
	}
	return l, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
