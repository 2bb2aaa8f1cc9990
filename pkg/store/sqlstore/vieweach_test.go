package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// ViewEach reads what is committed, one statement at a time, and writes
// nothing.
func TestViewEachReadsWhatIsCommittedAndWritesNothing(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		viewEach(t, db)
	})
	t.Run("mysql", func(t *testing.T) {
		db, err := sqlstore.OpenMySQL(storetest.MySQLDSN(t), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		viewEach(t, db)
	})
}

func viewEach(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := &store.Answer{Principal: "user:alice", Key: "key-0000000000000001", Fingerprint: []byte{1}, Status: 200,
		Body: []byte("kept"), Created: now, Expires: now.Add(time.Hour)}
	read := func() (*store.Answer, error) {
		var got *store.Answer
		err := db.ViewEach(ctx, func(tx store.Tx) (err error) { got, err = tx.Answer(a.Principal, a.Key); return err })
		return got, err
	}
	if _, err := read(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before it is kept: %v; want ErrNotFound", err)
	}
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.KeepAnswer(a) }); err != nil {
		t.Fatal(err)
	}
	got, err := read()
	if err != nil || string(got.Body) != "kept" || got.Status != 200 {
		t.Fatalf("after it is kept: %+v, %v", got, err)
	}
	if err := db.ViewEach(ctx, func(tx store.Tx) error { return tx.UseNonce("user:alice", "n1", now) }); err == nil {
		t.Fatal("a write in ViewEach succeeded")
	}
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.UseNonce("user:alice", "n1", now.Add(time.Hour)) }); err != nil {
		t.Fatalf("the nonce a refused write in ViewEach would have recorded: %v", err)
	}
}
