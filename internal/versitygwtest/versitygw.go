// Package versitygwtest runs a real S3 server for tests: versitygw
// (github.com/versity/versitygw) as a separate process on a random
// loopback port, serving a directory with its posix backend (a bucket is
// a directory in it).
//
// The binary is $LOCKBOX_VERSITYGW, else the one scripts/test.sh installs
// from the Go module proxy (DefaultPath), else versitygw on PATH. Missing,
// the test is skipped, or fails under LOCKBOX_REQUIRE_INTEGRATION=1.
package versitygwtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lockbox-ssh/lockbox/internal/peerbin"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// Version is the versitygw release scripts/test.sh installs.
const Version = "v1.8.0"

// The root account's keys and the region every Server uses.
const (
	AccessKey = "lockbox-test-access"
	SecretKey = "lockbox-test-secret-key-0123456789"
	Region    = "us-east-1"
)

// startTimeout bounds how long Start waits for versitygw to answer.
const startTimeout = 20 * time.Second

// bin is the versitygw binary scripts/test.sh installs.
var bin = peerbin.Installed{Name: "versitygw", Version: Version, Module: "github.com/versity/versitygw/cmd/versitygw", Env: "LOCKBOX_VERSITYGW"}

// DefaultPath is where scripts/test.sh installs versitygw:
// $XDG_CACHE_HOME/lockbox/versitygw-VERSION/versitygw (~/.cache by default).
func DefaultPath() string { return bin.DefaultPath() }

// Path finds the versitygw binary: $LOCKBOX_VERSITYGW, DefaultPath, or PATH.
func Path() (string, error) { return bin.Path() }

// Options configure the versitygw that Start runs.
type Options struct {
	// Dir is the directory served; a fresh temporary one if empty.
	Dir string
	// ReadOnly makes the gateway refuse every write.
	ReadOnly bool
}

// Server is a running versitygw. Its fields are read-only.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Dir  string // the directory served

	t      testing.TB
	bin    string
	mu     sync.Mutex
	log    *syncBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return "http://" + s.Addr }

// Start runs versitygw until the test ends and returns once it answers.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := Path()
	if err != nil {
		storetest.MissingPeer(t, "versitygw %s: %v", Version, err)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	s := &Server{Dir: o.Dir, t: t, bin: bin, log: &syncBuffer{}}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.start(o.ReadOnly)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			t.Fatalf("versitygwtest: %v", err)
		}
	}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("versitygw log (%s):\n%s", s.Addr, s.Log())
		}
	})
	return s
}

// Stop kills the server (SIGKILL: no chance to finish what it was doing).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.kill()
}

// Pause stops the server's process (SIGSTOP): it holds its connections
// but answers nothing, as a hung store would. Resume continues it.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGSTOP)
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGCONT)
}

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		t.Fatalf("versitygwtest: %v: %v", sig, err)
	}
}

// Restart starts the server again on the same address and directory,
// read-only or not.
func (s *Server) Restart(t testing.TB, readOnly bool) {
	t.Helper()
	s.kill()
	if err := s.start(readOnly); err != nil {
		t.Fatalf("versitygwtest: restarting: %v", err)
	}
}

// MakeBucket creates a bucket.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client(t).MakeBucket(ctx, name, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatalf("versitygwtest: making bucket %s: %v", name, err)
	}
}

// Client is an S3 client of the server with the root account's keys.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""),
		Region: Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatalf("versitygwtest: %v", err)
	}
	return c
}

var errPortTaken = errors.New("versitygwtest: port already in use")

func (s *Server) start(readOnly bool) error {
	args := []string{"--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", s.Addr, "--health", "/health"}
	if readOnly {
		args = append(args, "--readonly")
	}
	args = append(args, "posix", s.Dir)
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait() //nolint:errcheck // killed by the test; the log says why otherwise
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := s.waitReady(exited); err != nil {
		s.kill()
		if strings.Contains(s.Log(), "address already in use") {
			return errPortTaken
		}
		return fmt.Errorf("%v\nversitygw log:\n%s", err, s.Log())
	}
	return nil
}

func (s *Server) waitReady(exited chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(s.Endpoint() + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not answer on %s within %v", s.Addr, startTimeout)
		}
		select {
		case <-exited:
			return errors.New("versitygw exited while starting")
		case <-tick.C:
		}
	}
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // already gone is fine
	<-exited
}

// Log returns what versitygw has logged so far.
func (s *Server) Log() string { return s.log.String() }

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

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
