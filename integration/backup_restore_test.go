package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// caCmd runs `ca ARGS...` against data directory dir, the CA's policy and
// the store at dsn, as an operator on the CA host does.
func (c *ca) caCmd(dir, dsn string, args ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(bin, "ca"), append(args, "--data", dir, "--policy", c.policy)...)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER="+c.driver, "LOCKBOX_STORE_DSN="+dsn)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// freshDataDir is a new data directory holding only the CA's key files,
// put back from their own backup as docs/operations.md says.
func freshDataDir(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"user_ca", "hop_ca", "host_ca", "audit_key", "secrets.key"} {
		for _, suffix := range []string{"", ".pub"} {
			data, err := os.ReadFile(filepath.Join(from, name+suffix))
			if os.IsNotExist(err) && suffix == ".pub" {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+suffix), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// A backup taken while requests keep coming restores into a fresh data
// directory: the audit log verifies, and the grant and its session are
// there. Once a checkpoint newer than the backup is signed, restoring it
// is refused with the reason, and --force restores it, audited as forced.
func TestBackupUnderLoadRestoresIntoAFreshDataDirectory(t *testing.T) {
	t.Parallel()
	checkpoints := t.TempDir()
	w := newWorld(t, worldOptions{caFlags: []string{"--audit_checkpoint_dir", checkpoints, "--audit_checkpoint_interval", "0"}})
	b := w.bastion(nil)
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")
	if r := w.run(b, key, w.code("alice", 0), nil, "echo", "recorded"); r.code != 0 {
		t.Fatalf("session: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	waitFor(t, 30*time.Second, "the session to be reported", func() bool { return strings.Contains(w.ca.ok("erin", "--json", "sessions"), id) })

	stopLoad := requestLoad(t, w.ca)
	backup := filepath.Join(t.TempDir(), "lockbox-backup.db")
	out, err := w.ca.caCmd(w.ca.dir, w.ca.dsn, "backup", backup)
	stopLoad()
	if err != nil || !strings.Contains(out, "holds no private keys") {
		t.Fatalf("ca backup: %v\n%s", err, out)
	}

	// The running CA's own log stays intact with the backup's audit row
	// written beside it by another process.
	if got := w.ca.ok("erin", "audit", "verify"); !strings.Contains(got, "audit log intact") {
		t.Fatalf("audit verify on the CA that was backed up: %s", got)
	}

	t.Run("restored into a fresh data directory", func(t *testing.T) {
		dir := freshDataDir(t, w.ca.dir)
		dsn := filepath.Join(dir, "lockbox.db")
		if out, err := w.ca.caCmd(dir, dsn, "restore", backup, "--audit_checkpoint_dir", checkpoints); err != nil {
			t.Fatalf("ca restore: %v\n%s", err, out)
		}
		if out, err := w.ca.caCmd(dir, dsn, "restore", backup); err == nil || !strings.Contains(out, "never overwrites") {
			t.Fatalf("a second restore over the restored database: %v\n%s", err, out)
		}
		r := *w.ca
		r.dir, r.dsn = dir, dsn
		r.start("--audit_checkpoint_interval", "0")
		if got := r.ok("erin", "audit", "verify"); !strings.Contains(got, "audit log intact") {
			t.Errorf("audit verify on the restored CA: %s", got)
		}
		if got := r.ok("erin", "audit", "verify", "--checkpoint", checkpoints); !strings.Contains(got, "signed checkpoints") {
			t.Errorf("audit verify against the checkpoints signed before the backup: %s", got)
		}
		if got := r.ok("alice", "requests", "--mine"); !strings.Contains(got, id) {
			t.Errorf("the restored CA does not list the grant %s:\n%s", id, got)
		}
		if got := r.ok("erin", "--json", "sessions"); !strings.Contains(got, id) {
			t.Errorf("the restored CA does not list the grant's session:\n%s", got)
		}
		if got := strings.Join(auditActions(t, &r), "\n"); !strings.Contains(got, "store.restored") {
			t.Errorf("the restore is not audited:\n%s", got)
		}
	})

	t.Run("judged by a forged checkpoint", func(t *testing.T) {
		forged := t.TempDir()
		pairs, _ := filepath.Glob(filepath.Join(checkpoints, "*.sig"))
		if len(pairs) == 0 {
			t.Fatal("the CA wrote no checkpoint")
		}
		text, err := os.ReadFile(strings.TrimSuffix(pairs[0], ".sig"))
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := os.ReadFile(pairs[0])
		name := filepath.Join(forged, filepath.Base(strings.TrimSuffix(pairs[0], ".sig")))
		// A later time: the same form, no longer what the audit key signed.
		text = []byte(strings.Replace(string(text), "20", "21", 1))
		if err := os.WriteFile(name, text, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name+".sig", sig, 0o644); err != nil {
			t.Fatal(err)
		}
		dir := freshDataDir(t, w.ca.dir)
		dsn := filepath.Join(dir, "lockbox.db")
		if out, err := w.ca.caCmd(dir, dsn, "restore", backup, "--checkpoint", forged); err == nil || !strings.Contains(out, "checkpoint") {
			t.Fatalf("a restore judged by a forged checkpoint: %v\n%s", err, out)
		}
		if _, err := os.Stat(dsn); !os.IsNotExist(err) {
			t.Fatalf("a refused restore left a database behind (%v)", err)
		}
	})

	t.Run("older than the newest checkpoint", func(t *testing.T) {
		w.ca.ok("erin", "audit", "checkpoint", "--new")
		dir := freshDataDir(t, w.ca.dir)
		dsn := filepath.Join(dir, "lockbox.db")
		out, err := w.ca.caCmd(dir, dsn, "restore", backup, "--checkpoint", checkpoints)
		if err == nil || !strings.Contains(out, "would be lost") || !strings.Contains(out, "--force") {
			t.Fatalf("restoring a backup older than the newest checkpoint: %v\n%s", err, out)
		}
		if _, err := os.Stat(dsn); !os.IsNotExist(err) {
			t.Fatalf("a refused restore left a database behind (%v)", err)
		}
		out, err = w.ca.caCmd(dir, dsn, "restore", backup, "--checkpoint", checkpoints, "--force")
		if err != nil || !strings.Contains(out, "forced although") {
			t.Fatalf("ca restore --force: %v\n%s", err, out)
		}
		r := *w.ca
		r.dir, r.dsn = dir, dsn
		r.start("--audit_checkpoint_interval", "0")
		if got := r.ok("erin", "--json", "audit"); !strings.Contains(got, `"forced":true`) {
			t.Errorf("the forced restore is not audited as forced:\n%s", got)
		}
	})
}

// The documented MySQL procedure: mariadb-dump --single-transaction while
// requests keep coming, restored with the mariadb client into an empty
// database, gives a CA whose audit log verifies and that has the grant and
// its session.
func TestMariaDBDumpUnderLoadRestoresTheCA(t *testing.T) {
	t.Parallel()
	dumpTool := needTool(t, "mariadb-dump", "mariadb-client")
	clientTool := needTool(t, "mariadb", "mariadb-client")
	w := newWorld(t, worldOptions{driver: "mysql"})
	b := w.bastion(nil)
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")
	if r := w.run(b, key, w.code("alice", 0), nil, "echo", "recorded"); r.code != 0 {
		t.Fatalf("session: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	waitFor(t, 30*time.Second, "the session to be reported", func() bool { return strings.Contains(w.ca.ok("erin", "--json", "sessions"), id) })
	stopLoad := requestLoad(t, w.ca)

	src, err := mysql.ParseDSN(w.ca.dsn)
	if err != nil {
		t.Fatal(err)
	}
	dstDSN := storetest.MySQLDSN(t)
	dst, err := mysql.ParseDSN(dstDSN)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(cfg *mysql.Config) []string {
		host, port, _ := strings.Cut(cfg.Addr, ":")
		args := []string{"-h", host, "-P", port, "-u", cfg.User}
		if cfg.Passwd != "" {
			args = append(args, "-p"+cfg.Passwd)
		}
		return args
	}
	dumpFile := filepath.Join(t.TempDir(), "lockbox.sql")
	out, err := os.Create(dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	dump := exec.Command(dumpTool, append(conn(src), "--single-transaction", "--routines", "--triggers", "--hex-blob", src.DBName)...)
	var dumpErr strings.Builder
	dump.Stdout, dump.Stderr = out, &dumpErr
	err = dump.Run()
	out.Close()
	stopLoad()
	if err != nil {
		t.Fatalf("mariadb-dump: %v\n%s", err, dumpErr.String())
	}
	in, err := os.Open(dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	load := exec.Command(clientTool, append(conn(dst), dst.DBName)...)
	load.Stdin = in
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("mariadb < dump: %v\n%s", err, out)
	}

	r := *w.ca
	r.dsn = dstDSN
	r.start("--audit_checkpoint_interval", "0")
	if got := r.ok("erin", "audit", "verify"); !strings.Contains(got, "audit log intact") {
		t.Errorf("audit verify on the restored CA: %s", got)
	}
	if got := r.ok("alice", "requests", "--mine"); !strings.Contains(got, id) {
		t.Errorf("the restored CA does not list the grant %s:\n%s", id, got)
	}
	if got := r.ok("erin", "--json", "sessions"); !strings.Contains(got, id) {
		t.Errorf("the restored CA does not list the grant's session:\n%s", got)
	}
}

// requestLoad has bob submit requests (denied by carol, so that his pending
// limit never stops him) until the returned function is called, after at
// least two went through.
func requestLoad(t *testing.T, c *ca) (stop func()) {
	t.Helper()
	var stopped atomic.Bool
	var wg sync.WaitGroup
	var submitted atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stopped.Load() {
			r := c.lockbox("bob", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "load during backup")
			if rid := strings.TrimSpace(r.stdout); r.code == 0 && rid != "" {
				submitted.Add(1)
				c.lockbox("carol", "deny", rid, "--reason", "load")
			}
		}
	}()
	waitFor(t, time.Minute, "requests to flow", func() bool { return submitted.Load() >= 2 })
	return func() {
		stopped.Store(true)
		wg.Wait()
	}
}
