package sqlstore

import (
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
)

// dialect holds what differs between the engines.
type dialect interface {
	name() string
	// forUpdate is appended to a SELECT that must lock its rows.
	forUpdate() string
	isDuplicate(err error) bool
	// isApplied: a schema change failed because it was made already (a
	// column or index of that name exists), by a replica that migrated
	// first.
	isApplied(err error) bool
	// retryable: the transaction lost a race (deadlock, busy) and may be
	// run again.
	retryable(err error) bool
	readOnlyTx() bool
	// batchLock, if not empty, runs first in every write transaction.
	batchLock() string
	// yieldBeforeBatch: the writer lets runnable goroutines run before it
	// closes a batch (see writer.run).
	yieldBeforeBatch() bool
}

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

// SQLite has one writer at a time (BEGIN IMMEDIATE), so a write
// transaction holds every row it reads.
func (sqliteDialect) forUpdate() string { return "" }

func (sqliteDialect) readOnlyTx() bool { return false }

// SQLite's BEGIN IMMEDIATE already admits one writer at a time.
func (sqliteDialect) batchLock() string { return "" }

// SQLite's one writer is where every Update waits, and each of its
// commits costs an fsync and the batch's shared pages: the more Updates
// per commit, the less CPU per Update.
func (sqliteDialect) yieldBeforeBatch() bool { return true }

func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

func (sqliteDialect) isDuplicate(err error) bool {
	c := sqliteCode(err)
	return c == 1555 || c == 2067 // SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE
}

// SQLite reports an existing column only in the message of a generic
// SQLITE_ERROR.
func (sqliteDialect) isApplied(err error) bool {
	return sqliteCode(err) == 1 && strings.Contains(err.Error(), "duplicate column name")
}

func (sqliteDialect) retryable(err error) bool {
	c := sqliteCode(err)
	return c >= 0 && (c&0xff == 5 || c&0xff == 6) // SQLITE_BUSY, SQLITE_LOCKED
}

type mysqlDialect struct{}

func (mysqlDialect) name() string      { return "mysql" }
func (mysqlDialect) forUpdate() string { return " FOR UPDATE" }
func (mysqlDialect) readOnlyTx() bool  { return true }

// Every write transaction on MySQL first locks the audit head row, which
// nearly every change needs anyway. Taking it first gives all writers, on
// every replica, one lock order, so a batch of changes never deadlocks
// with another batch that took the same rows in another order.
func (mysqlDialect) batchLock() string { return qAuditHead + " FOR UPDATE" }

// MySQL's writers overlap their commits; yielding did not change their
// batches (2026-12-03), so they do not wait for it.
func (mysqlDialect) yieldBeforeBatch() bool { return false }

func mysqlCode(err error) uint16 {
	var e *mysql.MySQLError
	if errors.As(err, &e) {
		return e.Number
	}
	return 0
}

func (mysqlDialect) isDuplicate(err error) bool { return mysqlCode(err) == 1062 }

// ER_DUP_FIELDNAME, ER_DUP_KEYNAME.
func (mysqlDialect) isApplied(err error) bool { c := mysqlCode(err); return c == 1060 || c == 1061 }

func (mysqlDialect) retryable(err error) bool {
	c := mysqlCode(err)
	return c == 1213 || c == 1205 // deadlock, lock wait timeout
}
