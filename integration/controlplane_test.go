package integration

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A request walks from submission through two approvals to a certificate
// that OpenSSH reads back exactly as the grant says.
func TestRequestApproveCertificate(t *testing.T) {
	t.Parallel()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	engines(t, func(t *testing.T, driver string) {
		c := startCA(t, driver)
		id := strings.TrimSpace(c.ok("alice", "request", "--role", "admin", "--resource", "db-1,db-2",
			"--duration", "1h", "--reason", "disk full on db-1", "--ticket", "INC-42"))
		if !regexp.MustCompile(`^req-[a-z2-7]{16}$`).MatchString(id) {
			t.Fatalf("request printed %q, want an ID", id)
		}
		c.refused("self_approval", "alice", "approve", id)
		c.refused("not_an_approver", "dave", "approve", id)
		if out := c.ok("carol", "approve", id, "--reason", "ok"); !strings.Contains(out, "still needs 1 of frank: group security") {
			t.Fatalf("after carol: %q", out)
		}
		if out := c.ok("frank", "approve", id); !strings.Contains(out, "approved") {
			t.Fatalf("after frank: %q", out)
		}
		var req wire.Request
		if err := json.Unmarshal([]byte(c.ok("alice", "--json", "requests", "--mine")), &[]*wire.Request{&req}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "grant")
		c.ok("alice", "cert", id, "--out", out)
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("private key: %v %v", fi, err)
		}
		listing := run(t, keygen, "-L", "-f", out+"-cert.pub")
		from, to := req.NotBefore.Add(-time.Minute).Local().Format("2006-01-02T15:04:05"), req.NotAfter.Local().Format("2006-01-02T15:04:05")
		for _, want := range []string{
			"Type: ssh-ed25519-cert-v01@openssh.com user certificate",
			`Key ID: "alice/` + id + `"`,
			"Valid: from " + from + " to " + to,
			"Principals: \n                admin@db-1\n                admin@db-2\n",
			"Critical Options: (none)",
			"Extensions: \n                permit-pty\n",
		} {
			if !strings.Contains(listing, want) {
				t.Errorf("ssh-keygen -L lacks %q:\n%s", want, listing)
			}
		}
	})
}

