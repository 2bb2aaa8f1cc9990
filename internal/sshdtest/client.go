package sshdtest

import (
	"crypto"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// Identity is a client's private key and certificate in files, as the stock
// ssh client reads them.
type Identity struct {
	KeyFile  string // OpenSSH private key, mode 0600
	CertFile string // the certificate, one authorized_keys line
}

// WriteIdentity writes key (an ed25519.PrivateKey, *ecdsa.PrivateKey or
// *rsa.PrivateKey) and cert, a certificate for its public key, to a new
// temporary directory removed when the test ends.
func WriteIdentity(t testing.TB, key crypto.PrivateKey, cert *ssh.Certificate) Identity {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(key, "sshdtest")
	if err != nil {
		t.Fatalf("sshdtest: encoding client key: %v", err)
	}
	dir := t.TempDir()
	id := Identity{KeyFile: filepath.Join(dir, "id"), CertFile: filepath.Join(dir, "id-cert.pub")}
	if err := os.WriteFile(id.KeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if err := os.WriteFile(id.CertFile, sshcert.AuthorizedKey(cert, "sshdtest"), 0o644); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return id
}

// SSH returns a command that runs the stock OpenSSH client as login@s with
// id, trusting only s.KnownHostsFile and reading no user or system
// configuration, agent or other key. command, if any, is what the client
// asks to run (the words are joined with spaces, as ssh does); without it
// the client asks for a shell, as an interactive login does. It never asks
// for a PTY (-T): a test's stdin is no terminal. The test is skipped, or failed
// when integration is required, if ssh is not installed.
//
// ssh exits with the remote command's status, or 255 if it could not log in.
func (s *Server) SSH(t testing.TB, id Identity, login string, command ...string) *exec.Cmd {
	t.Helper()
	client, err := exec.LookPath("ssh")
	if err != nil {
		storetest.MissingPeer(t, "OpenSSH ssh client (apt-get install openssh-client): %v", err)
	}
	args := []string{
		"-F", "none",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "CertificateFile=" + id.CertFile,
		"-i", id.KeyFile,
		"-o", "UserKnownHostsFile=" + s.KnownHostsFile,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10",
		"-T",
		"-p", strconv.Itoa(s.Port),
		"--", login + "@127.0.0.1",
	}
	return exec.Command(client, append(args, command...)...)
}
