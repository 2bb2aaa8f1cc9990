package integration

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Break-glass: with the CA stopped, `ca break-glass` signs on the CA host
// from the key files; stock ssh through a bastion with break_glass on
// reaches the real sshd target with no TOTP code, the user sees the
// banner, and the session is recorded to the spool. A bastion without
// the setting refuses the same certificate, saying why; more than 1h is
// refused at signing. When the CA starts again it audits the issuance
// (breakglass.issued) from the record next to its keys, once.
func TestBreakGlassWithTheCAStopped(t *testing.T) {
	w := newWorld(t, worldOptions{})
	glass := w.bastion(nil, "--break_glass")
	closed := w.bastion(nil, "--refusal_report_interval", "1s")
	w.ca.cmd.Process.Kill() //nolint:errcheck
	w.ca.cmd.Wait()         //nolint:errcheck

	key := filepath.Join(t.TempDir(), "alice")
	newKeyFile(t, key)
	sign := func(duration string) (string, error) {
		out, err := runErr(filepath.Join(bin, "ca"), "break-glass", "--data", w.ca.dir, "--policy", w.ca.policy,
			"--user", "alice", "--reason", "CA database down; db-1 disk full", "--resource", "db-1", "--role", "admin",
			"--duration", duration, "--pubkey", key+".pub")
		return out, err
	}
	if out, err := sign("61m"); err == nil || !strings.Contains(out, "at most 1h") {
		t.Fatalf("61m signed (err %v): %s", err, out)
	}
	if _, err := os.Stat(key + "-cert.pub"); err == nil {
		t.Fatal("a refused signing wrote a certificate")
	}
	if out, err := sign("10m"); err != nil || !strings.Contains(out, "BREAK-GLASS") {
		t.Fatalf("signing: %v: %s", err, out)
	}
	record, err := os.ReadFile(filepath.Join(w.ca.dir, "break-glass.log"))
	if err != nil || strings.Count(string(record), "\n") != 1 || !strings.Contains(string(record), `"reason":"CA database down; db-1 disk full"`) {
		t.Fatalf("break-glass.log: %v %q", err, record)
	}

	r := w.run(closed, key, "", nil, "echo", "through-the-glass")
	if r.code == 0 || strings.Contains(r.stdout, "through-the-glass") || !strings.Contains(r.stderr, "break_glass: true") {
		t.Fatalf("a bastion without break_glass: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(closed.log.String(), "login refused") {
		t.Fatalf("the refusal is not logged: %s", closed.log.String())
	}

	r = w.run(glass, key, "", nil, "echo", "through-the-glass")
	if r.code != 0 || !strings.Contains(r.stdout, "through-the-glass") {
		t.Fatalf("break-glass session: exit %d, stdout %q, stderr %q\nbastion log:\n%s", r.code, r.stdout, r.stderr, glass.log.String())
	}
	if !strings.Contains(r.stderr, "BREAK-GLASS SESSION: alice as admin on db-1") || !strings.Contains(r.stderr, "disk full") {
		t.Fatalf("no banner: %q", r.stderr)
	}
	spooled, _ := filepath.Glob(filepath.Join(glass.dir, "spool", "bg-*.cast.gz"))
	if len(spooled) != 1 {
		t.Fatalf("spooled recordings %v", spooled)
	}
	if text := gunzip(t, spooled[0]); !strings.Contains(text, "through-the-glass") || !strings.Contains(text, "BREAK-GLASS") {
		t.Fatalf("the recording lacks the session: %q", text)
	}

	// The CA back, on its address: it audits the issuance from the
	// record, once.
	w.ca.start("--listen", strings.TrimPrefix(w.ca.url, "http://"))
	rows := w.auditOf("breakglass.issued")
	if len(rows) != 1 || rows[0].Subject != "break-glass/alice/db-1" || rows[0].Detail["reason"] != "CA database down; db-1 disk full" ||
		rows[0].Detail["bastion"] != "bastion-1" || !strings.HasPrefix(rows[0].Actor, "operator:") {
		t.Fatalf("breakglass.issued rows: %+v", rows)
	}
	// The refusal by the bastion without break_glass, queued while the
	// CA was down, reaches the audit log.
	waitFor(t, 30*time.Second, "the break-glass refusal in the audit log", func() bool {
		for _, r := range w.auditOf("login.refused") {
			if r.Detail["key_id"] == "break-glass/alice/db-1" && r.Detail["user"] == "alice" && strings.Contains(fmt.Sprint(r.Detail["reason"]), "break_glass: true") {
				return true
			}
		}
		return false
	})
	w.ca.cmd.Process.Kill() //nolint:errcheck
	w.ca.cmd.Wait()         //nolint:errcheck
	w.ca.start()
	if rows := w.auditOf("breakglass.issued"); len(rows) != 1 {
		t.Fatalf("after another restart, %d breakglass.issued rows, want the one", len(rows))
	}
}

func runErr(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil && len(data) == 0 {
		t.Fatal(err)
	}
	return string(data)
}
