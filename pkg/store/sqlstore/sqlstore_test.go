package sqlstore_test

import (
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
