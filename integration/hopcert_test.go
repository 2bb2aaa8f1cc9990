package integration

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
)

// hopTTL is the hop certificate validity these tests run the CA with:
// long enough for the bastion's one login on a loaded machine, short
// enough to wait out.
const hopTTL = 3 * time.Second

// A hop certificate is worth one login: sshd checks it at authentication
// only, so a session through the bastion outlives it, while the key and
// certificate, leaked, open nothing once its few seconds are over.
func TestHopCertificateOpensOneLoginAndIsWorthlessAfterIt(t *testing.T) {
	w := newWorld(t, worldOptions{caFlags: []string{"--hop_cert_ttl", hopTTL.String()}})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	id, key := w.grant("alice", "admin", "1h")

	t.Run("a session outlives its hop certificate", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd, _, errOut := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sh", "-c", "'echo ready; read x; echo got $x'")
		out := &syncBuffer{}
		cmd.Stdout = out
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the session to start", func() bool { return strings.Contains(out.String(), "ready") })
		validBefore := latestHopCertEnd(t, w, id)
		if d := time.Until(validBefore); d > hopTTL+time.Second {
			t.Fatalf("the session's hop certificate is valid for %v more, want at most %v", d, hopTTL)
		}
		waitFor(t, 30*time.Second, "the hop certificate to expire", func() bool { return time.Now().After(validBefore.Add(time.Second)) })
		io.WriteString(stdin, "hello\n")
		stdin.Close()
		if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "got hello") {
			t.Fatalf("after its hop certificate expired the session said %q (%v), stderr %q", out.String(), err, errOut.String())
		}
	})

	t.Run("a leaked hop key opens nothing after its minutes", func(t *testing.T) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, _ := ssh.NewSignerFromKey(priv)
		hop, err := asBastion(t, w).HopCertificate(context.Background(), id, "db-1", string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
		if err != nil {
			t.Fatal(err)
		}
		parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hop.Certificate))
		if err != nil {
			t.Fatal(err)
		}
		leaked := sshdtest.WriteIdentity(t, priv, parsed.(*ssh.Certificate))
		// The thief pins the target's host key (its certificate names db-1,
		// not the loopback address the test dials).
		target := *w.target
		target.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		line := fmt.Sprintf("[127.0.0.1]:%d %s", target.Port, ssh.MarshalAuthorizedKey(target.HostKey))
		if err := os.WriteFile(target.KnownHostsFile, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := target.SSH(t, leaked, w.login, "echo", "in").CombinedOutput(); err != nil || !strings.Contains(string(out), "in") {
			t.Fatalf("the hop certificate while valid: %v %s", err, out)
		}
		waitFor(t, 30*time.Second, "the hop certificate to expire", func() bool { return time.Now().After(hop.ValidBefore.Add(time.Second)) })
		out, err := target.SSH(t, leaked, w.login, "echo", "in").CombinedOutput()
		if err == nil || strings.Contains(string(out), "in\n") {
			t.Fatalf("sshd let the expired hop certificate in: %v %s", err, out)
		}
	})
}

// asBastion signs API calls as bastion-1, as a thief of its key could.
func asBastion(t *testing.T, w *world) *client.Client {
	t.Helper()
	key, err := apiauth.LoadKeyFile(filepath.Join(w.ca.keys, "bastion-1"))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(w.ca.url, &apiauth.Signer{Principal: "bastion:bastion-1", Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// latestHopCertEnd reads from the audit log when the last hop certificate
// of grant id ends.
func latestHopCertEnd(t *testing.T, w *world, id string) time.Time {
	t.Helper()
	recs, err := w.apiClient("erin").Audit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var end time.Time
	for _, r := range recs {
		if r.Action == "hopcert.issued" && r.Subject == id {
			s, _ := r.Detail["valid_before"].(string)
			if end, err = time.Parse(time.RFC3339Nano, s); err != nil {
				t.Fatalf("hopcert.issued valid_before %q: %v", s, err)
			}
		}
	}
	if end.IsZero() {
		t.Fatalf("no hop certificate issued for %s", id)
	}
	return end
}
