package integration

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The benchmarks build their own world: the harness's takes a *testing.T,
// and they need a policy of their own (hundreds of users, an interactive
// role approved automatically) and a bastion with production settings.

// benchRole is the benchmarks' role: a shell or any command, approved at
// once, so that setting up hundreds of sessions needs no approvers.
const benchRole = "bench"

// benchCA is a `ca serve` on SQLite with a generated policy.
type benchCA struct {
	tb     testing.TB
	dir    string // data: CA keys and the database
	policy string
	url    string
	log    *syncBuffer
	users  []*benchUser
}

// benchUser is a generated policy user: its API key, and once prepared,
// its TOTP secret, its grant and a certificate for a fresh key.
type benchUser struct {
	name    string
	key     ssh.Signer // registered in the policy; signs API calls
	api     *client.Client
	secret  []byte // TOTP
	request string
	grant   ssh.Signer // the grant certificate with its key
	priv    ed25519.PrivateKey
	cert    *ssh.Certificate
	// keyFile and certFile hold the grant key and certificate for the
	// stock ssh client (written by writeFiles).
	keyFile, certFile string
}

// initBenchCA makes the CA keys. Start targets (they need the hop CA) and
// then call start.
func initBenchCA(tb testing.TB) *benchCA {
	tb.Helper()
	root := tb.TempDir()
	c := &benchCA{tb: tb, dir: filepath.Join(root, "data"), policy: filepath.Join(root, "policy")}
	run(tb, filepath.Join(bin, "ca"), "init", "--data", c.dir)
	return c
}

func (c *benchCA) publicKey(name string) ssh.PublicKey { return caPublicKey(c.tb, c.dir, name) }

// hostCert certifies key with the host CA for names.
func (c *benchCA) hostCert(key ssh.PublicKey, names ...string) *ssh.Certificate {
	return signHostKey(c.tb, c.dir, key, names...)
}

// benchPolicy is what writePolicy writes.
type benchPolicy struct {
	users      int
	resources  map[string]string // name -> address
	login      string            // the role's account on the targets
	bastionKey string            // authorized_keys line of bastion-1's identity
	auditors   int               // the last this many users are auditors
}

