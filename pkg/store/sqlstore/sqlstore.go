// Package sqlstore is the SQL engine of store.Store, for SQLite (pure Go,
// no cgo: the embedded default) and MySQL/MariaDB (for production and
// several CA replicas). Both use the same queries; the dialect holds the
// few differences. Migrations are embedded and run by Open.
//
// Writes are group-committed: a writer goroutine takes every Update
// waiting at that moment and runs them in one transaction, each inside its
// own savepoint, so that a thousand concurrent issuances cost a handful of
// fsyncs rather than a thousand, and each is durable when Update returns.
// SQLite has one writer (it allows one write transaction at a time); MySQL
// has several, so that while one waits on the network or on a row lock,
// another commits.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// DB is a store.Store on a SQL database.
type DB struct {
	d       dialect
	write   *sql.DB // one connection per writer
	read    *sql.DB
	ops     chan *op
	quit    chan struct{}
	wg      sync.WaitGroup
	timeout time.Duration
	once    sync.Once
	wstmts  *stmtCache
	rstmts  *stmtCache
}

// Options tune a DB; the zero value is sensible.
type Options struct {
	// TxTimeout bounds each Update and View (queueing, every attempt and
	// the commit together) when the caller's context sets no earlier
	// deadline, so an unreachable database makes callers fail closed
	// instead of waiting for ever. Default 10s.
	TxTimeout time.Duration
	// MaxBatch bounds how many Updates share one transaction. Default 256.
	MaxBatch int
}

const defaultTxTimeout = 10 * time.Second

func newDB(d dialect, write, read *sql.DB, writers int, o Options) (*DB, error) {
	if o.TxTimeout <= 0 {
		o.TxTimeout = defaultTxTimeout
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	db := &DB{d: d, write: write, read: read, ops: make(chan *op, o.MaxBatch), quit: make(chan struct{}), timeout: o.TxTimeout,
		wstmts: newStmtCache(write), rstmts: newStmtCache(read)}
	ctx, cancel := context.WithTimeout(context.Background(), o.TxTimeout)
	defer cancel()
	if err := migrate(ctx, write, d); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	if err := errors.Join(db.wstmts.prepare(ctx, writeQueries(d)...), db.rstmts.prepare(ctx, readQueries...)); err != nil {
		write.Close()
		read.Close()
		return nil, unavailable(fmt.Errorf("preparing statements: %w", err))
	}
	ws, err := db.newWriters(ctx, writers)
	if err != nil {
		db.wstmts.close()
		db.rstmts.close()
		write.Close()
		read.Close()
		return nil, err
	}
	for _, w := range ws {
		db.wg.Add(1)
		go w.run(o.MaxBatch)
	}
	return db, nil
}

// Close stops the writer after the Updates already queued and closes the
// database.
func (db *DB) Close() error {
	db.once.Do(func() { close(db.quit) })
	db.wg.Wait()
	db.wstmts.close()
	db.rstmts.close()
	return errors.Join(db.write.Close(), db.read.Close())
}

// Ping reports whether the database answers, by ctx's deadline or the
// store's TxTimeout.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return nil
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	defer func(start time.Time) { readTx.Observe(time.Since(start).Seconds()) }(time.Now())
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	sqlTx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.d.readOnlyTx()})
	if err != nil {
		return unavailable(err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // read-only; nothing to keep
	err = fn(&tx{ctx: ctx, q: cachedTx(sqlTx, db.rstmts), d: db.d, readOnly: true})
	if err != nil && !errors.Is(err, store.ErrUnavailable) && (isConnError(err) || ctx.Err() != nil) {
		return unavailable(err)
	}
	return err
}

// ViewEach is View without the transaction: each of fn's reads runs on
// its own and sees what was committed when it ran, so two reads need not
// see one state. It is for reads that do not depend on each other (those
// of workflow Admit), and saves MySQL the transaction's start and end,
// two of a call's round trips.
func (db *DB) ViewEach(ctx context.Context, fn func(store.Tx) error) error {
	defer func(start time.Time) { readTx.Observe(time.Since(start).Seconds()) }(time.Now())
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	err := fn(&tx{ctx: ctx, q: cachedDB(db.read, db.rstmts), d: db.d, readOnly: true})
	if err != nil && !errors.Is(err, store.ErrUnavailable) && (isConnError(err) || ctx.Err() != nil) {
		return unavailable(err)
	}
	return err
}

func unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}
