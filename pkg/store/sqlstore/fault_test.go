package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/mariadbtest"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// Fault tests run on a private mariadbd (internal/mariadbtest), which they
// freeze and kill; the shared server on 3306 is never touched.

// margin is what a loaded machine may add to a deadline.
const margin = 1500 * time.Millisecond

func privateMySQL(t *testing.T, o sqlstore.Options) (*sqlstore.DB, *mariadbtest.Server) {
	t.Helper()
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	dsn, err := srv.CreateDatabase("lockbox")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.OpenMySQL(dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, srv
}

func testRequest(id string) *store.Request {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &store.Request{ID: id, User: "alice", Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour,
		Reason: "fault test", State: store.Pending, CreatedAt: now, PendingUntil: now.Add(time.Hour)}
}

func createRequest(ctx context.Context, db store.Store, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateRequest(testRequest(id)) })
}

func requestExists(t *testing.T, db store.Store, id string) bool {
	t.Helper()
	err := db.View(context.Background(), func(tx store.Tx) error { _, err := tx.Request(id); return err })
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("reading %s: %v", id, err)
	}
	return true
}

// A database that stops answering (SIGSTOP: connections open, no reply)
// must not hold callers: every Update, View and Ping fails with
// ErrUnavailable by its caller's deadline, or by the store's own when the
// caller set none, however many wait; and what was reported unavailable
// was not changed.
func TestMySQLFrozenDatabaseFailsEveryCallWithinItsDeadline(t *testing.T) {
	const txTimeout = 3 * time.Second
	db, srv := privateMySQL(t, sqlstore.Options{TxTimeout: txTimeout})
	if err := createRequest(context.Background(), db, "req-before"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	thawed := false
	defer func() {
		if !thawed {
			srv.Continue() //nolint:errcheck // the server is killed at cleanup anyway
		}
	}()

	type answer struct {
		what    string
		err     error
		took    time.Duration
		allowed time.Duration
	}
	answers := make(chan answer, 32)
	var wg sync.WaitGroup
	call := func(what string, deadline time.Duration, fn func(ctx context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, allowed := context.Background(), txTimeout
			if deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, deadline)
				defer cancel()
				allowed = deadline
			}
			began := time.Now()
			err := fn(ctx)
			answers <- answer{what, err, time.Since(began), allowed}
		}()
	}
	for i := range 8 {
		id := fmt.Sprintf("req-frozen-%d", i)
		call("Update "+id+" (1s deadline)", time.Second, func(ctx context.Context) error { return createRequest(ctx, db, id) })
	}
	for i := range 4 {
		id := fmt.Sprintf("req-frozen-bg-%d", i)
		call("Update "+id+" (no deadline)", 0, func(ctx context.Context) error { return createRequest(ctx, db, id) })
	}
	call("View (1s deadline)", time.Second, func(ctx context.Context) error {
		return db.View(ctx, func(tx store.Tx) error { _, err := tx.Request("req-before"); return err })
	})
	call("Ping (500ms deadline)", 500*time.Millisecond, db.Ping)
	wg.Wait()
	close(answers)
	for a := range answers {
		if !errors.Is(a.err, store.ErrUnavailable) {
			t.Errorf("%s: got %v, want ErrUnavailable", a.what, a.err)
		}
		if a.took > a.allowed+margin {
			t.Errorf("%s answered after %v; its deadline was %v", a.what, a.took.Round(time.Millisecond), a.allowed)
		}
	}

	if err := srv.Continue(); err != nil {
		t.Fatal(err)
	}
	thawed = true
	if err := createRequest(context.Background(), db, "req-after"); err != nil {
		t.Fatalf("the store did not recover once the database answered again: %v", err)
	}
	for i := range 8 {
		if id := fmt.Sprintf("req-frozen-%d", i); requestExists(t, db, id) {
			t.Errorf("%s was reported unavailable (nothing changed) but is stored", id)
		}
	}
	for i := range 4 {
		if id := fmt.Sprintf("req-frozen-bg-%d", i); requestExists(t, db, id) {
			t.Errorf("%s was reported unavailable (nothing changed) but is stored", id)
		}
	}
}