// writePolicy writes a policy with p.users users (bench-0000, ...), all
// members of one team eligible for the bench role on every resource.
func (c *benchCA) writePolicy(p benchPolicy) {
	tb := c.tb
	if err := os.MkdirAll(c.policy, 0o700); err != nil {
		tb.Fatal(err)
	}
	var people, members strings.Builder
	people.WriteString("users:\n")
	for i := range p.users {
		u := &benchUser{name: fmt.Sprintf("bench-%04d", i), key: signer(tb)}
		c.users = append(c.users, u)
		fmt.Fprintf(&people, "  - name: %s\n    keys: [%q]\n", u.name, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(u.key.PublicKey()))))
		if i >= p.users-p.auditors {
			people.WriteString("    groups: [auditors]\n")
		}
		fmt.Fprintf(&members, "%s, ", u.name)
	}
	names := make([]string, 0, len(p.resources))
	for name := range p.resources {
		names = append(names, name)
	}
	sort.Strings(names)
	var resources strings.Builder
	resources.WriteString("resources:\n")
	for _, name := range names {
		fmt.Fprintf(&resources, "  - name: %s\n    address: %s\n    tags: [bench]\n", name, p.resources[name])
	}
	files := map[string]string{
		"people.yaml":    people.String(),
		"resources.yaml": resources.String(),
		"bastions.yaml":  fmt.Sprintf("bastions:\n  - name: bastion-1\n    keys: [%q]\n    egress: [\"127.0.0.1/32\"]\n", p.bastionKey),
		"roles.yaml": fmt.Sprintf("roles:\n  - name: %s\n    login: %s\n    interactive: true\n    max_duration: 4h\n"+
			"    approval:\n      auto: true\n", benchRole, p.login),
		"teams.yaml": fmt.Sprintf("teams:\n  - name: bench\n    members: [%s]\n    managers: []\n    eligible:\n"+
			"      - roles: [%s]\n        resources: [\"tag:bench\"]\n", strings.TrimSuffix(members.String(), ", "), benchRole),
	}
	if p.auditors > 0 {
		files["people.yaml"] += "groups:\n  - name: auditors\n"
		files["settings.yaml"] = "settings:\n  auditors: [auditors]\n"
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.policy, name), []byte(data), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// start runs `ca serve` until the benchmark ends.
func (c *benchCA) start() {
	tb := c.tb
	c.log = &syncBuffer{}
	cmd := exec.Command(filepath.Join(bin, "ca"), "serve", "--data", c.dir, "--policy", c.policy, "--listen", "127.0.0.1:0", "--metrics_listen", "off")
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER=sqlite", "LOCKBOX_STORE_DSN="+filepath.Join(c.dir, "lockbox.db"))
	cmd.Stderr = c.log
	addr := startListening(tb, cmd, "ca serve", c.log)
	c.url = "http://" + addr
	for _, u := range c.users {
		cl, err := client.New(c.url, &apiauth.Signer{Principal: "user:" + u.name, Key: u.key}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		u.api = cl
	}
}

// prepare enrolls u in TOTP, has it request the bench role on resource
// (approved at once) and fetches a grant certificate for a fresh key.
func (u *benchUser) prepare(ctx context.Context, resource string) error {
	uri, err := u.api.EnrollMFA(ctx, "")
	if err != nil {
		return fmt.Errorf("%s: enrolling: %w", u.name, err)
	}
	parsed, err := url.Parse(uri)
	if err != nil {
		return err
	}
	if u.secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(parsed.Query().Get("secret")); err != nil {
		return err
	}
	req, err := u.api.Submit(ctx, wire.SubmitRequest{Role: benchRole, Resources: []string{resource}, Duration: "4h", Reason: "benchmark"})
	if err != nil {
		return fmt.Errorf("%s: requesting: %w", u.name, err)
	}
	if req.State != "approved" {
		return fmt.Errorf("%s: request %s is %s, not approved", u.name, req.ID, req.State)
	}
	u.request = req.ID
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	c, err := u.api.Certificate(ctx, req.ID, string(ssh.MarshalAuthorizedKey(key.PublicKey())))
	if err != nil {
		return fmt.Errorf("%s: certificate: %w", u.name, err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.Certificate))
	if err != nil {
		return err
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return fmt.Errorf("%s: the CA sent no certificate", u.name)
	}
	if u.grant, err = ssh.NewCertSigner(cert, key); err != nil {
		return err
	}
	u.priv, u.cert = priv, cert
	return nil
}

// writeFiles writes u's grant key and certificate for the stock ssh client.
func (u *benchUser) writeFiles(tb testing.TB) {
	tb.Helper()
	block, err := ssh.MarshalPrivateKey(u.priv, u.name)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	u.keyFile, u.certFile = filepath.Join(dir, "grant"), filepath.Join(dir, "grant-cert.pub")
	if err := os.WriteFile(u.keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(u.certFile, ssh.MarshalAuthorizedKey(u.cert), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// code is u's TOTP code for now.
func (u *benchUser) code() string { return totp.Code(u.secret, totp.Step(time.Now())) }

// prepareUsers prepares users with workers in parallel.
func prepareUsers(tb testing.TB, users []*benchUser, resource string, workers int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jobs := make(chan *benchUser)
	errs := make(chan error, len(users))
	for range workers {
		go func() {
			for u := range jobs {
				errs <- u.prepare(ctx, resource)
			}
		}()
	}
	for _, u := range users {
		jobs <- u
	}
	close(jobs)
	for range users {
		if err := <-errs; err != nil {
			tb.Fatal(err)
		}
	}
}

// benchBastion is a running `bastion serve` registered as bastion-1.
type benchBastion struct {
	dir        string
	addr, port string
	pid        int
	identity   ssh.Signer // signs API calls as bastion:bastion-1
	// knownHosts trusts the host CA for the bastion's address.
	knownHosts string
	log        *syncBuffer
}

// initBenchBastion makes the bastion's keys (bastion init) and certifies
// its host key; register b.identity in the policy, then call start.
func initBenchBastion(tb testing.TB, c *benchCA) *benchBastion {
	tb.Helper()
	b := &benchBastion{dir: filepath.Join(tb.TempDir(), "bastion")}
	run(tb, filepath.Join(bin, "bastion"), "init", "--data", b.dir)
	var err error
	if b.identity, err = sshcert.LoadSigner(filepath.Join(b.dir, "identity")); err != nil {
		tb.Fatal(err)
	}
	host, err := sshcert.LoadSigner(filepath.Join(b.dir, "host_key"))
	if err != nil {
		tb.Fatal(err)
	}
	cert := c.hostCert(host.PublicKey(), "127.0.0.1", "localhost")
	if err := os.WriteFile(filepath.Join(b.dir, "host_key-cert.pub"), ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		tb.Fatal(err)
	}
	return b
}

// start runs the bastion with production defaults (heartbeat 2s, flush
// 1s) and extra flags.
func (b *benchBastion) start(tb testing.TB, c *benchCA, flags ...string) {
	tb.Helper()
	b.log = &syncBuffer{}
	args := append([]string{"serve", "--data", b.dir, "--ca", c.url, "--name", "bastion-1", "--listen", "127.0.0.1:0", "--metrics_listen", "off"}, flags...)
	cmd := exec.Command(filepath.Join(bin, "bastion"), args...)
	cmd.Stderr = b.log
	b.addr = startListening(tb, cmd, "bastion serve", b.log)
	b.pid = cmd.Process.Pid
	_, b.port, _ = strings.Cut(b.addr, ":")
	b.knownHosts = filepath.Join(b.dir, "known_hosts")
	line := fmt.Sprintf("@cert-authority [127.0.0.1]:%s %s", b.port, ssh.MarshalAuthorizedKey(c.publicKey("host_ca")))
	if err := os.WriteFile(b.knownHosts, []byte(line), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// currentLogin is the account running the benchmarks; stock sshd can
// only log in as it unless the benchmarks run as root.
func currentLogin(tb testing.TB) string {
	me, err := user.Current()
	if err != nil {
		tb.Fatal(err)
	}
	return me.Username
}
