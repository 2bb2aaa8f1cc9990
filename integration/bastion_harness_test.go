package integration

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/totp"
)

// world is a CA, a target running stock sshd, and bastions in front of it.
type world struct {
	t      *testing.T
	ca     *ca
	target *sshdtest.Server
	// targetKey is the target's host key, certified by the host CA.
	targetKey ssh.Signer
	login     string // the account sessions land in on the target
	dir       string
	mfa       map[string][]byte // TOTP secrets by user
	mu        sync.Mutex
}

type worldOptions struct {
	driver string
	// editPolicy changes policy files after the world's own changes.
	editPolicy func(name string, data []byte) []byte
	caFlags    []string
	// login is the account every role logs in to on the target; default
	// the account running the tests.
	login string
	// hopTrust, if set, is the target's TrustedUserCAKeys file instead of
	// one sshdtest writes: newWorld puts the hop CA key there, and a
	// test may replace it (refresh-krl.sh does).
	hopTrust string
}

func signer(t testing.TB) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s
}

// hostCert certifies key with the CA's host CA for names.
func (c *ca) hostCert(key ssh.PublicKey, names ...string) *ssh.Certificate {
	return signHostKey(c.t, c.dir, key, names...)
}

func (c *ca) publicKey(name string) ssh.PublicKey { return caPublicKey(c.t, c.dir, name) }

