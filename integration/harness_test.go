// Package integration drives the real binaries (ca, lockbox) as separate
// processes, with a real database (SQLite, and MySQL at 127.0.0.1:3306)
// and OpenSSH's tools. Missing peers skip, or fail when
// LOCKBOX_REQUIRE_INTEGRATION=1 (as CI sets).
//
// A test that owns all it starts (its processes on ports picked for it,
// its temporary directories, its own database) calls t.Parallel. A test
// stays serial, and so runs alone before the parallel ones, when it
// measures time against a short limit (a timeout, a lease, a certificate
// or a grant of a few seconds), makes or depends on load, restarts a
// process on the address it had (another test could take the port
// meanwhile), or drives Chromium.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

var bin string // directory holding the built binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lockbox-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	// Readable by every account: the gate runs on the target as the role's
	// login, which need not be root.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir, "../cmd/ca", "../cmd/lockbox", "../cmd/bastion", "../cmd/lockbox-gate")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ca is a running `ca serve` with its own data, policy and user keys.
type ca struct {
	t      *testing.T
	url    string
	dir    string // data dir
	policy string
	keys   string // user identity keys: keys/NAME
	cmd    *exec.Cmd
	driver string
	dsn    string
	log    *syncBuffer
	flags  []string // extra `ca serve` flags, kept for replicas
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// engines runs fn once per store engine.
func engines(t *testing.T, fn func(t *testing.T, driver string)) {
	for _, d := range []string{"sqlite", "mysql"} {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// startCA initialises and starts a CA on driver ("sqlite" or "mysql").
func startCA(t *testing.T, driver string) *ca {
	t.Helper()
	c := newCA(t, driver)
	c.writePolicy(nil)
	c.start()
	return c
}

// newCA makes the CA's keys and picks its database, without a policy.
func newCA(t *testing.T, driver string) *ca {
	t.Helper()
	return newCAOn(t, driver, "")
}

// newCAOn is newCA on the database dsn; "" picks one: a file in the data
// directory, or a fresh database on the shared MySQL server.
func newCAOn(t *testing.T, driver, dsn string) *ca {
	t.Helper()
	root := t.TempDir()
	c := &ca{t: t, dir: filepath.Join(root, "data"), policy: filepath.Join(root, "policy"), keys: filepath.Join(root, "keys"), driver: driver, dsn: dsn}
	run(t, filepath.Join(bin, "ca"), "init", "--data", c.dir)
	switch {
	case c.dsn != "":
	case driver == "sqlite":
		c.dsn = filepath.Join(c.dir, "lockbox.db")
	case driver == "mysql":
		c.dsn = storetest.MySQLDSN(t)
	}
	return c
}

// replica starts another CA process on the same keys, policy and database
// (MySQL), as a second replica would run.
func (c *ca) replica() *ca {
	r := *c
	r.start()
	return &r
}

func (c *ca) start(extra ...string) {
	if extra == nil {
		extra = c.flags
	}
	c.flags = extra
	t := c.t
	c.log = &syncBuffer{}
	args := append([]string{"serve", "--data", c.dir, "--policy", c.policy,
		"--listen", "127.0.0.1:0", "--sweep_interval", "1s", "--pending_timeout", "1h", "--metrics_listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(filepath.Join(bin, "ca"), args...)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER="+c.driver, "LOCKBOX_STORE_DSN="+c.dsn)
	cmd.Stderr = c.log
	c.cmd = cmd
	addr := startListening(t, cmd, "ca serve", c.log)
	c.url = "http://" + addr
}

var exampleKey = regexp.MustCompile(`"ssh-ed25519 [A-Za-z0-9+/=]+ ([a-z0-9-]+)@lockbox-example"`)

// writePolicy copies the example policy, giving every user (and the
// bastion) a fresh key whose private half is in c.keys, and passing each
// file through edit if given.
func (c *ca) writePolicy(edit func(name string, data []byte) []byte) {
	t := c.t
	for _, d := range []string{c.policy, c.keys} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob("../policy/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("example policy: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = exampleKey.ReplaceAllFunc(data, func(m []byte) []byte {
			name := string(exampleKey.FindSubmatch(m)[1])
			return []byte(`"` + strings.TrimSpace(newKeyFile(t, filepath.Join(c.keys, name))) + `"`)
		})
		if edit != nil {
			data = edit(filepath.Base(f), data)
		}
		if err := os.WriteFile(filepath.Join(c.policy, filepath.Base(f)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// newKeyFile writes an Ed25519 key to path (0600) and path.pub, and
// returns the public key line.
func newKeyFile(t *testing.T, path string) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	pub := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return pub
}

// result is what a finished command printed.
type result struct {
	stdout, stderr string
	code           int
}

// lockbox runs the CLI as user.
func (c *ca) lockbox(user string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lockbox"), args...)
	cmd.Env = append(os.Environ(), "LOCKBOX_CA="+c.url, "LOCKBOX_USER="+user,
		"LOCKBOX_IDENTITY="+filepath.Join(c.keys, user), "LOCKBOX_DIR="+filepath.Join(c.keys, user+"-grants"), "SSH_AUTH_SOCK=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

// ok runs the CLI and fails the test unless it succeeds.
func (c *ca) ok(user string, args ...string) string {
	c.t.Helper()
	r := c.lockbox(user, args...)
	if r.code != 0 {
		c.t.Fatalf("lockbox %s as %s: exit %d\n%s%s", strings.Join(args, " "), user, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// refused runs the CLI and fails the test unless it fails saying want.
func (c *ca) refused(want, user string, args ...string) {
	c.t.Helper()
	r := c.lockbox(user, args...)
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		c.t.Fatalf("lockbox %s as %s: exit %d, stderr %q; want a refusal with %q", strings.Join(args, " "), user, r.code, r.stderr, want)
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		storetest.MissingPeer(t, "%s (Debian package %s)", name, pkg)
	}
	return p
}

// startListening starts cmd, stops it (SIGINT, then waits; SIGKILL after
// 30 s) when the test ends, printing its log if the test failed, and returns the address from its first line of output,
// "listening on ADDR".
func startListening(tb testing.TB, cmd *exec.Cmd, what string, log *syncBuffer) string {
	tb.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() {
			cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		if tb.Failed() {
			tb.Logf("%s log:\n%s", what, log.String())
		}
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		tb.Fatalf("%s printed nothing; log:\n%s", what, log.String())
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	if !ok {
		tb.Fatalf("%s: %q", what, lines.Text())
	}
	return addr
}
