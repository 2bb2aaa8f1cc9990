package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// keyStep runs `ca rotate ARGS...` on the CA's data directory and store,
// as an operator on the CA host does.
func (c *ca) keyStep(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(bin, "ca"), append(append([]string{"rotate"}, args...), "--data", c.dir, "--policy", c.policy)...)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER="+c.driver, "LOCKBOX_STORE_DSN="+c.dsn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("ca rotate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keyStepRefused runs a step that must be refused, saying want.
func (c *ca) keyStepRefused(want string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(bin, "ca"), append(append([]string{"rotate"}, args...), "--data", c.dir, "--policy", c.policy)...)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER="+c.driver, "LOCKBOX_STORE_DSN="+c.dsn)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "could not be audited") {
		c.t.Fatalf("ca rotate %s: %v\n%s\nwant a refusal saying %q, audited", strings.Join(args, " "), err, out, want)
	}
}

// caKeys is the CA's answer to GET /v1/ca.
func (c *ca) caKeys() wire.CAKeys {
	c.t.Helper()
	resp, err := http.Get(c.url + "/v1/ca")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var k wire.CAKeys
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
		c.t.Fatal(err)
	}
	return k
}

// reloadKeys sends the CA SIGHUP and waits until it publishes the kind's
// keys in the data directory: the signing key, then want more.
func (c *ca) reloadKeys(kind string, want int) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		c.t.Fatal(err)
	}
	signing := string(ssh.MarshalAuthorizedKey(c.publicKey(kind + "_ca")))
	waitFor(c.t, 30*time.Second, "the CA to publish the reloaded "+kind+" keys", func() bool {
		k := c.caKeys()
		list := map[string][]string{"user": k.UserCAs, "hop": k.HopCAs, "host": k.HostCAs}[kind]
		return len(list) == 1+want && list[0] == signing
	})
}

// trustChanges waits until the bastion has logged n changes of its CA keys.
func (b *bastionProc) trustChanges(n int) {
	b.t.Helper()
	waitFor(b.t, 30*time.Second, "the bastion to trust the new CA keys", func() bool {
		return strings.Count(b.log.String(), "CA keys changed") >= n
	})
}

func signingKey(t *testing.T, certFile string) ssh.PublicKey {
	t.Helper()
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return pub.(*ssh.Certificate).SignatureKey
}

func sameKey(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

func auditActions(t *testing.T, c *ca) []string {
	t.Helper()
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(c.ok("erin", "--json", "audit")), "\n") {
		var r struct{ Action, Subject string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		actions = append(actions, r.Action+" "+r.Subject)
	}
	return actions
}

func wantAudited(t *testing.T, c *ca, kind string) {
	t.Helper()
	got := strings.Join(auditActions(t, c), "\n")
	for _, want := range []string{"ca.key.prepared " + kind, "ca.key.rotated " + kind, "ca.key.retired " + kind, "ca.keys.loaded ca"} {
		if !strings.Contains(got, want) {
			t.Errorf("the audit log has no %q:\n%s", want, got)
		}
	}
}

// A full rotation of the user CA key with the real CA, bastion and stock
// ssh and sshd: the grant certificate of the old key works before, while
// the next key is prepared and through the overlap, a certificate fetched
// after the rotation is signed by the next key and works too, and once the
// old key is retired its certificate is refused.
func TestUserCAKeyRotationKeepsSessionsGoingAndRetiresTheOldKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h", "--ca_keys_refresh", "300ms")
	w.enroll("alice")
	_, oldKey := w.grant("alice", "admin", "1h")
	session := func(step, key, code string, wantIn bool) {
		t.Helper()
		r := w.run(b, key, code, nil, "echo", step)
		if in := r.code == 0 && r.stdout == step+"\n"; in != wantIn {
			t.Fatalf("%s: session exit %d stdout %q, want in=%v; stderr:\n%s", step, r.code, r.stdout, wantIn, r.stderr)
		}
	}
	session("before", oldKey, w.code("alice", 0), true)
	w.ca.keyStepRefused("no previous key to retire", "retire", "user")

	w.ca.keyStep("prepare", "user")
	w.ca.reloadKeys("user", 1)
	b.trustChanges(1)
	session("prepared", oldKey, "", true)

	w.ca.keyStep("user")
	w.ca.reloadKeys("user", 1)
	b.trustChanges(2)
	_, newKey := w.grant("alice", "admin", "1h")
	if !sameKey(signingKey(t, newKey+"-cert.pub"), w.ca.publicKey("user_ca")) {
		t.Fatal("the certificate fetched after the rotation is not signed by the next user CA key")
	}
	session("overlap-old", oldKey, "", true)
	session("overlap-new", newKey, w.code("alice", 1), true)

	w.ca.keyStep("retire", "user")
	w.ca.reloadKeys("user", 0)
	b.trustChanges(3)
	session("retired-old", oldKey, "", false)
	session("retired-new", newKey, "", true)
	wantAudited(t, w.ca, "user")
	if got := strings.Join(auditActions(t, w.ca), "\n"); !strings.Contains(got, "ca.key.refused user") {
		t.Errorf("the refused step is not audited:\n%s", got)
	}
}

