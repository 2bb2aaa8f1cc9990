package mariadbtest

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"
)

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func run(ctx context.Context, db *sql.DB, q string) error {
	_, err := db.ExecContext(ctx, q)
	return err
}

// One server goes through everything a fault test does to it: it answers,
// freezes without answering, thaws, dies, comes back with what was
// committed, and leaves nothing behind.
func TestServerFreezesThawsDiesAndRecovers(t *testing.T) {
	began := time.Now()
	s := Start(t, Options{})
	t.Logf("private mariadbd on %s answered after %v", s.Addr, time.Since(began).Round(time.Millisecond))
	dsn, err := s.CreateDatabase("fault_test")
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	ctx := context.Background()
	if err := run(ctx, db, "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, db, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = run(short, db, "INSERT INTO t VALUES (2)")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a stopped server answered: %v", err)
	}
	if err := s.Continue(); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, db, "INSERT INTO t VALUES (3)"); err != nil {
		t.Fatalf("after Continue: %v", err)
	}

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	short, cancel = context.WithTimeout(ctx, 5*time.Second)
	err = run(short, db, "INSERT INTO t VALUES (4)")
	cancel()
	if err == nil {
		t.Fatal("a killed server answered")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t WHERE id IN (1, 3)").Scan(&n); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	if n != 2 {
		t.Fatalf("after Restart %d of the 2 committed rows are there", n)
	}

	// Restart also brings back a frozen server.
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, db, "INSERT INTO t VALUES (5)"); err != nil {
		t.Fatalf("after restarting a frozen server: %v", err)
	}

	dir := s.Dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Close left %s behind (%v)", dir, err)
	}
}

// Servers are independent: two run at once on their own ports and data.
func TestTwoServersRunSideBySide(t *testing.T) {
	a, b := Start(t, Options{}), Start(t, Options{})
	if a.Port == b.Port || a.Dir == b.Dir {
		t.Fatalf("servers share a port or a directory: %s %s, %s %s", a.Addr, a.Dir, b.Addr, b.Dir)
	}
	if _, err := a.CreateDatabase("only_on_a"); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	defer a.Continue() //nolint:errcheck // best effort; Close kills it anyway
	if _, err := b.CreateDatabase("only_on_a"); err != nil {
		t.Fatalf("b should not see a's database nor wait for a: %v", err)
	}
}
