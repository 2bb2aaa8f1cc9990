package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

func TestSQLite(t *testing.T) {
	var path string
	open := func(t *testing.T) store.Store {
		s, err := sqlstore.OpenSQLite(path, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Run(t, storetest.Opener{
		Open: func(t *testing.T) store.Store {
			path = filepath.Join(t.TempDir(), "lockbox.db")
			return open(t)
		},
		Reopen: open,
	})
}

func TestMySQL(t *testing.T) {
	var dsn string
	open := func(t *testing.T) store.Store {
		s, err := sqlstore.OpenMySQL(dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Run(t, storetest.Opener{
		Open: func(t *testing.T) store.Store {
			dsn = storetest.MySQLDSN(t)
			return open(t)
		},
		Reopen: open,
	})
}

// A replica that starts while another migrates may run a migration the
// other already applied: columns and indexes that exist are skipped.
func TestMigrationsThatARacingReplicaAppliedAreSkipped(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lockbox.db")
		forgetMigrations(t, "sqlite", path, func() (store.Store, error) { return sqlstore.OpenSQLite(path, sqlstore.Options{}) })
	})
	t.Run("mysql", func(t *testing.T) {
		dsn := storetest.MySQLDSN(t)
		forgetMigrations(t, "mysql", dsn, func() (store.Store, error) { return sqlstore.OpenMySQL(dsn, sqlstore.Options{}) })
	})
}

// forgetMigrations opens a store, forgets every migration after the first
// in schema_migrations (as if this process had read it before a replica
// recorded them), and opens the store again.
func forgetMigrations(t *testing.T, driver, dsn string, open func() (store.Store, error)) {
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version > 1`); err != nil {
		t.Fatal(err)
	}
	s, err = open()
	if err != nil {
		t.Fatalf("running the migrations again: %v", err)
	}
	s.Close()
}
