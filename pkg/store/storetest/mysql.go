package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// RequireIntegration reports whether the environment demands that
// integration peers (MySQL, sshd, a browser) be present: CI sets
// LOCKBOX_REQUIRE_INTEGRATION=1 so that a missing one fails the run
// instead of skipping.
func RequireIntegration() bool { return os.Getenv("LOCKBOX_REQUIRE_INTEGRATION") == "1" }

// MissingPeer skips the test, or fails it when integration is required.
func MissingPeer(t testing.TB, format string, args ...any) {
	t.Helper()
	if RequireIntegration() {
		t.Fatalf("required integration peer missing: "+format, args...)
	}
	t.Skipf("integration peer missing (set LOCKBOX_REQUIRE_INTEGRATION=1 to fail instead): "+format, args...)
}

// MySQLDSN creates a fresh database on the MySQL server named by
// LOCKBOX_TEST_MYSQL (default root@tcp(127.0.0.1:3306)/), returns a DSN for
// it, and drops it when the test ends.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv("LOCKBOX_TEST_MYSQL")
	if server == "" {
		server = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("LOCKBOX_TEST_MYSQL: %v", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Ping(); err != nil {
		admin.Close()
		MissingPeer(t, "MySQL at %s: %v", cfg.Addr, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "lockbox_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
		admin.Close()
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}
