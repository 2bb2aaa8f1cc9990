package workflow_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// editedExamplePolicy loads the example policy after edit changed its files.
func editedExamplePolicy(t *testing.T, edit func(name string, data []byte) []byte) *policy.Policy {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join("..", "..", "policy", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), edit(filepath.Base(f), data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := policy.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A role with allowed commands whose policy names no force_command still
// gets the command gate in its certificates, grant and hop alike, so the
// target's shell never interprets the client's command.
func TestRoleWithAllowedCommandsButNoForceCommandGetsTheGateInItsCertificates(t *testing.T) {
	e := newEnv(t, nil)
	e.holder.Set(editedExamplePolicy(t, func(name string, data []byte) []byte {
		if name != "roles.yaml" {
			return data
		}
		// The health role (auto-approved) loses its force_command line.
		return bytes.Replace(data, []byte("    allowed_commands: [\"uptime\", \"df -h\"]\n    force_command: /usr/local/bin/lockbox-gate\n"),
			[]byte("    allowed_commands: [\"uptime\", \"df -h\"]\n"), 1)
	}))
	if fc := e.holder.Get().Roles["health"].ForceCommand; fc != policy.DefaultCommandGate {
		t.Fatalf("the edit did not take: health's force_command is %q", fc)
	}
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	want := "/usr/local/bin/lockbox-gate -- 'uptime' 'df -h'"
	userCert, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
	if err != nil {
		t.Fatal(err)
	}
	hopCert, err := e.svc.IssueHopCert(ctx, workflow.BastionActor("bastion-1"), r.ID, "db-1", newPublicKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for kind, c := range map[string]map[string]string{"grant": userCert.CriticalOptions, "hop": hopCert.CriticalOptions} {
		if got := c["force-command"]; got != want {
			t.Errorf("%s certificate force-command = %q, want %q", kind, got, want)
		}
	}
}

// The bastion sends the target the words the CA matched, each quoted, so
// that a shell on the target could not read anything in them as syntax;
// roles without allowed commands get the client's command as it was.
func TestSessionGrantCarriesTheMatchedCommandRequoted(t *testing.T) {
	tests := []struct {
		name, role, command, want string
	}{
		{"a plain command", "reader", "uptime", "'uptime'"},
		{"shell syntax inside a matched word", "reader", `systemctl status 'x;id;echo${IFS}INJECTED>PWNED'`,
			`'systemctl' 'status' 'x;id;echo${IFS}INJECTED>PWNED'`},
		{"quotes and substitutions", "reader", `systemctl status "it's"'$(id)'`, `'systemctl' 'status' 'it'\''s$(id)'`},
		{"extra spaces and quoted words", "reader", `  journalctl   -u  "ng inx" `, `'journalctl' '-u' 'ng inx'`},
		{"a role that may run anything keeps the command", "admin", "ps aux | grep x; id", "ps aux | grep x; id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ticket := ""
			if tc.role == "admin" {
				ticket = "INC-1"
			}
			r := e.submit("alice", tc.role, []string{"db-1"}, time.Hour, ticket)
			e.approve("carol", r.ID)
			if tc.role == "admin" {
				e.approve("frank", r.ID)
			}
			g, err := e.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: r.ID, Resource: "db-1", User: "alice",
				ClientAddr: "127.0.0.1:5555", Command: tc.command})
			if err != nil {
				t.Fatal(err)
			}
			if g.ExecCommand != tc.want {
				t.Errorf("ExecCommand = %q, want %q", g.ExecCommand, tc.want)
			}
			if g.Session.Command != tc.command {
				t.Errorf("the session records %q, want the client's command %q", g.Session.Command, tc.command)
			}
		})
	}
}
