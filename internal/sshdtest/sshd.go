// Package sshdtest runs a real OpenSSH sshd for tests, configured the way a
// Lockbox target is: certificate logins only, trusting the CA keys a test
// gives, with an AuthorizedPrincipalsFile per login and optionally a
// RevokedKeys KRL that the test can replace while the server runs.
//
// Start skips the test when /usr/sbin/sshd is missing, or fails it when
// LOCKBOX_REQUIRE_INTEGRATION=1. sshd runs as a separate process on a
// random loopback port until the test ends. Log in with the stock ssh client
// (Server.SSH) as the account running the tests: sshd can only switch to
// another account when the tests run as root.
package sshdtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// SSHDPath is the sshd binary Start runs. sshd must be started by its
// absolute path (it re-executes itself for every connection).
const SSHDPath = "/usr/sbin/sshd"

// startTimeout bounds how long Start waits for sshd to listen.
const startTimeout = 15 * time.Second

// Options configure the sshd that Start runs. The zero value is a server
// that trusts no CA and so lets nobody in.
type Options struct {
	// TrustedUserCAKeys are the CAs whose user certificates sshd accepts
	// (TrustedUserCAKeys). None: the line is left out (Extra may set it).
	TrustedUserCAKeys []ssh.PublicKey
	// Principals maps a login to the certificate principals allowed to log
	// in as it, written to Dir/principals/LOGIN (AuthorizedPrincipalsFile).
	Principals map[string][]string
	// KRL is the RevokedKeys file. nil: no RevokedKeys line; non-nil (even
	// empty): configured, and replaceable with SetKRL.
	KRL []byte
	// HostKey is the server's host key; nil generates an ed25519 key. It is
	// served to sshd from an in-process ssh-agent (HostKeyAgent), so any
	// ssh.Signer works and no private key is written to disk.
	HostKey ssh.Signer
	// HostCertificate, optional, certifies HostKey (HostCertificate). The
	// known-hosts file then trusts its signing CA instead of the key.
	HostCertificate *ssh.Certificate
	// ForceCommand, optional, is a global ForceCommand.
	ForceCommand string
	// Extra lines go at the top of sshd_config. sshd keeps the first value
	// it reads for a keyword, so they override the defaults Start writes,
	// which makes "Include FILE" of a target's drop-in behave as on Debian.
	// They must not open a Match block.
	Extra []string
}

// Server is a running sshd. Its fields are read-only.
type Server struct {
	Addr    string        // 127.0.0.1:PORT
	Port    int           // the port of Addr
	HostKey ssh.PublicKey // the host key (not its certificate)
	Dir     string        // sshd_config, CA keys, principals, KRL
	// KnownHostsFile trusts this server: its host key, or, with a
	// HostCertificate (which must name 127.0.0.1 for ssh to accept it),
	// only the CA that signed it.
	KnownHostsFile string

	krlPath string // "" when no RevokedKeys is configured
	log     *logBuffer
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returns
}

// errPortTaken means sshd could not bind the port picked for it.
var errPortTaken = errors.New("sshdtest: port already in use")

// Start runs sshd with o until the test ends, and returns once it accepts
// connections. On failure, and when the test fails, sshd's log is printed.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		storetest.MissingPeer(t, "OpenSSH sshd (apt-get install openssh-server): %v", err)
	}
	if os.Geteuid() == 0 {
		// sshd running as root chroots its unprivileged child here.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshdtest: creating privilege separation directory: %v", err)
		}
	}
	signer := o.HostKey
	if signer == nil {
		signer = generateHostKey(t)
	}
	s := &Server{Dir: readableTempDir(t), HostKey: signer.PublicKey()}
	if o.KRL != nil {
		s.krlPath = s.path(krlFile)
	}
	if err := s.writeFiles(o); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	socket := startHostKeyAgent(t, signer)

	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("sshdtest: picking a port: %v", err)
		}
		err = s.start(t, o, port, socket)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			t.Fatalf("sshdtest: %v\nsshd log:\n%s", err, s.Log())
		}
	}
	if err := s.writeKnownHosts(o.HostCertificate); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return s
}

