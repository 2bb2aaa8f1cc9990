package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The store's metrics: write transactions (one per batch) and their
// sizes, read transactions.
var (
	writeTx = metrics.StoreTx.WithLabelValues("write")
	readTx  = metrics.StoreTx.WithLabelValues("read")
)

func observeWrite(start time.Time, n int) {
	writeTx.Observe(time.Since(start).Seconds())
	metrics.StoreBatch.Observe(float64(n))
}

// op is one Update waiting for the writer.
//
// mu is held by the writer while fn runs and by the caller when it gives
// up, so that a caller never returns while its fn is running, and the
// writer never runs the fn of a caller that has given up.
type op struct {
	ctx      context.Context // the caller's, bounded by deadline
	deadline time.Time
	fn       func(store.Tx) error
	done     chan error // buffered: the writer never waits for the caller

	mu         sync.Mutex
	abandoned  bool // the caller has answered without the writer
	sentCommit bool // a commit holding this op's changes has been sent
}

var (
	errClosed = errors.New("store: closed")
	// errAbandoned marks, inside the writer, an op whose caller gave up
	// before it ran.
	errAbandoned = errors.New("store: caller gave up")
)

// Update queues fn for the writer and waits until its transaction has
// committed or failed, or until the deadline: ctx's, or the store's
// TxTimeout if that is sooner. At the deadline it answers without the
// writer: ErrUnavailable if fn's changes cannot have been committed
// (it never ran, or its transaction cannot commit past the deadline it
// shares), ErrOutcomeUnknown if the commit holding them was sent and its
// answer has not come.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	deadline := time.Now().Add(db.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	o := &op{ctx: ctx, deadline: deadline, fn: fn, done: make(chan error, 1)}
	select {
	case db.ops <- o:
	case <-db.quit:
		return errClosed
	case <-ctx.Done():
		return unavailable(fmt.Errorf("waiting for the writer: %w", ctx.Err()))
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
	}
	// Waits while the writer runs fn; its statements end at the deadline.
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case err := <-o.done:
		return err
	default:
	}
	o.abandoned = true
	if o.sentCommit {
		return fmt.Errorf("%w: no answer to the commit by the deadline", store.ErrOutcomeUnknown)
	}
	return unavailable(fmt.Errorf("the change was not committed: %w", ctx.Err()))
}

// writer runs batches of queued Updates, one transaction each.
type writer struct {
	db *DB
	id string // its row in commit_marks
}

