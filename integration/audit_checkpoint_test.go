package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The attack the chain alone misses: delete the last rows and move the
// head row back to the new last row. `audit verify` alone still says
// intact; against a checkpoint saved earlier it fails, and stock OpenSSH
// checks that checkpoint with nothing but the CA's audit public key.
func TestAuditCheckpointCatchesATruncatedLogWithItsHeadRewound(t *testing.T) {
	t.Parallel()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	engines(t, func(t *testing.T, driver string) {
		out := t.TempDir()
		sinkFile, sinkDir := filepath.Join(out, "checkpoints.txt"), filepath.Join(out, "checkpoints")
		c := newCA(t, driver)
		c.writePolicy(nil)
		c.start("--audit_checkpoint_file", sinkFile, "--audit_checkpoint_dir", sinkDir, "--audit_checkpoint_interval", "1h")
		for i := 0; i < 5; i++ {
			c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "x")
		}
		c.refused("forbidden", "alice", "audit", "checkpoint", "--new") // audited: row 6
		saved := filepath.Join(out, "saved")
		c.ok("erin", "audit", "checkpoint", "--new", "--out", saved)
		text, _ := os.ReadFile(saved)
		if !strings.HasPrefix(string(text), "lockbox audit checkpoint v1\nseq 6\n") {
			t.Fatalf("saved checkpoint:\n%s", text)
		}

		// Stock OpenSSH verifies it with the audit public key alone.
		pub, err := os.ReadFile(filepath.Join(c.dir, "audit_key.pub"))
		if err != nil {
			t.Fatal(err)
		}
		allowed := filepath.Join(out, "allowed_signers")
		os.WriteFile(allowed, []byte(`lockbox-audit namespaces="lockbox-audit-checkpoint@lockbox" `+string(pub)), 0o644)
		verify := exec.Command(keygen, "-Y", "verify", "-f", allowed, "-I", "lockbox-audit", "-n", "lockbox-audit-checkpoint@lockbox", "-s", saved+".sig")
		verify.Stdin = strings.NewReader(string(text))
		if got, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(got), "Good") {
			t.Fatalf("ssh-keygen -Y verify: %v\n%s", err, got)
		}

		if got := c.ok("erin", "audit", "verify", "--checkpoint", saved, "--audit-key", filepath.Join(c.dir, "audit_key.pub")); !strings.Contains(got, "holds 1 signed checkpoints, the newest of row 6") {
			t.Fatalf("verify against the checkpoint before tampering: %q", got)
		}
		// What the CA wrote to its sinks: the checkpoint at start (row 0)
		// and the one just asked for.
		for _, sink := range []string{sinkFile, sinkDir} {
			if got := c.ok("erin", "audit", "verify", "--checkpoint", sink); !strings.Contains(got, "holds 2 signed checkpoints, the newest of row 6") {
				t.Fatalf("verify against %s: %q", sink, got)
			}
		}

		db := c.openDB()
		for _, q := range []string{
			`DELETE FROM audit_log WHERE seq > 3`,
			`UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3) WHERE id = 1`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if got := c.ok("erin", "audit", "verify"); !strings.Contains(got, "audit log intact: 3 rows") {
			t.Fatalf("without a checkpoint the truncation is invisible, yet verify says %q", got)
		}
		c.refused("rows were deleted from the end and the head moved back", "erin", "audit", "verify", "--checkpoint", saved)
		c.refused("rows were deleted from the end and the head moved back", "erin", "audit", "verify", "--checkpoint", sinkFile)
	})
}

// A checkpoint the audit key did not sign is refused, whatever it says.
func TestAuditVerifyRefusesACheckpointNotSignedByTheAuditKey(t *testing.T) {
	t.Parallel()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	c := startCA(t, "sqlite")
	c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "x")
	dir := t.TempDir()
	saved := filepath.Join(dir, "saved")
	c.ok("erin", "audit", "checkpoint", "--out", saved)
	// Re-sign the same text with another key, in the right namespace.
	other := filepath.Join(dir, "other")
	newKeyFile(t, other)
	os.Remove(saved + ".sig")
	if got, err := exec.Command(keygen, "-Y", "sign", "-f", other, "-n", "lockbox-audit-checkpoint@lockbox", saved).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, got)
	}
	c.refused("checkpoint not signed by the audit key", "erin", "audit", "verify", "--checkpoint", saved)
}

// A data directory from before the audit key: serve says what to do, and
// init adds the key without touching the others.
func TestCAInitAddsTheMissingAuditKeyAndKeepsTheOthers(t *testing.T) {
	t.Parallel()
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	userCA, err := os.ReadFile(filepath.Join(c.dir, "user_ca.pub"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(c.dir, "audit_key"))
	os.Remove(filepath.Join(c.dir, "audit_key.pub"))
	got, err := exec.Command(filepath.Join(bin, "ca"), "serve", "--data", c.dir, "--policy", c.policy, "--listen", "127.0.0.1:0", "--metrics_listen", "off").CombinedOutput()
	if err == nil || !strings.Contains(string(got), "there is no audit_key in "+c.dir+": run `ca init --data "+c.dir+"`") {
		t.Fatalf("serve without an audit key: %v\n%s", err, got)
	}
	out := run(t, filepath.Join(bin, "ca"), "init", "--data", c.dir)
	if !strings.Contains(out, filepath.Join(c.dir, "user_ca")+" (kept)") || !strings.Contains(out, filepath.Join(c.dir, "audit_key")+"\n") {
		t.Fatalf("init on an existing directory:\n%s", out)
	}
	if again, _ := os.ReadFile(filepath.Join(c.dir, "user_ca.pub")); string(again) != string(userCA) {
		t.Fatal("init replaced the user CA key")
	}
	c.start()
	c.ok("erin", "audit", "checkpoint")
}