// start runs sshd on port and waits until it listens. It returns
// errPortTaken if another process got the port first.
func (s *Server) start(t testing.TB, o Options, port int, agentSocket string) error {
	config := s.path(sshdConfigFile)
	if err := os.WriteFile(config, []byte(s.config(o, port, agentSocket)), 0o644); err != nil {
		return err
	}
	s.log = newLogBuffer()
	s.exited = make(chan struct{})
	s.cmd = exec.Command(SSHDPath, "-D", "-e", "-f", config)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Its own process group, so cleanup also ends the per-connection sshd
	// processes; WaitDelay in case one of them still holds the log pipe.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting sshd: %w", err)
	}
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait() //nolint:errcheck // killed at cleanup; the log says why otherwise
		close(exited)
	}(s.cmd, s.exited)

	s.Port = port
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if s.log.waitFor(fmt.Sprintf("Server listening on 127.0.0.1 port %d.", port), s.exited, startTimeout) {
		t.Cleanup(func() { s.stop(t) })
		return nil
	}
	s.kill()
	if strings.Contains(s.Log(), "Address already in use") {
		return errPortTaken
	}
	return fmt.Errorf("sshd did not start listening on %s within %v", s.Addr, startTimeout)
}

// stop ends sshd and its children at the end of the test.
func (s *Server) stop(t testing.TB) {
	s.kill()
	if t.Failed() {
		t.Logf("sshd log (%s):\n%s", s.Addr, s.Log())
	}
}

// kill ends sshd's process group and waits for sshd to be reaped.
func (s *Server) kill() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // already gone is fine
	<-s.exited
}

// PID is the process ID of the listening sshd. The per-connection sshd
// processes are its children: once it has reaped them, their CPU time is in
// its children's count (cutime and cstime in /proc/PID/stat).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns what sshd has logged so far (its -e output, at LogLevel
// VERBOSE): accepted and refused keys, with reasons.
func (s *Server) Log() string {
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// SetKRL replaces the RevokedKeys file atomically (write, then rename), as a
// target's refresher must: sshd reads it at every authentication and
// refuses every certificate if it cannot. The server must have been
// started with a non-nil Options.KRL.
func (s *Server) SetKRL(data []byte) error {
	if s.krlPath == "" {
		return errors.New("sshdtest: SetKRL: no RevokedKeys configured (start with a non-nil Options.KRL)")
	}
	return writeFileAtomic(s.krlPath, data, 0o644)
}

// readableTempDir makes a directory, removed when the test ends, that every
// account may enter: sshd reads a login's AuthorizedPrincipalsFile as that
// account, and t.TempDir is open to its owner only.
func readableTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sshdtest-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func generateHostKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshdtest: generating host key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return signer
}

// startHostKeyAgent serves signer on a Unix socket until the test ends and
// returns the socket's path. The socket lives in a short directory of its
// own: t.TempDir paths can exceed the 108 bytes a socket path may have.
func startHostKeyAgent(t testing.TB, signer ssh.Signer) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sshdtest")
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	socket := filepath.Join(dir, "agent.sock")
	srv, err := serveAgent(socket, hostKeyAgent{signer: signer})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("sshdtest: host key agent: %v", err)
	}
	t.Cleanup(func() {
		srv.Close()
		os.RemoveAll(dir)
	})
	return socket
}

// writeKnownHosts writes a known_hosts file trusting s: its host key, or
// only the CA that signed its certificate.
func (s *Server) writeKnownHosts(cert *ssh.Certificate) error {
	host := fmt.Sprintf("[127.0.0.1]:%d", s.Port)
	line := host + " " + string(sshcert.AuthorizedKey(s.HostKey, ""))
	if cert != nil {
		line = "@cert-authority " + host + " " + string(sshcert.AuthorizedKey(cert.SignatureKey, ""))
	}
	s.KnownHostsFile = s.path(knownHostsFile)
	return os.WriteFile(s.KnownHostsFile, []byte(line), 0o644)
}
