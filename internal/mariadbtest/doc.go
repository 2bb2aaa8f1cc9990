// Package mariadbtest runs a private MariaDB server for tests that need to
// stop, kill, freeze or restart their database, which the shared server
// at 127.0.0.1:3306 must never suffer.
//
// Each Server is a separate /usr/sbin/mariadbd process listening only on
// 127.0.0.1 at a random port, with its own data directory, socket, pid
// file and log. It starts in well under a second: the system tables are
// installed once (mariadb-install-db) into a template kept under the
// temporary directory, keyed by the server's version and options, and each
// Server starts from a copy of it. Root logs in over TCP without a
// password (DSN, CreateDatabase).
//
// Stop freezes the server with SIGSTOP, as a hung host would: connections
// stay open and nothing answers. Continue thaws it. Kill ends it with
// SIGKILL, as a crash would, and Shutdown with SIGTERM, as an operator
// would; Restart starts it again on the same port and data, which InnoDB
// recovers. Close ends it and removes everything. A Proxy in front of it
// can break a connection at a COMMIT, before it reaches the server or
// after the server has committed, and kill the server right there.
//
// Start skips the test when mariadbd or mariadb-install-db is missing
// (Debian package mariadb-server), or fails it when
// LOCKBOX_REQUIRE_INTEGRATION=1. Launch is the same without a testing.TB,
// for programs.
package mariadbtest
