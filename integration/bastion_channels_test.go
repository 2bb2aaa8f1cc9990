package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Nothing but recorded sessions passes: no forwarding, no agent, no
// subsystems; and each refusal leaves a trace in the log and the audit.
func TestBastionRefusesUnrecordedChannels(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")
	if r := w.run(b, key, w.code("alice", 0), nil, "true"); r.code != 0 {
		t.Fatalf("login: exit %d, stderr %q", r.code, r.stderr)
	}
	tests := []struct {
		name    string
		opts    []string
		command []string
		ok      func(r sshRun) bool
	}{
		{"stdio forwarding (direct-tcpip)", []string{"-W", "127.0.0.1:22"}, nil,
			func(r sshRun) bool { return r.code != 0 && strings.Contains(r.stderr, "open failed") }},
		{"remote port forwarding", []string{"-N", "-R", "127.0.0.1:0:127.0.0.1:22", "-o", "ExitOnForwardFailure=yes"}, nil,
			func(r sshRun) bool { return r.code != 0 && strings.Contains(r.stderr, "forwarding failed") }},
		{"an sftp subsystem", []string{"-s"}, []string{"sftp"},
			func(r sshRun) bool { return r.code != 0 }},
		{"X11 forwarding", []string{"-X"}, []string{"sh", "-c", "'echo display=$DISPLAY'"},
			func(r sshRun) bool { return r.code == 0 && strings.TrimSpace(r.stdout) == "display=" }},
		{"agent forwarding", []string{"-A"}, []string{"sh", "-c", "'echo agent=$SSH_AUTH_SOCK'"},
			func(r sshRun) bool { return r.code == 0 && strings.TrimSpace(r.stdout) == "agent=" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(b, key, "", tc.opts, tc.command...)
			if !tc.ok(r) {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
	// Each refusal is logged and audited with the person, the grant, and
	// the session when one was open. (ssh -A asks for nothing without an
	// agent, and the harness runs ssh without one.)
	want := map[string]string{ // type → target
		"direct-tcpip": "127.0.0.1:22", "tcpip-forward": "127.0.0.1:0", "subsystem": "sftp", "x11-req": "",
	}
	waitFor(t, 10*time.Second, "the refusals in the audit log", func() bool { return len(w.auditOf("channel.refused")) >= len(want) })
	for _, r := range w.auditOf("channel.refused") {
		kind, _ := r.Detail["type"].(string)
		target, ok := want[kind]
		if kind == "auth-agent-req@openssh.com" {
			target, ok = "", true
		}
		if !ok || r.Detail["user"] != "alice" || r.Subject != id || (target != "" && r.Detail["target"] != target) {
			t.Fatalf("channel.refused row %+v", r)
		}
		if session, _ := r.Detail["session"].(string); (kind == "x11-req" || kind == "auth-agent-req@openssh.com") && !strings.HasPrefix(session, "sess-") {
			t.Fatalf("%s refused during a session names no session: %+v", kind, r)
		}
		delete(want, kind)
		if !strings.Contains(b.log.String(), "type="+kind) {
			t.Fatalf("the bastion's log lacks the %s refusal:\n%s", kind, b.log.String())
		}
	}
	if len(want) != 0 {
		t.Fatalf("refusals not audited: %v", want)
	}
}

// A read-only role runs only its allowed commands: the bastion checks
// them, and the certificate's force-command runs them through the command
// gate on the target.
func TestReadOnlyRoleRunsOnlyItsCommands(t *testing.T) {
	t.Parallel()
	gate := filepath.Join(bin, "lockbox-gate")
	w := newWorld(t, worldOptions{editPolicy: func(name string, data []byte) []byte {
		if name == "roles.yaml" {
			return []byte(strings.ReplaceAll(string(data), "/usr/local/bin/lockbox-gate", gate))
		}
		return data
	}})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "reader", "1h")
	r := w.run(b, key, w.code("alice", 0), nil, "uptime")
	if r.code != 0 || !strings.Contains(r.stdout, "load average") {
		t.Fatalf("uptime: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		name    string
		opts    []string
		command []string
		want    string
	}{
		{"a command outside the patterns", nil, []string{"cat", "/etc/shadow"}, "allows only"},
		{"a shell", []string{"-T"}, nil, "gives no shell"},
		{"a pattern with extra words", nil, []string{"df", "-h", ";", "id"}, "allows only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(b, key, "", tc.opts, tc.command...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
	if _, err := os.Stat(gate); err != nil {
		t.Fatal(err)
	}
}