// A full rotation of the hop CA key: the target trusts what
// refresh-krl.sh fetches, so the bastion's sessions go on before, during
// and after the overlap, each signed by the key the CA signs with at the
// time, and a hop certificate of the old key is refused once it is
// retired.
func TestHopCAKeyRotationKeepsSessionsGoingAndRetiresTheOldKey(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "target")
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOptions{hopTrust: filepath.Join(prefix, "hop_ca.pub")})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	refresh := func(wantKeys int) {
		t.Helper()
		out, err := exec.Command("bash", filepath.Join("..", "scripts", "refresh-krl.sh"), "--ca", w.ca.url, "--prefix", prefix).CombinedOutput()
		if err != nil {
			t.Fatalf("refresh-krl.sh: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(filepath.Join(prefix, "hop_ca.pub"))
		if n := strings.Count(string(data), "\n"); n != wantKeys {
			t.Fatalf("the target trusts %d hop keys, want %d:\n%s", n, wantKeys, data)
		}
	}
	session := func(step string, ca ssh.PublicKey) {
		t.Helper()
		code := ""
		if step == "before" {
			code = w.code("alice", 0)
		}
		if r := w.run(b, key, code, nil, "echo", step); r.code != 0 || r.stdout != step+"\n" {
			t.Fatalf("%s: session exit %d stdout %q; stderr:\n%s", step, r.code, r.stdout, r.stderr)
		}
		// sshd names the CA of the certificate it accepted.
		if want := "CA " + strings.ToUpper(strings.TrimPrefix(ca.Type(), "ssh-")) + " " + ssh.FingerprintSHA256(ca); !strings.Contains(lastAccepted(w.target.Log()), want) {
			t.Errorf("%s: the target's last login does not name the hop key %s:\n%s", step, want, lastAccepted(w.target.Log()))
		}
	}
	oldHop, err := sshcert.LoadSigner(filepath.Join(w.ca.dir, "hop_ca"))
	if err != nil {
		t.Fatal(err)
	}
	session("before", oldHop.PublicKey())

	w.ca.keyStep("prepare", "hop")
	w.ca.reloadKeys("hop", 1)
	refresh(2)
	session("prepared", oldHop.PublicKey())

	w.ca.keyStep("hop")
	w.ca.reloadKeys("hop", 1)
	next := w.ca.publicKey("hop_ca")
	session("overlap", next)
	direct := oldKeyHopCert(t, oldHop, w.login)
	if _, _, code := runCmd(t, directSSH(w, direct)); code != 0 {
		t.Fatalf("during the overlap a hop certificate of the old key is refused by the target (exit %d)", code)
	}

	w.ca.keyStep("retire", "hop")
	w.ca.reloadKeys("hop", 0)
	refresh(1)
	session("retired", next)
	if _, _, code := runCmd(t, directSSH(w, direct)); code != 255 {
		t.Fatalf("after retirement a hop certificate of the old key got in (exit %d)", code)
	}
	wantAudited(t, w.ca, "hop")
}

// A full rotation of the host CA key: the bastion trusts the target's
// host certificate of the old key during the overlap, its renewed one of
// the next key after, and refuses the old key's once it is retired; it
// presents its own renewed certificate without a restart, to clients that
// trust both keys (as lockbox ssh writes them) and then the next only.
func TestHostCAKeyRotationKeepsSessionsGoingAndRetiresTheOldKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h", "--ca_keys_refresh", "300ms")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	session := func(step string, wantIn bool) {
		t.Helper()
		code := ""
		if step == "before" {
			code = w.code("alice", 0)
		}
		r := w.run(b, key, code, nil, "echo", step)
		if in := r.code == 0 && r.stdout == step+"\n"; in != wantIn {
			t.Fatalf("%s: session exit %d stdout %q, want in=%v; stderr:\n%s", step, r.code, r.stdout, wantIn, r.stderr)
		}
	}
	// trust writes the client's known_hosts as lockbox ssh does: one
	// @cert-authority line per host CA key the CA lists.
	trust := func(keys []string) {
		t.Helper()
		_, port, _ := strings.Cut(b.addr, ":")
		var lines string
		for _, k := range keys {
			lines += fmt.Sprintf("@cert-authority [127.0.0.1]:%s %s\n", port, strings.TrimSpace(k))
		}
		if err := os.WriteFile(b.knownHosts, []byte(lines), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	certFile := filepath.Join(w.target.Dir, "host_key-cert.pub")
	oldCert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	oldKnownHosts, err := os.ReadFile(b.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	session("before", true)

	w.ca.keyStep("prepare", "host")
	w.ca.reloadKeys("host", 1)
	b.trustChanges(1)
	trust(w.ca.caKeys().HostCAs)
	session("prepared", true)
	w.ca.keyStep("host")
	w.ca.reloadKeys("host", 1)
	b.trustChanges(2)
	session("overlap-old-certs", true)
	// sshd reads its host certificate at each connection.
	renewed := w.ca.hostCert(w.targetKey.PublicKey(), "db-1")
	if err := os.WriteFile(certFile, ssh.MarshalAuthorizedKey(renewed), 0o644); err != nil {
		t.Fatal(err)
	}
	session("overlap-new-target-cert", true)
	// The bastion reads its own certificate again at its next refresh.
	bastionKey := caPublicKeyFile(t, filepath.Join(b.dir, "host_key.pub"))
	if err := os.WriteFile(filepath.Join(b.dir, "host_key-cert.pub"), ssh.MarshalAuthorizedKey(w.ca.hostCert(bastionKey, "127.0.0.1", "localhost")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the bastion to present its renewed certificate", func() bool {
		return strings.Contains(b.log.String(), "host certificate reloaded")
	})
	session("overlap-new-bastion-cert", true)
	if err := os.WriteFile(b.knownHosts, oldKnownHosts, 0o644); err != nil {
		t.Fatal(err)
	}
	session("client-trusting-only-the-old-key", false)

	w.ca.keyStep("retire", "host")
	w.ca.reloadKeys("host", 0)
	b.trustChanges(3)
	trust(w.ca.caKeys().HostCAs)
	session("retired-new-certs", true)
	if err := os.WriteFile(certFile, oldCert, 0o644); err != nil {
		t.Fatal(err)
	}
	session("retired-old-target-cert", false)
	wantAudited(t, w.ca, "host")
}

func caPublicKeyFile(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oldKeyHopCert signs, with the hop key, a certificate as the CA would
// for the bastion, to try on the target directly.
func oldKeyHopCert(t *testing.T, hop ssh.Signer, login string) sshdtest.Identity {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _ := ssh.NewPublicKey(pub)
	serial, _ := sshcert.NewSerial(rand.Reader)
	cert, err := sshcert.UserCertificate(sshPub, sshcert.UserSpec{Serial: serial, KeyID: "hop/test/" + login, Principals: []string{"admin@db-1"},
		ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.Sign(cert, hop, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return sshdtest.WriteIdentity(t, priv, cert)
}

// directSSH logs in to the target with id, around the bastion. The
// target's host certificate names db-1, not 127.0.0.1, so its host key is
// not checked here: what is tested is the target's trust in the client.
func directSSH(w *world, id sshdtest.Identity) *exec.Cmd {
	return exec.Command("ssh", "-F", "none", "-i", id.KeyFile, "-o", "CertificateFile="+id.CertFile, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", fmt.Sprint(w.target.Port), "-l", w.login, "127.0.0.1", "true")
}

// lastAccepted is sshd's last "Accepted" log line.
func lastAccepted(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Accepted ") {
			return lines[i]
		}
	}
	return ""
}

func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}