func TestRejectionsExitNonZeroWithTheReason(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	c.refused("out_of_scope", "alice", "request", "--role", "reader", "--resource", "web-1", "--duration", "1h", "--reason", "x")
	c.refused("ticket_required", "alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "1h", "--reason", "x")
	c.refused("over_max_duration", "alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "3h", "--reason", "x", "--ticket", "T-1")
	newKeyFile(t, filepath.Join(c.keys, "nobody"))
	c.refused("unknown_key", "nobody", "requests")
	rejected := c.ok("alice", "requests", "--mine")
	if !strings.Contains(rejected, "rejected") {
		t.Fatalf("rejected requests are not listed:\n%s", rejected)
	}
	// A justification with terminal escapes never reaches an approver's
	// terminal: it is refused, and the refusal prints no raw escape.
	r := c.lockbox("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "x\x1b]52;c;cm0gLXJm\x07")
	if r.code == 0 || !strings.Contains(r.stderr, "reason_required") || strings.Contains(r.stderr, "\x1b") {
		t.Fatalf("escape in a reason: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Revoking a grant puts its certificates in the KRL, as OpenSSH reads it.
func TestRevokedCertificateIsInTheKRL(t *testing.T) {
	t.Parallel()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	engines(t, func(t *testing.T, driver string) {
		c := startCA(t, driver)
		id := strings.TrimSpace(c.ok("alice", "request", "--role", "health", "--resource", "db-1", "--duration", "30m", "--reason", "check disks"))
		out := filepath.Join(t.TempDir(), "grant")
		c.ok("alice", "cert", id, "--out", out)
		krl := filepath.Join(t.TempDir(), "krl")
		fetch := func() {
			resp, err := http.Get(c.url + "/v1/krl")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if err := os.WriteFile(krl, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fetch()
		if r := exec.Command(keygen, "-Q", "-f", krl, out+"-cert.pub"); r.Run() != nil {
			t.Fatal("a live certificate is in the KRL")
		}
		c.ok("alice", "revoke", id, "--reason", "done")
		fetch()
		got, err := exec.Command(keygen, "-Q", "-f", krl, out+"-cert.pub").CombinedOutput()
		if err == nil || !strings.Contains(string(got), "REVOKED") {
			t.Fatalf("ssh-keygen -Q after revoke: %v %s", err, got)
		}
		c.refused("grant_not_live", "alice", "cert", id, "--out", out+"2")
	})
}

// audit verify names the row an attacker with database access changed,
// deleted or moved.
func TestAuditVerifyNamesTamperedRows(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, driver string) {
		tamper := []struct {
			name string
			sql  []string
			want string
		}{
			{"changed", []string{`UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 3`}, "row 3"},
			{"deleted", []string{`DELETE FROM audit_log WHERE seq = 4`}, "row 4"},
			{"reordered", []string{
				`UPDATE audit_log SET seq = 1000 WHERE seq = 2`,
				`UPDATE audit_log SET seq = 2 WHERE seq = 5`,
				`UPDATE audit_log SET seq = 5 WHERE seq = 1000`}, "row 2"},
		}
		for _, tc := range tamper {
			t.Run(tc.name, func(t *testing.T) {
				c := startCA(t, driver)
				for i := 0; i < 5; i++ {
					c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "x")
				}
				if out := c.ok("erin", "audit", "verify"); !strings.Contains(out, "audit log intact: 5 rows") {
					t.Fatalf("before: %q", out)
				}
				c.refused("forbidden", "alice", "audit", "verify")
				db := c.openDB()
				for _, q := range tc.sql {
					if _, err := db.Exec(q); err != nil {
						t.Fatal(err)
					}
				}
				c.refused(tc.want, "erin", "audit", "verify")
			})
		}
	})
}

func (c *ca) openDB() *sql.DB {
	db, err := sql.Open(c.driver, c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

func TestAuditExportAsJSONLines(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	c.ok("alice", "request", "--role", "health", "--resource", "db-1", "--duration", "10m", "--reason", "x")
	out := c.ok("erin", "--json", "audit", "--since", "1h")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var r wire.AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Hash == "" {
			t.Fatalf("line %q: %v", l, err)
		}
	}
	if out := c.ok("erin", "audit", "--since", "2000-01-01T00:00:00Z"); !strings.Contains(out, "request.approved") {
		t.Fatalf("table:\n%s", out)
	}
}

func TestMFAEnrollPrintsAnOtpauthURI(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	if out := c.ok("bob", "mfa", "enroll"); !strings.HasPrefix(out, "otpauth://totp/Lockbox:bob?") {
		t.Fatalf("enroll: %q", out)
	}
	c.refused("mfa_enrolled", "bob", "mfa", "enroll")
}

// A policy reload that fails keeps the old policy, and says why.
func TestBadPolicyReloadKeepsTheOldPolicy(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	bad := filepath.Join(c.policy, "zz-bad.yaml")
	if err := os.WriteFile(bad, []byte("roles:\n  - name: oops\n    colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bin, "ca"), "policy", "check", c.policy).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "zz-bad.yaml:3") {
		t.Fatalf("policy check: %v %s", err, out)
	}
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the reload failure in the log", func() bool {
		return strings.Contains(c.log.String(), "keeping the previous policy")
	})
	if !strings.Contains(c.log.String(), "zz-bad.yaml:3") {
		t.Fatalf("the log does not say why:\n%s", c.log.String())
	}
	c.ok("alice", "request", "--role", "health", "--resource", "db-1", "--duration", "10m", "--reason", "still works")
}

// ca sign-host certifies a host key that OpenSSH then reads as a host
// certificate from the host CA.
func TestSignHost(t *testing.T) {
	t.Parallel()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	c := startCA(t, "sqlite")
	hostKey := filepath.Join(t.TempDir(), "ssh_host_ed25519_key")
	newKeyFile(t, hostKey)
	out := run(t, filepath.Join(bin, "ca"), "sign-host", "--data", c.dir, "--policy", c.policy,
		"--host-key", hostKey+".pub", "--hostname", "bastion.example.com", "--validity", "1h")
	if strings.TrimSpace(out) != hostKey+"-cert.pub" {
		t.Fatalf("sign-host printed %q", out)
	}
	listing := run(t, keygen, "-L", "-f", hostKey+"-cert.pub")
	fp := strings.Fields(run(t, keygen, "-l", "-f", filepath.Join(c.dir, "host_ca.pub")))[1]
	for _, want := range []string{"host certificate", "Signing CA: ED25519 " + fp, "Principals: \n                bastion.example.com\n"} {
		if !strings.Contains(listing, want) {
			t.Errorf("ssh-keygen -L lacks %q:\n%s", want, listing)
		}
	}
}
