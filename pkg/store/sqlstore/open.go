package sqlstore

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// OpenSQLite opens (creating if needed) the SQLite database at path, in WAL
// mode with synchronous=FULL, so every committed Update survives a power
// cut. The database and its WAL and shared-memory files are the owner's
// alone (mode 0600; an existing file is tightened).
//
// Temporary storage is in memory (temp_store=MEMORY): above all the
// sub-journal of the savepoints each Update of a batch runs in, which
// otherwise spills past 64 KiB to a new temporary file (created, written
// and deleted again in most batches). The sub-journal only undoes a
// savepoint; it plays no part in recovery, so this changes nothing of
// what a commit makes durable.
func OpenSQLite(path string, o Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: bad database path %q", path)
	}
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)", "temp_store(MEMORY)"} {
		pragmas.Add("_pragma", p)
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas.Encode()
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", base)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return newDB(sqliteDialect{}, write, read, 1, o)
}

// Two writers: while one commits (a network round trip and an fsync on
// the server), the other prepares its batch; they serialise on the batch
// lock (see mysqlDialect.batchLock).
const mysqlWriters = 2

// OpenMySQL opens the MySQL or MariaDB database named by dsn
// (go-sql-driver/mysql syntax, e.g. "lockbox:pw@tcp(db:3306)/lockbox").
// The database must exist; Open creates the tables.
func OpenMySQL(dsn string, o Options) (*DB, error) { return openMySQL(dsn, o, mysqlWriters) }

func openMySQL(dsn string, o Options, writers int) (*DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: bad DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("mysql: the DSN names no database")
	}
	cfg.MultiStatements = false
	// Conditional updates count the rows they matched, not the rows whose
	// values changed (MySQL's default), as SQLite does.
	cfg.ClientFoundRows = true
	// Statements that are not prepared at open are sent with their
	// arguments in one round trip, rather than as prepare, execute and
	// close (three).
	cfg.InterpolateParams = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	write := sql.OpenDB(connector)
	write.SetMaxOpenConns(writers)
	read := sql.OpenDB(connector)
	read.SetMaxOpenConns(16) // also Ping and reading commit marks back
	read.SetMaxIdleConns(16)
	return newDB(mysqlDialect{}, write, read, writers, o)
}
