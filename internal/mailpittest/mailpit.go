// Package mailpittest runs a real Mailpit SMTP server for tests, as a
// separate process on random loopback ports, and reads what arrived
// through its HTTP API.
//
// The binary is $LOCKBOX_MAILPIT, else the one scripts/test.sh installs
// from the Go module proxy (DefaultPath), else mailpit on PATH. Missing,
// the test is skipped, or fails under LOCKBOX_REQUIRE_INTEGRATION=1.
package mailpittest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/peerbin"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// Version is the Mailpit release scripts/test.sh installs.
const Version = "v1.33.1"

// startTimeout bounds how long Start waits for Mailpit to answer.
const startTimeout = 20 * time.Second

// bin is the Mailpit binary scripts/test.sh installs.
var bin = peerbin.Installed{Name: "mailpit", Version: Version, Module: "github.com/axllent/mailpit", Env: "LOCKBOX_MAILPIT"}

// DefaultPath is where scripts/test.sh installs Mailpit:
// $XDG_CACHE_HOME/lockbox/mailpit-VERSION/mailpit (~/.cache by default).
func DefaultPath() string { return bin.DefaultPath() }

// Path finds the Mailpit binary: $LOCKBOX_MAILPIT, DefaultPath, or PATH.
func Path() (string, error) { return bin.Path() }

// Options configure the Mailpit that Start runs. The zero value accepts
// any message without TLS or authentication.
type Options struct {
	// TLSCertFile and TLSKeyFile (PEM) enable STARTTLS.
	TLSCertFile, TLSKeyFile string
	// RequireSTARTTLS refuses clients that do not start TLS.
	RequireSTARTTLS bool
	// Users, if set, turn on SMTP AUTH with these user names and
	// passwords (PLAIN, LOGIN, CRAM-MD5); nobody else may send.
	Users map[string]string
	// AllowedRecipients, if set, is a regular expression; other
	// recipients are refused with a 5xx answer.
	AllowedRecipients string
	// Chaos enables Mailpit's chaos triggers, set with SetChaos.
	Chaos bool
}

// Server is a running Mailpit. Its fields are read-only.
type Server struct {
	Host    string // 127.0.0.1
	SMTPort int    // the SMTP port
	API     string // http://127.0.0.1:PORT, the web UI and API

	log    *syncBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// SMTPAddr is host:port of the SMTP server.
func (s *Server) SMTPAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.SMTPort)) }

// errPortTaken means a port picked for Mailpit was taken before it bound.
var errPortTaken = errors.New("mailpittest: port already in use")

// Start runs Mailpit with o until the test ends, and returns once its API
// answers and its SMTP port accepts connections.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := Path()
	if err != nil {
		storetest.MissingPeer(t, "Mailpit %s: %v", Version, err)
	}
	dir := t.TempDir()
	args, err := o.args(dir)
	if err != nil {
		t.Fatalf("mailpittest: %v", err)
	}
	for attempt := 1; ; attempt++ {
		s, err := start(bin, args, dir)
		if err == nil {
			t.Cleanup(func() {
				s.kill()
				if t.Failed() {
					t.Logf("mailpit log (%s):\n%s", s.SMTPAddr(), s.Log())
				}
			})
			return s
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			t.Fatalf("mailpittest: %v", err)
		}
	}
}

func (o Options) args(dir string) ([]string, error) {
	args := []string{
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns",
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return nil, errors.New("TLSCertFile and TLSKeyFile go together")
	}
	if o.TLSCertFile != "" {
		args = append(args, "--smtp-tls-cert", o.TLSCertFile, "--smtp-tls-key", o.TLSKeyFile)
	}
	if o.RequireSTARTTLS {
		args = append(args, "--smtp-require-starttls")
	}
	if len(o.Users) > 0 {
		var b strings.Builder
		for user, pw := range o.Users {
			fmt.Fprintf(&b, "%s:%s\n", user, pw)
		}
		path := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--smtp-auth-file", path)
	}
	if o.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
	}
	if o.Chaos {
		args = append(args, "--enable-chaos")
	}
	return args, nil
}

// start runs Mailpit on fresh ports and waits until it answers.
func start(bin string, args []string, dir string) (*Server, error) {
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", SMTPort: smtpPort, API: "http://127.0.0.1:" + strconv.Itoa(httpPort),
		log: &syncBuffer{}, exited: make(chan struct{})}
	args = append(args, "--smtp", s.SMTPAddr(), "--listen", "127.0.0.1:"+strconv.Itoa(httpPort))
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		s.cmd.Wait() //nolint:errcheck // killed at cleanup; the log says why otherwise
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.kill()
		if strings.Contains(s.Log(), "address already in use") {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("%v\nmailpit log:\n%s", err, s.Log())
	}
	return s, nil
}

// waitReady polls the API's readiness and the SMTP port until both
// answer, Mailpit exits, or startTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.ready(client) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailpit did not answer on %s and %s within %v", s.API, s.SMTPAddr(), startTimeout)
		}
		select {
		case <-s.exited:
			return errors.New("mailpit exited while starting")
		case <-tick.C:
		}
	}
}

func (s *Server) ready(client *http.Client) bool {
	resp, err := client.Get(s.API + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", s.SMTPAddr(), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (s *Server) kill() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // already gone is fine
	<-s.exited
}

// Log returns what Mailpit has logged so far.
func (s *Server) Log() string { return s.log.String() }

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects Mailpit's output from its two pipes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
