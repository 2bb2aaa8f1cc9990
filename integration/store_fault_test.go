package integration

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/mariadbtest"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The CA on a private mariadbd (internal/mariadbtest), which these tests
// freeze, kill and restart; the shared server on 3306 is never touched.

// faultCA starts a CA on a fresh private mariadbd with the given store
// deadline.
func faultCA(t *testing.T, storeTimeout time.Duration, edit func(name string, data []byte) []byte) (*ca, *mariadbtest.Server) {
	t.Helper()
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	dsn, err := srv.CreateDatabase("lockbox")
	if err != nil {
		t.Fatal(err)
	}
	c := newCAOn(t, "mysql", dsn)
	c.writePolicy(edit)
	c.start("--store_timeout", storeTimeout.String())
	return c, srv
}

// api is a client of c signing as principal ("user:alice",
// "bastion:bastion-1") with the key the policy registers.
func (c *ca) api(principal string) *client.Client {
	c.t.Helper()
	_, name, _ := strings.Cut(principal, ":")
	key, err := apiauth.LoadKeyFile(filepath.Join(c.keys, name))
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := client.New(c.url, &apiauth.Signer{Principal: principal, Key: key}, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// health asks /healthz and says how long the answer took.
func (c *ca) health() (int, wire.Health, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/healthz", nil)
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, wire.Health{}, time.Since(began), err
	}
	defer resp.Body.Close()
	var h wire.Health
	err = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h, time.Since(began), err
}

// A database that stops answering (mariadbd frozen with SIGSTOP), and one
// that is gone (killed): request, approve, certificate, session start and
// heartbeat each answer 503 [unavailable] within the store deadline, and
// /healthz within a second, saying what is wrong. Nothing reported
// unavailable was changed, and the CA recovers when the database does.
func TestDatabaseFrozenOrKilledGives503WithinTheStoreDeadline(t *testing.T) {
	const storeTimeout = 2 * time.Second
	c, srv := faultCA(t, storeTimeout, nil)
	alice, carol, bastion := c.api("user:alice"), c.api("user:carol"), c.api("bastion:bastion-1")
	ctx := context.Background()
	pending, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	grant, err := alice.Submit(ctx, wire.SubmitRequest{Role: "health", Resources: []string{"db-1"}, Duration: "1h", Reason: "checks"})
	if err != nil || grant.State != "approved" {
		t.Fatalf("auto-approved grant: %v %+v", err, grant)
	}
	sess, err := bastion.StartSession(ctx, wire.SessionStart{RequestID: grant.ID, Resource: "db-1", User: "alice", Command: "uptime"})
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"request", func(ctx context.Context) error {
			_, err := alice.Submit(ctx, wire.SubmitRequest{Role: "health", Resources: []string{"db-2"}, Duration: "1h", Reason: "during the fault"})
			return err
		}},
		{"approve", func(ctx context.Context) error { _, err := carol.Approve(ctx, pending.ID, "ok"); return err }},
		{"certificate", func(ctx context.Context) error { _, err := alice.Certificate(ctx, grant.ID, pub); return err }},
		{"session start", func(ctx context.Context) error {
			_, err := bastion.StartSession(ctx, wire.SessionStart{RequestID: grant.ID, Resource: "db-1", User: "alice", Command: "uptime"})
			return err
		}},
		{"heartbeat", func(ctx context.Context) error {
			_, err := bastion.Heartbeat(ctx, []string{sess.SessionID})
			return err
		}},
	}
	faults := []struct {
		name, health string
		begin, end   func() error
	}{
		{"frozen", "no answer within", srv.Stop, srv.Continue},
		{"killed", "connection refused", srv.Kill, srv.Restart},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			if err := f.begin(); err != nil {
				t.Fatal(err)
			}
			ended := false
			defer func() {
				if !ended {
					f.end() //nolint:errcheck // best effort; the test failed already
				}
			}()
			for _, cl := range calls {
				began := time.Now()
				err := cl.call(context.Background())
				took := time.Since(began)
				t.Logf("%s %s: %v after %v", f.name, cl.name, err, took.Round(time.Millisecond))
				if !client.IsCode(err, "unavailable") {
					t.Errorf("%s: got %v, want 503 [unavailable]", cl.name, err)
				}
				if took > storeTimeout+2*time.Second {
					t.Errorf("%s answered after %v; the store deadline is %v", cl.name, took.Round(time.Millisecond), storeTimeout)
				}
			}
			code, h, took, err := c.health()
			t.Logf("%s /healthz: %d %+v after %v", f.name, code, h, took.Round(time.Millisecond))
			if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(h.Database, f.health) {
				t.Errorf("/healthz: %d %+v %v; want 503 saying %q", code, h, err, f.health)
			}
			if took > time.Second {
				t.Errorf("/healthz answered after %v, want within a second", took.Round(time.Millisecond))
			}

			if err := f.end(); err != nil {
				t.Fatal(err)
			}
			ended = true
			waitFor(t, 30*time.Second, "the CA to find its database again", func() bool {
				code, _, _, err := c.health()
				return err == nil && code == http.StatusOK
			})
			got, err := alice.Get(ctx, pending.ID)
			if err != nil || got.State != "pending" || len(got.Approvals) != 0 {
				t.Errorf("the approval was answered unavailable (nothing changed), but the request is now %+v (%v)", got, err)
			}
			if _, err := bastion.Heartbeat(ctx, []string{sess.SessionID}); err != nil {
				t.Errorf("heartbeat after recovery: %v", err)
			}
		})
	}
}

