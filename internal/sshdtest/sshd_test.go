package sshdtest_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

const principal = "reader@db-1"

func TestCertificateLogins(t *testing.T) {
	ca, otherCA := newCA(t), newCA(t)
	login := currentLogin(t)
	srv := sshdtest.Start(t, sshdtest.Options{
		TrustedUserCAKeys: []ssh.PublicKey{ca.PublicKey()},
		Principals:        map[string][]string{login: {principal}},
	})

	tests := []struct {
		name     string
		ca       ssh.Signer
		spec     func(*sshcert.UserSpec)
		command  string
		wantExit int
		wantOut  string
		wantLog  string // sshd's reason for a refusal
	}{
		{name: "right principal runs the command", ca: ca, command: "echo hello", wantOut: "hello\n"},
		{name: "exit status propagates", ca: ca, command: "false", wantExit: 1},
		{name: "exit status 3 propagates", ca: ca, command: "exit 3", wantExit: 3},
		{name: "source-address including 127.0.0.1 is accepted", ca: ca, command: "true",
			spec: func(s *sshcert.UserSpec) { s.SourceAddress = []string{"127.0.0.1/32"} }},
		{name: "wrong principal is refused", ca: ca, command: "true", wantExit: 255,
			wantLog: "Certificate does not contain an authorized principal",
			spec:    func(s *sshcert.UserSpec) { s.Principals = []string{"admin@db-1"} }},
		{name: "principal for another host is refused", ca: ca, command: "true", wantExit: 255,
			wantLog: "Certificate does not contain an authorized principal",
			spec:    func(s *sshcert.UserSpec) { s.Principals = []string{"reader@db-2"} }},
		{name: "certificate from another CA is refused", ca: otherCA, command: "true", wantExit: 255,
			wantLog: "CA ED25519 " + ssh.FingerprintSHA256(otherCA.PublicKey())},
		{name: "source-address outside 127.0.0.1 is refused", ca: ca, command: "true", wantExit: 255,
			wantLog: "not from a permitted source address",
			spec:    func(s *sshcert.UserSpec) { s.SourceAddress = []string{"192.0.2.0/24"} }},
		{name: "expired certificate is refused", ca: ca, command: "true", wantExit: 255,
			wantLog: "Certificate invalid: expired",
			spec: func(s *sshcert.UserSpec) {
				s.ValidAfter, s.ValidBefore = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, _ := issue(t, tt.ca, tt.spec)
			out, stderr, code := run(t, srv.SSH(t, id, login, tt.command))
			if code != tt.wantExit {
				t.Fatalf("ssh exit status = %d, want %d; stderr:\n%s", code, tt.wantExit, stderr)
			}
			if tt.wantExit == 255 && !strings.Contains(stderr, "Permission denied") {
				t.Errorf("refusal stderr = %q, want Permission denied", stderr)
			}
			if !strings.Contains(srv.Log(), tt.wantLog) {
				t.Errorf("sshd log does not contain %q:\n%s", tt.wantLog, srv.Log())
			}
			if tt.wantOut != "" && out != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out, tt.wantOut)
			}
		})
	}
}

