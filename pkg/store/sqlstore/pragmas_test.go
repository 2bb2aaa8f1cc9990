package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// Every SQLite connection, the writer's and the readers', runs with the
// settings OpenSQLite promises: WAL, synchronous=FULL (every commit is
// synced before Update returns), and temporary storage (the savepoints'
// sub-journal) in memory.
func TestSQLiteConnectionsHaveTheirPragmas(t *testing.T) {
	db, err := OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "temp_store": "2", "foreign_keys": "1"}
	// The writer takes its one connection for each batch only, so an idle
	// store lends it to this query.
	for name, pool := range map[string]*sql.DB{"write": db.write, "read": db.read} {
		for pragma, v := range want {
			var got string
			if err := pool.QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", name, pragma, err)
			}
			if got != v {
				t.Errorf("%s connection: PRAGMA %s = %s, want %s", name, pragma, got, v)
			}
		}
	}
}
