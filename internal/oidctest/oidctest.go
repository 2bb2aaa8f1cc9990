// Package oidctest runs the test OpenID Connect provider (./provider, on
// zitadel/oidc's op package) as a separate process on loopback, for tests
// of single sign-on through a real provider.
package oidctest

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// User is one of the provider's static users. MFA makes their sign-ins
// carry amr ["pwd", "mfa", "otp"]; otherwise amr is ["pwd"].
type User struct {
	Name, Password string
	MFA            bool
	Groups         []string
}

// Options configure the provider's one client and its users.
type Options struct {
	ClientID, ClientSecret string
	RedirectURL            string
	Users                  []User
}

// Provider is a running provider.
type Provider struct {
	Issuer string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildLog  []byte
)

// build compiles the provider once per test binary.
func build() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lockbox-oidctest-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "provider")
		cmd := exec.Command("go", "build", "-o", binary, "github.com/lockbox-ssh/lockbox/internal/oidctest/provider")
		buildLog, buildErr = cmd.CombinedOutput()
	})
	return binary, buildErr
}

// Start builds and starts the provider; it stops when the test ends.
func Start(t testing.TB, o Options) *Provider {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatalf("oidctest: building the provider: %v\n%s", err, buildLog)
	}
	if o.ClientID == "" {
		o.ClientID = "lockbox"
	}
	args := []string{"-client-id", o.ClientID, "-client-secret", o.ClientSecret, "-redirect", o.RedirectURL}
	for _, u := range o.Users {
		amr := ""
		if u.MFA {
			amr = "mfa"
		}
		args = append(args, "-user", u.Name+":"+u.Password+":"+amr+":"+strings.Join(u.Groups, ","))
	}
	cmd := exec.Command(bin, args...)
	var log strings.Builder
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return log.Write(p) })
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("oidctest: starting the provider: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("identity provider log:\n%s", log.String())
			mu.Unlock()
		}
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("oidctest: the provider printed nothing")
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	if !ok {
		t.Fatalf("oidctest: the provider said %q", lines.Text())
	}
	go func() {
		for lines.Scan() {
		}
	}()
	return &Provider{Issuer: "http://" + addr, cmd: cmd}
}

// Control changes the next ID tokens: audience ("" for the client's
// ID) and lifetime (negative: issued expired).
func (p *Provider) Control(t testing.TB, audience string, lifetime time.Duration) {
	t.Helper()
	res, err := http.PostForm(p.Issuer+"/control", url.Values{"audience": {audience}, "id_token_lifetime": {lifetime.String()}})
	if err != nil {
		t.Fatalf("oidctest: control: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("oidctest: control: %s", res.Status)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
