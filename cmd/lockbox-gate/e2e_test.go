package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/proctest"
	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// TestGateThroughSSHD logs in to a real sshd with a certificate whose
// force-command is the gate, as the CA writes it for a role with allowed
// commands, and checks what the client sees.
func TestGateThroughSSHD(t *testing.T) {
	gate := buildGate(t)
	patterns := []string{"id -u", "false", "echo *", "sh -c 'exit 3'"}
	ca := newSigner(t)
	login := currentLogin(t)
	srv := sshdtest.Start(t, sshdtest.Options{
		TrustedUserCAKeys: []ssh.PublicKey{ca.PublicKey()},
		Principals:        map[string][]string{login: {"reader@db-1"}},
	})
	id := issue(t, ca, forceCommand(gate, patterns))

	tests := []struct {
		name       string
		command    []string // none: an interactive login
		wantStatus int
		wantOut    string
		wantErr    string // stderr, exactly
	}{
		{name: "allowed command runs", command: []string{"echo hello"}, wantOut: "hello\n"},
		{name: "arguments are not expanded by a shell", command: []string{"echo '$HOME'"}, wantOut: "$HOME\n"},
		{name: "allowed command's exit status is the client's", command: []string{"false"}, wantStatus: 1},
		{name: "quoted pattern survives the force-command quoting", command: []string{"sh -c 'exit 3'"}, wantStatus: 3},
		{name: "a command outside the patterns is refused", command: []string{"rm -rf /tmp/lockbox-gate-test"}, wantStatus: 1,
			wantErr: "lockbox-gate: command not allowed for this role: rm -rf /tmp/lockbox-gate-test\n"},
		{name: "shell syntax is not a way around the patterns", command: []string{"echo hi; id"}, wantStatus: 1,
			wantErr: "lockbox-gate: command not allowed for this role: echo hi; id\n"},
		{name: "an interactive login is refused with the patterns", wantStatus: 1,
			wantErr: "lockbox-gate: this role runs only these commands:\n  id -u\n  false\n  echo *\n  sh -c 'exit 3'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := srv.SSH(t, id, login, tt.command...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			status := 0
			var exit *exec.ExitError
			if err := cmd.Run(); errors.As(err, &exit) {
				status = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Errorf("exit status = %d, want %d; stderr:\n%s", status, tt.wantStatus, stderr.String())
			}
			if stdout.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantOut)
			}
			if stderr.String() != tt.wantErr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

// forceCommand is the force-command the CA writes for a role with allowed
// commands: the gate, "--", and each pattern single-quoted for the shell
// sshd runs it with.
func forceCommand(gate string, patterns []string) string {
	var b strings.Builder
	b.WriteString(gate + " --")
	for _, p := range patterns {
		b.WriteString(" '" + strings.ReplaceAll(p, "'", `'\''`) + "'")
	}
	return b.String()
}

// buildGate compiles this command into a temporary directory that every
// account may read, so that sshd can run it for a login other than root.
func buildGate(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lockbox-gate-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "lockbox-gate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issue writes a client key and a certificate for reader@db-1, signed by
// ca, with force-command fc.
func issue(t *testing.T, ca ssh.Signer, fc string) sshdtest.Identity {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := sshcert.UserCertificate(sshPub, sshcert.UserSpec{
		Serial: 1, KeyID: "test/gate", Principals: []string{"reader@db-1"}, ForceCommand: fc,
		ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.Sign(cert, ca, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return sshdtest.WriteIdentity(t, priv, cert)
}

func currentLogin(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// Stock sshd never signals a forced-command session, and leaves its
// command running when the connection goes; through the gate, the command
// ends with the connection, for root (whose sessions sshd runs without
// privilege separation) and for another login, with stdin open or closed
// from the start.
func TestGateEndsItsCommandWhenTheSSHConnectionGoes(t *testing.T) {
	gate := buildGate(t)
	ca := newSigner(t)
	logins := []string{"root", sshdtest.NonRootLogin(t)}
	if os.Geteuid() != 0 {
		storetest.MissingPeer(t, "root, to log in to sshd as root and as another account")
	}
	principals := map[string][]string{}
	for _, l := range logins {
		principals[l] = []string{"reader@db-1"}
	}
	srv := sshdtest.Start(t, sshdtest.Options{TrustedUserCAKeys: []ssh.PublicKey{ca.PublicKey()}, Principals: principals})
	id := issue(t, ca, forceCommand(gate, []string{"sleep *"}))
	for _, login := range logins {
		for _, closedStdin := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, stdin closed from the start: %v", login, closedStdin), func(t *testing.T) {
				sleep := proctest.UniqueSleep()
				cmd := srv.SSH(t, id, login, sleep...)
				if closedStdin {
					cmd.Stdin = nil // /dev/null
				} else {
					r, w := pipe(t)
					cmd.Stdin = r
					defer w.Close()
				}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }() //nolint:errcheck // killed below
				pid := proctest.WaitRunning(t, 20*time.Second, sleep...)
				if owner := proctest.Owner(t, pid); owner != login {
					t.Fatalf("the command runs as %s, want %s", owner, login)
				}
				cmd.Process.Kill() //nolint:errcheck // the connection goes with the client
				<-done
				took := proctest.WaitGone(t, gone, sleep...)
				t.Logf("gone %v after the connection closed; stderr %q", took.Round(time.Millisecond), stderr.String())
			})
		}
	}
}