func (w *writer) run(maxBatch int) {
	db := w.db
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
		if db.d.yieldBeforeBatch() {
			// Callers that are runnable now (their certificate signed,
			// say) reach the queue before the batch closes, rather than
			// wait for the next commit: more Updates per commit and fsync
			// when the CPUs are busy, and nothing to wait for when they
			// are not.
			runtime.Gosched()
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case o := <-db.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		w.commit(batch)
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

// fate is what became of a transaction.
type fate int

const (
	committed    fate = iota // or nothing to commit: each op's error is final
	notCommitted             // nothing of it is stored
	unknown                  // the commit was sent; its answer never came
)

// commit runs a batch in one transaction. If the transaction as a whole
// fails before it commits (a deadlock, a lost connection), every op is
// run again on its own, so that one op's trouble is not everyone's. If
// the commit's fate is unknown, no op runs again: that could apply it
// twice.
func (w *writer) commit(batch []*op) {
	start := time.Now()
	f, errs, err := w.runBatch(batch)
	observeWrite(start, len(batch))
	switch f {
	case committed:
		for i, o := range batch {
			o.done <- errs[i]
		}
	case unknown:
		for i, o := range batch {
			if errs[i] == nil {
				o.done <- err
			} else {
				// Nothing of this op was kept, whatever the commit did.
				o.done <- unavailable(fmt.Errorf("the change was not committed: %w", err))
			}
		}
	case notCommitted:
		if len(batch) == 1 && !w.mayRetry(err) {
			batch[0].done <- err
			return
		}
		for _, o := range batch {
			o.done <- w.runAlone(o)
		}
	}
}

// runAlone runs an op in a transaction of its own, again while the
// database calls the failure transient and the op's deadline allows.
func (w *writer) runAlone(o *op) error {
	for attempt := 0; ; attempt++ {
		f, errs, err := w.runBatch([]*op{o})
		switch {
		case f == committed:
			return errs[0]
		case f == unknown:
			return err
		case !w.mayRetry(err) || attempt == 9:
			return err
		}
		select {
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		case <-o.ctx.Done():
			return unavailable(fmt.Errorf("%w (after %d attempts)", err, attempt+1))
		}
	}
}

// mayRetry: the transaction failed and nothing of it was stored, for a
// reason that may pass (a deadlock, or a commit that was lost on the way).
func (w *writer) mayRetry(err error) bool {
	return w.db.d.retryable(err) || errors.Is(err, errCommitLost)
}

// runBatch runs a batch in one transaction bounded by the earliest of
// its ops' deadlines. With fate committed, errs holds each op's own error
// (errAbandoned for an op whose caller gave up before it ran); with
// notCommitted or unknown, err says why.
func (w *writer) runBatch(batch []*op) (f fate, errs []error, err error) {
	db := w.db
	var deadline time.Time
	for _, o := range batch {
		if o.ctx.Err() == nil && (deadline.IsZero() || o.deadline.Before(deadline)) {
			deadline = o.deadline
		}
	}
	if deadline.IsZero() { // every caller's deadline has passed
		errs = make([]error, len(batch))
		for i, o := range batch {
			o.mu.Lock()
			errs[i] = notRun(o)
			o.mu.Unlock()
		}
		return committed, errs, nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return notCommitted, nil, unavailable(err)
	}
	rollback := func(err error) (fate, []error, error) {
		sqlTx.Rollback() //nolint:errcheck // the error that matters is err
		return notCommitted, nil, err
	}
	raw := cachedTx(sqlTx, db.wstmts)
	t := &tx{ctx: ctx, q: raw, d: db.d}
	shared := len(batch) > 1
	lockHead := func() error {
		var seq int64
		var hash []byte
		if err := raw.QueryRowContext(ctx, db.d.batchLock()).Scan(&seq, &hash); err != nil {
			return unavailable(err)
		}
		if shared {
			t.held.knowHead(seq, hash)
		}
		return nil
	}
	switch {
	case shared:
		t.held = newDeferred()
		t.q = deferredQuerier{q: raw, d: t.held, broken: &t.broken}
		if db.d.batchLock() != "" {
			t.held.lockHead = lockHead
		}
	case db.d.batchLock() != "":
		if err := lockHead(); err != nil {
			return rollback(err)
		}
	}
	errs = make([]error, len(batch))
	kept := 0
	for i, o := range batch {
		if errs[i], err = db.runOne(t, raw, o, shared); err != nil {
			return rollback(err)
		}
		if errs[i] == nil {
			kept++
		}
	}
	if kept == 0 {
		return committed, errs, sqlTx.Rollback()
	}
	if shared {
		if err := t.held.flushAll(ctx, raw); err != nil {
			if t.broken != nil {
				err = t.broken
			}
			return rollback(unavailable(fmt.Errorf("writing the batch's appends: %w", err)))
		}
	}
	token, err := newToken()
	if err != nil {
		return rollback(err)
	}
	if _, err := raw.ExecContext(ctx, qSetMark, token, us(time.Now()), w.id); err != nil {
		return rollback(unavailable(err))
	}
	if !markSent(batch, errs) {
		return rollback(unavailable(errors.New("a caller gave up as the batch was about to commit")))
	}
	if err := sqlTx.Commit(); err != nil {
		return w.resolve(token, batch, errs, err)
	}
	return committed, errs, nil
}

// runOne runs o, unless its caller has given up. When o shares the
// transaction, its appends are held (see deferred) and what it writes
// directly runs inside a savepoint, taken before its first such
// statement. A transient database error aborts the whole transaction
// (err); any other error is o's own (opErr) and undoes only o's changes.
// raw runs statements on the transaction as they are.
func (db *DB) runOne(t *tx, raw querier, o *op, shared bool) (opErr, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.abandoned || o.ctx.Err() != nil {
		return notRun(o), nil
	}
	if shared {
		t.held.begin()
	}
	opErr = o.fn(t)
	if t.broken != nil {
		return nil, unavailable(t.broken)
	}
	if opErr != nil && (db.d.retryable(opErr) || isConnError(opErr) || t.ctx.Err() != nil) {
		return nil, unavailable(opErr)
	}
	if !shared {
		return opErr, nil
	}
	savepoint := t.held.op.savepoint
	if opErr != nil {
		t.held.undo()
		if savepoint {
			if _, err := raw.ExecContext(t.ctx, qRollbackSavepoint); err != nil {
				return nil, unavailable(err)
			}
		}
	}
	if savepoint {
		if _, err := raw.ExecContext(t.ctx, qReleaseSavepoint); err != nil {
			return nil, unavailable(err)
		}
	}
	return opErr, nil
}

// notRun is the answer of an op the writer skipped: its caller gave up,
// or its deadline passed in the queue. o.mu must be held.
func notRun(o *op) error {
	if o.abandoned {
		return errAbandoned // nobody is listening
	}
	return unavailable(fmt.Errorf("the change was not committed: %w", o.ctx.Err()))
}

// markSent records, for each op whose changes the commit holds, that it
// is being sent, and reports false if one of their callers has given up
// meanwhile (told "not committed": the batch must not commit then).
func markSent(batch []*op, errs []error) bool {
	for i, o := range batch {
		if errs[i] != nil {
			continue
		}
		o.mu.Lock()
		gone := o.abandoned
		o.sentCommit = !gone
		o.mu.Unlock()
		if gone {
			return false
		}
	}
	return true
}

// isConnError: err says the connection, not the op, failed, so the
// transaction is lost.
func isConnError(err error) bool {
	var netErr net.Error
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr)
}

func (db *DB) String() string { return fmt.Sprintf("sqlstore(%s)", db.d.name()) }