// The lockbox CLI sends a change whose outcome is unknown again under its
// idempotency key: a revocation whose commit answer was lost with the
// database (killed at the commit, back a few seconds later) ends as
// "revoked", not as "grant is not live". The same command run again with
// --idempotency-key gets the first answer.
func TestCLISendsAnUnsureChangeAgainUnderItsKey(t *testing.T) {
	const storeTimeout = 2 * time.Second
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	if _, err := srv.CreateDatabase("lockbox"); err != nil {
		t.Fatal(err)
	}
	proxy := srv.StartProxy(t)
	c := newCAOn(t, "mysql", proxy.DSN("lockbox"))
	c.writePolicy(nil)
	c.start("--store_timeout", storeTimeout.String())
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "health", "--resource", "db-1", "--duration", "1h", "--reason", "checks"))

	restarted := make(chan error, 1)
	proxy.BreakNextCommit(mariadbtest.Fault{Commit: mariadbtest.LoseAnswer, When: []byte("grant.revoked"), Then: func() {
		if err := srv.Kill(); err != nil {
			restarted <- err
			return
		}
		go func() {
			// Down past the call's deadline, so the CA cannot learn the
			// outcome in time and says so.
			time.Sleep(2 * storeTimeout)
			restarted <- srv.Restart()
		}()
	}})
	r := c.lockbox("alice", "revoke", id)
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if proxy.Armed() {
		t.Fatal("the revocation's commit never went through the proxy")
	}
	if r.code != 0 || !strings.Contains(r.stdout, id+" is revoked") {
		t.Fatalf("lockbox revoke: exit %d\n%s%s\nwant the revocation, learnt by sending it again", r.code, r.stdout, r.stderr)
	}

	const key = "rerun-0123456789abcdef"
	id2 := strings.TrimSpace(c.ok("alice", "request", "--role", "health", "--resource", "db-2", "--duration", "1h", "--reason", "checks"))
	first := c.ok("alice", "--idempotency-key", key, "revoke", id2)
	if again := c.ok("alice", "--idempotency-key", key, "revoke", id2); again != first {
		t.Fatalf("run again with its key: %q, first %q", again, first)
	}
	c.refused("grant_not_live", "alice", "revoke", id2)
	if r := c.lockbox("alice", "--idempotency-key", "bad key", "revoke", id2); r.code != 2 {
		t.Fatalf("a malformed --idempotency-key: exit %d %s, want 2", r.code, r.stderr)
	}
}
