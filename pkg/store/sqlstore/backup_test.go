package sqlstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

func appendAudit(ctx context.Context, db *sqlstore.DB, n int) error {
	return db.Update(ctx, func(tx store.Tx) error {
		seq, hash, err := tx.AuditHead()
		if err != nil {
			return err
		}
		if hash == nil {
			hash = audit.Genesis
		}
		r, err := audit.Seal(seq, hash, audit.Event{Time: time.Now(), Actor: "system", Action: "test.row", Subject: "backup", Detail: map[string]any{"n": n}})
		if err != nil {
			return err
		}
		return tx.AppendAudit(store.AuditRecord{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action,
			Subject: r.Subject, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash})
	})
}

// A backup taken while writers commit is one consistent snapshot: its
// audit chain verifies to its own head, and it is private to its owner.
func TestSQLiteBackupUnderWritesIsConsistent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.OpenSQLite(filepath.Join(dir, "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 50 {
		if err := appendAudit(ctx, db, i); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if err := appendAudit(ctx, db, w*1e6+i); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		}()
	}
	waitUntil(t, func() bool { return written.Load() > 20 })
	backup := filepath.Join(dir, "backup.db")
	err = db.BackupTo(ctx, backup)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(backup)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	snap, err := sqlstore.InspectSQLite(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	if snap.HeadSeq < 50 {
		t.Fatalf("backup head at row %d, want at least the 50 rows written before it", snap.HeadSeq)
	}
	copyDB, err := sqlstore.OpenSQLite(backup, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var rows []audit.Record
	var head int64
	var headHash []byte
	err = copyDB.View(ctx, func(tx store.Tx) error {
		if head, headHash, err = tx.AuditHead(); err != nil {
			return err
		}
		rs, err := tx.Audit(0, 1<<20)
		for _, r := range rs {
			rows = append(rows, audit.Record{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash})
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if head != snap.HeadSeq || !bytes.Equal(headHash, snap.HeadHash) {
		t.Errorf("InspectSQLite head %d, the opened copy's %d", snap.HeadSeq, head)
	}
	if err := audit.Verify(rows, head, headHash); err != nil {
		t.Fatalf("the backup's audit chain does not verify: %v", err)
	}
	if err := db.BackupTo(ctx, backup); err == nil {
		t.Fatal("a second backup replaced the first")
	}
}

func TestInspectRefusesWhatIsNoLockboxDatabase(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("not a database at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.InspectSQLite(context.Background(), junk); err == nil {
		t.Error("InspectSQLite accepted a text file")
	}
	if _, err := sqlstore.InspectSQLite(context.Background(), filepath.Join(dir, "missing.db")); err == nil {
		t.Error("InspectSQLite accepted a missing file")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Whatever a backup file holds, InspectSQLite reads it or refuses it,
// never a crash.
func FuzzInspectSQLite(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	db, err := sqlstore.OpenSQLite(filepath.Join(dir, "seed.db"), sqlstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	if err := appendAudit(ctx, db, 1); err != nil {
		f.Fatal(err)
	}
	seed := filepath.Join(dir, "seed-backup.db")
	if err := db.BackupTo(ctx, seed); err != nil {
		f.Fatal(err)
	}
	db.Close()
	data, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:100])
	f.Add([]byte("SQLite format 3\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "backup.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sqlstore.InspectSQLite(ctx, path) //nolint:errcheck // only that it returns
	})
}