func TestRevokedSerialRefusedAfterSetKRL(t *testing.T) {
	ca := newCA(t)
	login := currentLogin(t)
	srv := sshdtest.Start(t, sshdtest.Options{
		TrustedUserCAKeys: []ssh.PublicKey{ca.PublicKey()},
		Principals:        map[string][]string{login: {principal}},
		KRL:               sshcert.MarshalKRL(1, time.Now(), "empty", nil),
	})
	revoked, serial := issue(t, ca, nil)
	kept, _ := issue(t, ca, nil)

	if _, stderr, code := run(t, srv.SSH(t, revoked, login, "true")); code != 0 {
		t.Fatalf("before revocation: exit %d, stderr:\n%s", code, stderr)
	}
	krl := sshcert.MarshalKRL(2, time.Now(), "test", []sshcert.KRLSection{{CA: ca.PublicKey(), Serials: []uint64{serial}}})
	if err := srv.SetKRL(krl); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, srv.SSH(t, revoked, login, "true")); code != 255 {
		t.Fatalf("revoked certificate: exit %d, want 255; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(srv.Log(), "revoked") {
		t.Errorf("sshd log does not say the key is revoked:\n%s", srv.Log())
	}
	if _, stderr, code := run(t, srv.SSH(t, kept, login, "true")); code != 0 {
		t.Fatalf("certificate with another serial: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestSetKRLNeedsRevokedKeys(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	if err := srv.SetKRL(nil); err == nil {
		t.Fatal("SetKRL on a server without RevokedKeys succeeded")
	}
}

func TestHostCertificateTrustedThroughHostCA(t *testing.T) {
	ca, hostCA, otherHostCA := newCA(t), newCA(t), newCA(t)
	hostKey := newCA(t) // any signer will do as a host key
	cert, err := sshcert.HostCertificate(hostKey.PublicKey(), sshcert.HostSpec{
		Serial: 7, KeyID: "target", Hostnames: []string{"127.0.0.1"},
		ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.Sign(cert, hostCA, rand.Reader); err != nil {
		t.Fatal(err)
	}
	login := currentLogin(t)
	srv := sshdtest.Start(t, sshdtest.Options{
		TrustedUserCAKeys: []ssh.PublicKey{ca.PublicKey()},
		Principals:        map[string][]string{login: {principal}},
		HostKey:           hostKey,
		HostCertificate:   cert,
	})
	if !bytes.Equal(srv.HostKey.Marshal(), hostKey.PublicKey().Marshal()) {
		t.Errorf("Server.HostKey is not the given host key")
	}
	id, _ := issue(t, ca, nil)
	if out, stderr, code := run(t, srv.SSH(t, id, login, "echo", "ok")); code != 0 || out != "ok\n" {
		t.Fatalf("login through host CA: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}

	// The client must really be checking the certificate: trusting another
	// host CA fails host key verification.
	wrong := *srv
	wrong.KnownHostsFile = t.TempDir() + "/known_hosts"
	writeFile(t, wrong.KnownHostsFile, "@cert-authority [127.0.0.1]:*  "+string(sshcert.AuthorizedKey(otherHostCA.PublicKey(), "")))
	if _, stderr, code := run(t, wrong.SSH(t, id, login, "true")); code != 255 || !strings.Contains(stderr, "Host key verification failed") {
		t.Fatalf("untrusted host CA: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestGlobalForceCommandReplacesTheRequest(t *testing.T) {
	ca := newCA(t)
	login := currentLogin(t)
	srv := sshdtest.Start(t, sshdtest.Options{
		TrustedUserCAKeys: []ssh.PublicKey{ca.PublicKey()},
		Principals:        map[string][]string{login: {principal}},
		ForceCommand:      `echo "forced: $SSH_ORIGINAL_COMMAND"`,
	})
	id, _ := issue(t, ca, nil)
	if out, stderr, code := run(t, srv.SSH(t, id, login, "id")); code != 0 || out != "forced: id\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
}

// newCA returns a fresh ed25519 signer.
func newCA(t *testing.T) ssh.Signer {
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

// issue makes a client key and a certificate for it signed by ca, for
// principal and valid for an hour unless spec changes that, and returns the
// identity files and the serial.
func issue(t *testing.T, ca ssh.Signer, spec func(*sshcert.UserSpec)) (sshdtest.Identity, uint64) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := sshcert.NewSerial(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := sshcert.UserSpec{
		Serial: serial, KeyID: "test/" + t.Name(), Principals: []string{principal},
		ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour),
	}
	if spec != nil {
		spec(&s)
	}
	cert, err := sshcert.UserCertificate(sshPub, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.Sign(cert, ca, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return sshdtest.WriteIdentity(t, priv, cert), serial
}

// currentLogin is the account running the tests, the only one sshd can
// switch to unless the tests run as root.
func currentLogin(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// run runs cmd and returns its stdout, stderr and exit status.
func run(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		status = exit.ExitCode()
	default:
		t.Fatalf("running %s: %v", cmd, err)
	}
	return out.String(), errOut.String(), status
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