// signHostKey certifies key with the host CA in the CA data directory dir.
func signHostKey(tb testing.TB, dir string, key ssh.PublicKey, names ...string) *ssh.Certificate {
	tb.Helper()
	hostCA, err := sshcert.LoadSigner(filepath.Join(dir, "host_ca"))
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := sshcert.NewSerial(rand.Reader)
	cert, err := sshcert.HostCertificate(key, sshcert.HostSpec{Serial: serial, KeyID: "test/" + names[0], Hostnames: names,
		ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := sshcert.Sign(cert, hostCA, rand.Reader); err != nil {
		tb.Fatal(err)
	}
	return cert
}

// caPublicKey reads NAME.pub from the CA data directory dir.
func caPublicKey(tb testing.TB, dir, name string) ssh.PublicKey {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name+".pub"))
	if err != nil {
		tb.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

var loginLine = regexp.MustCompile(`(?m)^(\s+login:) \S+$`)

// newWorld starts a target sshd for db-1 that trusts the hop CA, a CA
// whose policy points db-1 at it (every role logging in as the account
// running the tests), and returns the world; start bastions with
// w.bastion.
func newWorld(t *testing.T, o worldOptions) *world {
	needTool(t, "ssh", "openssh-client")
	if o.driver == "" {
		o.driver = "sqlite"
	}
	login := o.login
	if login == "" {
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		login = me.Username
	}
	w := &world{t: t, login: login, dir: t.TempDir(), mfa: map[string][]byte{}}
	w.ca = newCA(t, o.driver)
	hostKey := signer(t)
	principals := []string{"admin@db-1", "reader@db-1", "health@db-1"}
	targetOptions := sshdtest.Options{
		TrustedUserCAKeys: []ssh.PublicKey{w.ca.publicKey("hop_ca")},
		Principals:        map[string][]string{login: principals},
		HostKey:           hostKey,
		HostCertificate:   w.ca.hostCert(hostKey.PublicKey(), "db-1"),
	}
	if o.hopTrust != "" {
		if err := os.WriteFile(o.hopTrust, ssh.MarshalAuthorizedKey(w.ca.publicKey("hop_ca")), 0o644); err != nil {
			t.Fatal(err)
		}
		targetOptions.TrustedUserCAKeys = nil
		targetOptions.Extra = []string{"TrustedUserCAKeys " + o.hopTrust}
	}
	w.target = sshdtest.Start(t, targetOptions)
	w.targetKey = hostKey
	w.ca.writePolicy(func(name string, data []byte) []byte {
		switch name {
		case "resources.yaml":
			data = bytes.Replace(data, []byte("address: 127.0.0.1:2201"), []byte("address: "+w.target.Addr), 1)
		case "roles.yaml":
			data = loginLine.ReplaceAll(data, []byte("$1 "+login))
		}
		if o.editPolicy != nil {
			data = o.editPolicy(name, data)
		}
		return data
	})
	w.ca.start(o.caFlags...)
	return w
}

// bastionProc is a running `bastion serve`.
type bastionProc struct {
	t    *testing.T
	addr string
	dir  string
	cmd  *exec.Cmd
	log  *syncBuffer
	args []string
	ca   *ca
	// knownHosts trusts the host CA for this bastion's address.
	knownHosts string
}

// bastion starts a bastion in front of the world's CA (or ca, if given).
func (w *world) bastion(c *ca, flags ...string) *bastionProc {
	t := w.t
	if c == nil {
		c = w.ca
	}
	dir := filepath.Join(t.TempDir(), "bastion")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"", ".pub"} { // the identity registered in the policy as bastion-1
		data, err := os.ReadFile(filepath.Join(c.keys, "bastion-1") + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "identity"+f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hostKeyPath := filepath.Join(dir, "host_key")
	newKeyFile(t, hostKeyPath)
	host, err := sshcert.LoadSigner(hostKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	cert := c.hostCert(host.PublicKey(), "127.0.0.1", "localhost")
	if err := os.WriteFile(hostKeyPath+"-cert.pub", ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &bastionProc{t: t, dir: dir, ca: c, args: append([]string{"serve", "--data", dir, "--ca", c.url, "--name", "bastion-1",
		"--listen", "127.0.0.1:0", "--heartbeat_interval", "500ms", "--flush_every", "200ms", "--metrics_listen", "127.0.0.1:0"}, flags...)}
	b.start()
	return b
}

func (b *bastionProc) start(wrap ...string) {
	t := b.t
	b.log = &syncBuffer{}
	argv := append(append([]string{}, wrap...), filepath.Join(bin, "bastion"))
	argv = append(argv, b.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = b.log
	b.cmd = cmd
	addr := startListening(t, cmd, "bastion serve", b.log)
	if b.addr != "" && b.addr != addr {
		t.Fatalf("restarted bastion moved from %s to %s", b.addr, addr)
	}
	b.addr = addr
	b.knownHosts = filepath.Join(b.dir, "known_hosts")
	_, port, _ := strings.Cut(addr, ":")
	line := fmt.Sprintf("@cert-authority [127.0.0.1]:%s %s", port, ssh.MarshalAuthorizedKey(b.ca.publicKey("host_ca")))
	if err := os.WriteFile(b.knownHosts, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kill stops the bastion with SIGKILL.
func (b *bastionProc) kill() {
	b.cmd.Process.Signal(syscall.SIGKILL)
	b.cmd.Wait()
}

// restart starts the bastion again on the same address and data.
func (b *bastionProc) restart() { b.restartWrapped() }

// restartWrapped restarts it under a wrapper command (e.g. sh -c 'ulimit
// ...; exec "$0" "$@"').
func (b *bastionProc) restartWrapped(wrap ...string) {
	for i, a := range b.args {
		if a == "127.0.0.1:0" && i > 0 && b.args[i-1] == "--listen" {
			b.args[i] = b.addr
		}
	}
	b.start(wrap...)
}

// enroll enrolls user in TOTP and keeps the secret.
func (w *world) enroll(who string) {
	w.t.Helper()
	uri := strings.TrimSpace(w.ca.ok(who, "mfa", "enroll"))
	u, err := url.Parse(uri)
	if err != nil {
		w.t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.mu.Lock()
	w.mfa[who] = secret
	w.mu.Unlock()
}

// code returns who's TOTP code for the current step plus offset.
func (w *world) code(who string, offset int64) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return totp.Code(w.mfa[who], totp.Step(time.Now())+offset)
}

// grant has who request role on db-1 (approving it as needed), fetches a
// certificate into a fresh key, and returns the request ID and key path.
func (w *world) grant(who, role, duration string) (string, string) {
	w.t.Helper()
	args := []string{"request", "--role", role, "--resource", "db-1", "--duration", duration, "--reason", "integration test"}
	if role == "admin" {
		args = append(args, "--ticket", "INC-1")
	}
	id := strings.TrimSpace(w.ca.ok(who, args...))
	switch role {
	case "admin":
		w.ca.ok("carol", "approve", id)
		w.ca.ok("frank", "approve", id)
	case "reader":
		w.ca.ok("carol", "approve", id)
	}
	key := filepath.Join(w.t.TempDir(), "grant")
	w.ca.ok(who, "cert", id, "--out", key)
	return id, key
}

// sshRun is a finished ssh client process.
type sshRun struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// ssh runs the stock OpenSSH client through bastion b with key, answering
// the TOTP prompt with code (through SSH_ASKPASS), and extra options
// before the destination.
func (w *world) ssh(ctx context.Context, b *bastionProc, key, code string, opts []string, command ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	return w.sshAs(ctx, b, key, code, "db-1", opts, command...)
}

func (w *world) sshAs(ctx context.Context, b *bastionProc, key, code, login string, opts []string, command ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	askpass := filepath.Join(w.t.TempDir(), "askpass")
	script := "#!/bin/sh\nprintf '%s\\n' '" + code + "'\n"
	if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
		w.t.Fatal(err)
	}
	_, port, _ := strings.Cut(b.addr, ":")
	args := []string{"-F", "none", "-i", key, "-o", "CertificateFile=" + key + "-cert.pub", "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + b.knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10", "-o", "NumberOfPasswordPrompts=1", "-p", port}
	args = append(args, opts...)
	args = append(args, "-l", login, "127.0.0.1")
	if len(command) > 0 {
		args = append(args, "--")
		args = append(args, command...)
	}
	cmd := exec.CommandContext(ctx, "ssh", args...)
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0", "SSH_AUTH_SOCK=")
	// The process writes these while a test may read them.
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	return cmd, out, errOut
}

// run runs ssh to completion.
func (w *world) run(b *bastionProc, key, code string, opts []string, command ...string) sshRun {
	w.t.Helper()
	return w.runWith(b, key, code, "db-1", opts, command...)
}

// runAs runs ssh to completion, logging in as login.
func (w *world) runAs(b *bastionProc, key, code, login string, command ...string) sshRun {
	w.t.Helper()
	return w.runWith(b, key, code, login, nil, command...)
}

func (w *world) runWith(b *bastionProc, key, code, login string, opts []string, command ...string) sshRun {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, out, errOut := w.sshAs(ctx, b, key, code, login, opts, command...)
	start := time.Now()
	err := cmd.Run()
	r := sshRun{stdout: out.String(), stderr: errOut.String(), elapsed: time.Since(start)}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	return r
}
