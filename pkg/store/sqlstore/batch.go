package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// op is one Update waiting for the writer.
type op struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error
}

var errClosed = errors.New("store: closed")

// Update queues fn for the writer and waits until its transaction has
// committed or failed. It waits even when ctx ends meanwhile, because by
// then fn may already be committed, and the caller must not be told
// otherwise.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.ops <- o:
	case <-db.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-o.done
}

func (db *DB) writer(maxBatch int) {
	defer db.wg.Done()
	batch := make([]*op, 0, maxBatch)
	for {
		var first *op
		select {
		case first = <-db.ops:
		case <-db.quit:
			db.drain()
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case o := <-db.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		db.commit(batch)
	}
}

// drain fails what is still queued at Close.
func (db *DB) drain() {
	for {
		select {
		case o := <-db.ops:
			o.done <- errClosed
		default:
			return
		}
	}
}

// commit runs a batch in one transaction. If the transaction as a whole
// fails (a deadlock, a lost connection, a failed commit), every op is run
// again on its own, so that one op's trouble is not everyone's.
func (db *DB) commit(batch []*op) {
	errs, err := db.runBatch(batch)
	if err == nil {
		for i, o := range batch {
			o.done <- errs[i]
		}
		return
	}
	for _, o := range batch {
		o.done <- db.runAlone(o)
	}
}

// runAlone retries an op a few times while the database says the conflict
// is transient.
func (db *DB) runAlone(o *op) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		var errs []error
		errs, err = db.runBatch([]*op{o})
		if err == nil {
			return errs[0]
		}
		if !db.d.retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// runBatch returns each op's own error, or err when the transaction itself
// failed and nothing was committed.
func (db *DB) runBatch(batch []*op) (errs []error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), db.timeout)
	defer cancel()
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, unavailable(err)
	}
	t := &tx{ctx: ctx, q: cachedTx{sqlTx, db.wstmts}, d: db.d}
	if lock := db.d.batchLock(); lock != "" {
		var seq int64
		var hash []byte
		if err := t.q.QueryRowContext(ctx, lock).Scan(&seq, &hash); err != nil {
			sqlTx.Rollback() //nolint:errcheck // the error that matters is err
			return nil, unavailable(err)
		}
	}
	errs = make([]error, len(batch))
	kept := 0
	for i, o := range batch {
		if errs[i] = o.ctx.Err(); errs[i] != nil {
			continue
		}
		if errs[i], err = db.runOne(t, o, len(batch) > 1); err != nil {
			sqlTx.Rollback() //nolint:errcheck // the error that matters is err
			return nil, err
		}
		if errs[i] == nil {
			kept++
		}
	}
	if kept == 0 {
		return errs, sqlTx.Rollback()
	}
	if err := sqlTx.Commit(); err != nil {
		return nil, unavailable(err)
	}
	return errs, nil
}

// runOne runs o inside a savepoint when it shares the transaction. A
// transient database error aborts the whole transaction (err); any other
// error is o's own (opErr) and undoes only o's changes.
func (db *DB) runOne(t *tx, o *op, shared bool) (opErr, err error) {
	if shared {
		if _, err := t.q.ExecContext(t.ctx, qSavepoint); err != nil {
			return nil, unavailable(err)
		}
	}
	opErr = o.fn(t)
	if opErr != nil && (db.d.retryable(opErr) || isConnError(opErr)) {
		return nil, opErr
	}
	if !shared {
		return opErr, nil
	}
	if opErr != nil {
		if _, err := t.q.ExecContext(t.ctx, qRollbackSavepoint); err != nil {
			return nil, unavailable(err)
		}
	}
	if _, err := t.q.ExecContext(t.ctx, qReleaseSavepoint); err != nil {
		return nil, unavailable(err)
	}
	return opErr, nil
}

func isConnError(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded)
}

func (db *DB) String() string { return fmt.Sprintf("sqlstore(%s)", db.d.name()) }
