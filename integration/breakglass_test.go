package integration

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/hooktest"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Break-glass: with the CA stopped, `ca break-glass` signs on the CA host
// from the key files; stock ssh through a bastion with break_glass on
// reaches the real sshd target with no TOTP code, the user sees the
// banner, and the session is recorded to the spool. A bastion without
// the setting refuses the same certificate, saying why; more than 1h is
// refused at signing. When the CA starts again it audits the issuance
// (breakglass.issued) from the record next to its keys, once; the bastion
// reports the session (breakglass.session, with what the certificate
// says and what was run), uploads its recording (recording.stored with
// the spooled file's SHA-256; lockbox replay shows the output) and
// empties its spool of it; both reach a real webhook as break_glass,
// addressed to the auditors.
func TestBreakGlassWithTheCAStopped(t *testing.T) {
	w := newWorld(t, worldOptions{})
	glass := w.bastion(nil, "--break_glass", "--upload_retry_interval", "1s")
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
	sessionID := strings.TrimSuffix(filepath.Base(spooled[0]), ".cast.gz")
	spooledSum := fileSHA256(t, spooled[0])
	for _, ext := range []string{".end.json", ".glass.json"} {
		if _, err := os.Stat(filepath.Join(glass.dir, "spool", sessionID+ext)); err != nil {
			t.Fatalf("the spool lacks the session's %s: %v", ext, err)
		}
	}
	hook := routeBreakGlassToAWebhook(t, w.ca.policy)

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
	checkBreakGlassReported(t, w, glass, sessionID, spooledSum, rows[0])
	checkBreakGlassNotified(t, hook, sessionID)
	w.ca.cmd.Process.Kill() //nolint:errcheck
	w.ca.cmd.Wait()         //nolint:errcheck
	w.ca.start()
	if rows := w.auditOf("breakglass.issued"); len(rows) != 1 {
		t.Fatalf("after another restart, %d breakglass.issued rows, want the one", len(rows))
	}
	if rows := w.auditOf("breakglass.session"); len(rows) != 1 {
		t.Fatalf("after another restart, %d breakglass.session rows, want the one", len(rows))
	}
}

// checkBreakGlassReported waits for the bastion's report of break-glass
// session id and checks what the CA made of it.
func checkBreakGlassReported(t *testing.T, w *world, glass *bastionProc, id, spooledSum string, issued wire.AuditRecord) {
	t.Helper()
	var row wire.AuditRecord
	waitFor(t, 30*time.Second, "the breakglass.session row", func() bool {
		rows := w.auditOf("breakglass.session")
		if len(rows) == 1 {
			row = rows[0]
		}
		return len(rows) == 1
	})
	d := row.Detail
	if row.Subject != id || row.Actor != "bastion:bastion-1" || d["user"] != "alice" || d["role"] != "admin" || d["resource"] != "db-1" ||
		d["reason"] != "CA database down; db-1 disk full" || d["serial"] != issued.Detail["serial"] || d["bastion"] != "bastion-1" ||
		d["command"] != "echo through-the-glass" || d["exit_status"] != 0.0 || d["end_reason"] == "" ||
		!strings.HasPrefix(fmt.Sprint(d["client"]), "127.0.0.1:") || d["started"] == "" || d["ended"] == "" {
		t.Fatalf("breakglass.session row: %+v", row)
	}
	waitFor(t, 30*time.Second, "the recording stored", func() bool {
		for _, r := range w.auditOf("recording.stored") {
			if r.Subject == id {
				if r.Detail["sha256"] != spooledSum {
					t.Fatalf("recording.stored sha256 %v, the spooled file's %s", r.Detail["sha256"], spooledSum)
				}
				return true
			}
		}
		return false
	})
	waitFor(t, 30*time.Second, "the spool empty of the break-glass session", func() bool {
		left, _ := filepath.Glob(filepath.Join(glass.dir, "spool", "bg-*"))
		return len(left) == 0
	})
	if out := w.ca.ok("erin", "--json", "sessions"); !strings.Contains(out, id) {
		t.Fatalf("lockbox sessions lacks %s: %s", id, out)
	}
	if out := w.ca.ok("erin", "replay", id, "--speed", "100"); !strings.Contains(out, "through-the-glass") {
		t.Fatalf("lockbox replay %s: %q", id, out)
	}
}

// routeBreakGlassToAWebhook adds to the policy in dir a route of
// break_glass to a real webhook receiver, addressed to the people it
// concerns; the CA reads it when it starts.
func routeBreakGlassToAWebhook(t *testing.T, dir string) *hooktest.Receiver {
	t.Helper()
	hook := hooktest.Start(t)
	secret := filepath.Join(t.TempDir(), "hook.secret")
	if err := os.WriteFile(secret, []byte(hooktest.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	section := fmt.Sprintf(`notifications:
  endpoints:
    - {name: hook, kind: webhook, url: %q, allow_plain_http: true, secret: "file:%s"}
  routes:
    - {events: [break_glass], endpoints: [hook]}
`, hook.URL(), secret)
	if err := os.WriteFile(filepath.Join(dir, "zz-notify.yaml"), []byte(section), 0o600); err != nil {
		t.Fatal(err)
	}
	return hook
}

// checkBreakGlassNotified waits for the issuance and the session to reach
// the webhook, each once, addressed to the auditors and not to alice.
func checkBreakGlassNotified(t *testing.T, hook *hooktest.Receiver, id string) {
	t.Helper()
	if err := hook.WaitKeys(context.Background(), 30*time.Second, 2); err != nil {
		t.Fatal(err)
	}
	events := map[string]bool{}
	for key := range hook.Keys() {
		b, ok := hook.Body(key)
		if !ok || b.Event != notify.BreakGlass || b.BreakGlass == nil || b.BreakGlass.User != "alice" || b.BreakGlass.Resource != "db-1" {
			t.Fatalf("webhook body for %s: %+v", key, b)
		}
		var to []string
		for _, p := range b.To {
			to = append(to, p.Name)
		}
		if !slices.Contains(to, "erin") || slices.Contains(to, "alice") {
			t.Errorf("%s event addressed to %v, want the auditors (erin among them), not alice", b.BreakGlass.Event, to)
		}
		if b.BreakGlass.Event == notify.BreakGlassSession && b.BreakGlass.SessionID != id {
			t.Errorf("session event for %q, want %s", b.BreakGlass.SessionID, id)
		}
		events[b.BreakGlass.Event] = true
	}
	if !events[notify.BreakGlassIssued] || !events[notify.BreakGlassSession] || len(events) != 2 {
		t.Fatalf("break_glass events %v, want issued and session", events)
	}
	if n := hook.BadSignatures(); n != 0 || hook.Repeats() != 0 {
		t.Errorf("%d bad signatures, %d repeats", n, hook.Repeats())
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
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
