package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// The database holds sealed TOTP secrets, password hashes and the audit
// log: neither it nor its WAL and shared-memory files may be readable by
// other accounts, whatever the umask.
func TestSQLiteFilesAreCreatedOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "lockbox.db")
	db, err := sqlstore.OpenSQLite(path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A write, so that the WAL and shared-memory files exist.
	if err := db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutThrottle(&store.Throttle{Key: "mode-test"})
	}); err != nil {
		t.Fatal(err)
	}
	checkOwnerOnly(t, path, path+"-wal", path+"-shm")
}

// A database made by an earlier version, world-readable, is tightened when
// the store opens it.
func TestSQLiteExistingFilesAreTightenedToOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lockbox.db")
	db, err := sqlstore.OpenSQLite(path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutThrottle(&store.Throttle{Key: "mode-test"})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	db, err = sqlstore.OpenSQLite(path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutThrottle(&store.Throttle{Key: "mode-test-2"})
	}); err != nil {
		t.Fatal(err)
	}
	checkOwnerOnly(t, path, path+"-wal", path+"-shm")
}

func checkOwnerOnly(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), mode)
		}
	}
}
