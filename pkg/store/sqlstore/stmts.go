package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements, so that hot queries are parsed
// once per connection rather than once per call (in SQLite parsing is a
// good part of a small statement's cost).
//
// Statements are prepared when the store opens, never lazily: a
// transaction holds its connection, so a Prepare inside one waits for
// another connection, and with every connection held by such a
// transaction that wait never ends. (database/sql re-prepares a statement
// on the transaction's own connection when needed, which is safe.) Queries
// not in the cache run unprepared.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

func (c *stmtCache) prepare(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.m[q] = st
		c.mu.Unlock()
	}
	return nil
}

func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
}

// cached runs queries through the cache's statements: within one
// transaction (cachedTx) or each on its own, outside any (cachedDB).
type cached struct {
	q     querier // the transaction or the pool
	cache *stmtCache
	// bind makes a cached statement the transaction's; nil outside one.
	bind func(context.Context, *sql.Stmt) *sql.Stmt
}

func cachedTx(tx *sql.Tx, cache *stmtCache) cached { return cached{tx, cache, tx.StmtContext} }

func cachedDB(db *sql.DB, cache *stmtCache) cached { return cached{db, cache, nil} }

// stmt is the cached statement for q, ready to run, or nil.
func (c cached) stmt(ctx context.Context, q string) *sql.Stmt {
	st := c.cache.get(q)
	if st != nil && c.bind != nil {
		st = c.bind(ctx, st)
	}
	return st
}

func (c cached) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.q.ExecContext(ctx, q, args...)
}

func (c cached) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.q.QueryContext(ctx, q, args...)
}

func (c cached) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.q.QueryRowContext(ctx, q, args...)
}
