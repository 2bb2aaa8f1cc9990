package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// migrate applies the embedded migrations of d in order. Every statement is
// idempotent (IF NOT EXISTS, INSERT IGNORE), or fails as already applied
// (a column or index that exists: see dialect.isApplied) and is skipped,
// so replicas starting together may both run them.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY)`); err != nil {
		return unavailable(fmt.Errorf("creating schema_migrations: %w", err))
	}
	dir := path.Join("migrations", d.name())
	entries, err := migrations.ReadDir(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for i, name := range names {
		version := i + 1
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return unavailable(fmt.Errorf("reading schema_migrations: %w", err))
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(path.Join(dir, name))
		if err != nil {
			return err
		}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := db.ExecContext(ctx, stmt); err != nil && !d.isApplied(err) {
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, version); err != nil && !d.isDuplicate(err) {
			return fmt.Errorf("migration %s: recording it: %w", name, err)
		}
	}
	return nil
}
