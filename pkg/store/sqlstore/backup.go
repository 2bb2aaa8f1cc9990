package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrBackupUnsupported: the engine has no online backup here; MySQL and
// MariaDB are backed up with mariadb-dump --single-transaction
// (docs/operations.md).
var ErrBackupUnsupported = errors.New("sqlstore: no online backup for this engine: use mariadb-dump --single-transaction (docs/operations.md)")

// BackupTo writes a consistent copy of an SQLite database to path, while
// the database goes on serving: VACUUM INTO reads one snapshot (one read
// transaction), so the copy holds every transaction committed before it
// began and none after. The copy is made in a private temporary directory
// beside path, made owner-only (0600) and synced, then linked to path;
// an existing path is never replaced. MySQL returns ErrBackupUnsupported.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.d.name() != "sqlite" {
		return ErrBackupUnsupported
	}
	if path == "" || strings.ContainsRune(path, 0) {
		return fmt.Errorf("sqlite backup: bad path %q", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("sqlite backup: %s exists already; a backup never replaces a file", path)
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".lockbox-backup-")
	if err != nil {
		return fmt.Errorf("sqlite backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "lockbox.db")
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("sqlite backup: VACUUM INTO: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("sqlite backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("sqlite backup: %w", err)
	}
	return syncFile(filepath.Dir(path))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// Snapshot describes an SQLite backup file, read without changing it.
type Snapshot struct {
	// HeadSeq and HeadHash are its audit chain's head.
	HeadSeq  int64
	HeadHash []byte
	// Schema is its newest migration.
	Schema int
}

// InspectSQLite opens the SQLite file at path read-only, checks its
// integrity (PRAGMA integrity_check) and reads its audit head and schema
// version. A file that is no SQLite database, or no Lockbox one, is an
// error.
func InspectSQLite(ctx context.Context, path string) (*Snapshot, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading the backup: %s is not a regular file", path)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&immutable=1"
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the backup %s: %w", path, err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil {
		return nil, fmt.Errorf("the backup %s is not an SQLite database: %w", path, err)
	}
	if check != "ok" {
		return nil, fmt.Errorf("the backup %s fails SQLite's integrity check: %s", path, check)
	}
	var s Snapshot
	if err := conn.QueryRowContext(ctx, qAuditHead).Scan(&s.HeadSeq, &s.HeadHash); err != nil {
		return nil, fmt.Errorf("the backup %s holds no Lockbox audit log: %w", path, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&s.Schema); err != nil {
		return nil, fmt.Errorf("the backup %s holds no Lockbox schema: %w", path, err)
	}
	return &s, nil
}

// AuditHashAt returns the hash of the backup's audit row seq, or ok false
// when it has no such row.
func AuditHashAt(ctx context.Context, path string, seq int64) (hash []byte, ok bool, err error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&immutable=1"
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	err = conn.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = ?`, seq).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return hash, err == nil, err
}
