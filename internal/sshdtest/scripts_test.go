package sshdtest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

var (
	setupTarget = filepath.Join("..", "..", "scripts", "setup-target.sh")
	refreshKRL  = filepath.Join("..", "..", "scripts", "refresh-krl.sh")
)

// fakeCA serves GET /v1/ca and GET /v1/krl as the Lockbox CA does.
type fakeCA struct {
	URL string

	mu      sync.Mutex
	keys    wire.CAKeys
	krl     []byte
	krlCode int
}

func newFakeCA(t *testing.T, userCA, hopCA ssh.PublicKey) *fakeCA {
	t.Helper()
	f := &fakeCA{krl: sshcert.MarshalKRL(1, time.Now(), "lockbox", nil), krlCode: http.StatusOK}
	f.keys = wire.CAKeys{UserCA: string(ssh.MarshalAuthorizedKey(userCA)), HopCA: string(ssh.MarshalAuthorizedKey(hopCA))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ca", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		enc := json.NewEncoder(w) // as pkg/api writes it
		enc.SetIndent("", "  ")
		enc.Encode(f.keys) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /v1/krl", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.WriteHeader(f.krlCode)
		w.Write(f.krl) //nolint:errcheck // the client went away
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// setKeys makes the CA answer GET /v1/ca with keys.
func (f *fakeCA) setKeys(keys wire.CAKeys) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = keys
}

// setKRL makes the CA answer GET /v1/krl with status code and body.
func (f *fakeCA) setKRL(code int, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.krlCode, f.krl = code, body
}

func TestSetupTargetScriptTrustsOnlyTheHopCA(t *testing.T) {
	requireScriptTools(t)
	userCA, hopCA := newCA(t), newCA(t)
	ca := newFakeCA(t, userCA.PublicKey(), hopCA.PublicKey())
	login := currentLogin(t)
	prefix := filepath.Join(t.TempDir(), "lockbox")
	bin := t.TempDir()
	gate := buildGate(t)

	out, stderr, code := run(t, exec.Command("bash", setupTarget, "--ca", ca.URL, "--resource", "db-1",
		"--login", login+"=reader,admin", "--login", "nobody-here=reader",
		"--prefix", prefix, "--gate", gate, "--bin-dir", bin, "--no-reload"))
	if code != 0 {
		t.Fatalf("setup-target.sh exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}

	wantConfig := strings.Join([]string{
		"TrustedUserCAKeys " + prefix + "/hop_ca.pub",
		"AuthorizedPrincipalsFile " + prefix + "/principals/%u",
		"RevokedKeys " + prefix + "/revoked.krl",
		"AuthorizedKeysFile none",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"AllowTcpForwarding no",
		"AllowStreamLocalForwarding no",
		"X11Forwarding no",
		"AllowAgentForwarding no",
		"PermitTunnel no",
	}, "\n") + "\n"
	if got := withoutComments(readFile(t, prefix+"/sshd_config")); got != wantConfig {
		t.Errorf("sshd_config drop-in:\n%s\nwant:\n%s", got, wantConfig)
	}
	if got, want := readFile(t, prefix+"/hop_ca.pub"), string(ssh.MarshalAuthorizedKey(hopCA.PublicKey())); got != want {
		t.Errorf("hop_ca.pub = %q, want the hop CA only, %q", got, want)
	}
	if got := readFile(t, prefix+"/principals/"+login); got != "admin@db-1\nreader@db-1\n" {
		t.Errorf("principals/%s = %q", login, got)
	}
	checkMode(t, prefix+"/principals/"+login, 0o644)
	checkMode(t, bin+"/lockbox-gate", 0o755)
	if !strings.Contains(out, "* * * * * root ") || !strings.Contains(out, "refresh-krl.sh --ca "+ca.URL) {
		t.Errorf("stdout does not show the crontab line for refresh-krl.sh:\n%s", out)
	}

	// sshd with the drop-in included, as Debian's sshd_config includes
	// sshd_config.d/*.conf first.
	srv := sshdtest.Start(t, sshdtest.Options{Extra: []string{"Include " + prefix + "/sshd_config"}})
	hop, hopSerial := issue(t, hopCA, nil)
	if got, stderr, code := run(t, srv.SSH(t, hop, login, "echo", "in")); code != 0 || got != "in\n" {
		t.Fatalf("hop certificate: exit %d, stdout %q, stderr:\n%s", code, got, stderr)
	}
	own, _ := issue(t, userCA, nil)
	if _, stderr, code := run(t, srv.SSH(t, own, login, "true")); code != 255 {
		t.Fatalf("an engineer's own (user CA) certificate got in: exit %d, stderr:\n%s", code, stderr)
	}

	// The gate installed by --gate runs as the certificate's force-command.
	gated, _ := issue(t, hopCA, func(s *sshcert.UserSpec) { s.ForceCommand = bin + "/lockbox-gate -- 'echo *'" })
	if got, stderr, code := run(t, srv.SSH(t, gated, login, "echo gated")); code != 0 || got != "gated\n" {
		t.Fatalf("gate allowed command: exit %d, stdout %q, stderr:\n%s", code, got, stderr)
	}
	if _, stderr, code := run(t, srv.SSH(t, gated, login, "id")); code != 1 || !strings.Contains(stderr, "command not allowed for this role: id") {
		t.Fatalf("gate refused command: exit %d, stderr:\n%s", code, stderr)
	}

	// Revoking at the CA and refreshing the KRL shuts the hop certificate out.
	ca.setKRL(http.StatusOK, sshcert.MarshalKRL(2, time.Now(), "lockbox",
		[]sshcert.KRLSection{{CA: hopCA.PublicKey(), Serials: []uint64{hopSerial}}}))
	if out, stderr, code := run(t, exec.Command("bash", refreshKRL, "--ca", ca.URL, "--prefix", prefix)); code != 0 {
		t.Fatalf("refresh-krl.sh exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := run(t, srv.SSH(t, hop, login, "true")); code != 255 {
		t.Fatalf("revoked hop certificate: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestSetupTargetScriptRemovesLoginsNoLongerGiven(t *testing.T) {
	requireScriptTools(t)
	ca := newFakeCA(t, newCA(t).PublicKey(), newCA(t).PublicKey())
	prefix := t.TempDir()
	setup := func(logins ...string) {
		args := []string{setupTarget, "--ca", ca.URL, "--resource", "db-1", "--prefix", prefix, "--no-reload"}
		for _, l := range logins {
			args = append(args, "--login", l)
		}
		if out, stderr, code := run(t, exec.Command("bash", args...)); code != 0 {
			t.Fatalf("setup-target.sh %v: exit %d\n%s%s", logins, code, out, stderr)
		}
	}
	setup("alice=reader", "postgres=dba")
	setup("postgres=dba,reader")
	if _, err := os.Stat(prefix + "/principals/alice"); !os.IsNotExist(err) {
		t.Errorf("principals/alice still there after its --login was dropped (err %v)", err)
	}
	if got := readFile(t, prefix+"/principals/postgres"); got != "dba@db-1\nreader@db-1\n" {
		t.Errorf("principals/postgres = %q", got)
	}
}

func TestSetupTargetScriptRefuses(t *testing.T) {
	requireScriptTools(t)
	userCA, hopCA := newCA(t), newCA(t)
	tests := []struct {
		name     string
		keys     *wire.CAKeys // nil: a good CA
		krl      []byte       // nil: a good KRL
		args     []string     // after --ca URL --prefix DIR --no-reload
		wantCode int
		wantErr  string
	}{
		{name: "missing resource", args: []string{"--login", "root=reader"}, wantCode: 1, wantErr: "--resource NAME is required"},
		{name: "unknown flag", args: []string{"--resource", "db-1", "--bogus"}, wantCode: 2, wantErr: "unknown argument: --bogus"},
		{name: "wildcard in a role", args: []string{"--resource", "db-1", "--login", "root=*"}, wantCode: 1, wantErr: "invalid role name"},
		{name: "comma in the resource", args: []string{"--resource", "db-1,db-2"}, wantCode: 1, wantErr: "invalid resource name"},
		{name: "login without roles", args: []string{"--resource", "db-1", "--login", "root"}, wantCode: 1, wantErr: "--login wants LOGIN=ROLE"},
		{name: "hop CA equal to the user CA", keys: &wire.CAKeys{UserCA: authorizedKey(userCA), HopCA: authorizedKey(userCA)},
			args: []string{"--resource", "db-1"}, wantCode: 1, wantErr: "hop_ca is the user CA key"},
		{name: "no hop CA", keys: &wire.CAKeys{UserCA: authorizedKey(userCA)},
			args: []string{"--resource", "db-1"}, wantCode: 1, wantErr: "has no hop_ca"},
		{name: "hop CA not a key", keys: &wire.CAKeys{UserCA: authorizedKey(userCA), HopCA: "ssh-ed25519 AAAAnotakey\n"},
			args: []string{"--resource", "db-1"}, wantCode: 1, wantErr: "hop_ca is not a valid public key"},
		{name: "garbage KRL", krl: []byte("<html>busy</html>"),
			args: []string{"--resource", "db-1"}, wantCode: 1, wantErr: "could not install the KRL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newFakeCA(t, userCA.PublicKey(), hopCA.PublicKey())
			if tt.keys != nil {
				ca.setKeys(*tt.keys)
			}
			if tt.krl != nil {
				ca.setKRL(http.StatusOK, tt.krl)
			}
			prefix := t.TempDir()
			args := append([]string{setupTarget, "--ca", ca.URL, "--prefix", prefix, "--no-reload"}, tt.args...)
			_, stderr, code := run(t, exec.Command("bash", args...))
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if _, err := os.Stat(prefix + "/sshd_config"); !os.IsNotExist(err) {
				t.Errorf("the sshd drop-in was written although setup failed (err %v)", err)
			}
		})
	}
}

func TestRefreshKRLKeepsTheOldListOnBadAnswers(t *testing.T) {
	requireScriptTools(t)
	hopCA := newCA(t)
	good := sshcert.MarshalKRL(7, time.Now(), "lockbox", []sshcert.KRLSection{{CA: hopCA.PublicKey(), Serials: []uint64{42}}})
	tests := []struct {
		name    string
		code    int
		body    []byte
		wantErr string
	}{
		{name: "garbage", code: http.StatusOK, body: []byte("<html>not a KRL</html>"), wantErr: "did not return an OpenSSH KRL"},
		{name: "empty body", code: http.StatusOK, body: nil, wantErr: "returned nothing"},
		{name: "server error", code: http.StatusServiceUnavailable, body: good, wantErr: "fetching"},
		{name: "truncated KRL", code: http.StatusOK, body: good[:len(good)-5], wantErr: "ssh-keygen cannot read the KRL"},
		{name: "magic then garbage", code: http.StatusOK, body: []byte("SSHKRL\n\x00garbage"), wantErr: "ssh-keygen cannot read the KRL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newFakeCA(t, newCA(t).PublicKey(), hopCA.PublicKey())
			ca.setKRL(tt.code, tt.body)
			prefix := t.TempDir()
			writeFile(t, prefix+"/revoked.krl", string(good))
			writeFile(t, prefix+"/hop_ca.pub", string(ssh.MarshalAuthorizedKey(hopCA.PublicKey())))

			_, stderr, code := run(t, exec.Command("bash", refreshKRL, "--ca", ca.URL, "--prefix", prefix))
			if code == 0 || !strings.Contains(stderr, tt.wantErr) || !strings.Contains(stderr, "keeping the old") {
				t.Errorf("exit %d, stderr %q; want failure with %q and keeping the old KRL", code, stderr, tt.wantErr)
			}
			if got := readFile(t, prefix+"/revoked.krl"); got != string(good) {
				t.Error("revoked.krl changed")
			}
			if left, _ := filepath.Glob(prefix + "/.revoked.krl.*"); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}

	t.Run("a good list replaces the old one", func(t *testing.T) {
		ca := newFakeCA(t, newCA(t).PublicKey(), hopCA.PublicKey())
		ca.setKRL(http.StatusOK, good)
		prefix := t.TempDir()
		writeFile(t, prefix+"/revoked.krl", "old")
		if out, stderr, code := run(t, exec.Command("bash", refreshKRL, "--ca", ca.URL, "--prefix", prefix)); code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, stderr)
		}
		if !bytes.Equal([]byte(readFile(t, prefix+"/revoked.krl")), good) {
			t.Error("revoked.krl is not the CA's list")
		}
		checkMode(t, prefix+"/revoked.krl", 0o644)
	})
}

// requireScriptTools skips (or fails, when integration is required) unless
// the scripts' tools are installed.
func requireScriptTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			storetest.MissingPeer(t, "%s: %v", tool, err)
		}
	}
}

// buildGate compiles cmd/lockbox-gate into a temporary directory.
func buildGate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lockbox-gate")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/lockbox-ssh/lockbox/cmd/lockbox-gate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func authorizedKey(s ssh.Signer) string { return string(ssh.MarshalAuthorizedKey(s.PublicKey())) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s mode = %o, want %o", path, got, want)
	}
}

// withoutComments drops the comment lines of an sshd_config.
func withoutComments(config string) string {
	var kept []string
	for _, line := range strings.SplitAfter(config, "\n") {
		if !strings.HasPrefix(line, "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}
