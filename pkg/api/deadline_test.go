package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// stallingStore answers nothing while stalled, until the caller's
// context ends: a database that stopped answering, as the CA sees it
// (the private-mariadbd tests in integration/ do it for real).
type stallingStore struct {
	store.Store
	stalled atomic.Bool
}

func (s *stallingStore) stall(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
}

func (s *stallingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.stalled.Load() {
		return s.stall(ctx)
	}
	return s.Store.Update(ctx, fn)
}

func (s *stallingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if s.stalled.Load() {
		return s.stall(ctx)
	}
	return s.Store.View(ctx, fn)
}

func (s *stallingStore) Ping(ctx context.Context) error {
	if s.stalled.Load() {
		return s.stall(ctx)
	}
	return s.Store.Ping(ctx)
}

func newStallingServer(t *testing.T, storeTimeout time.Duration) (*server, *stallingStore) {
	t.Helper()
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{TxTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &stallingStore{Store: db}
	return newServerOn(t, st, func(c *api.Config) { c.StoreTimeout = storeTimeout }), st
}

// A database that stops answering costs each API call its store deadline
// and a 503, whatever the store's own timeouts: request, approve,
// certificate, session start and heartbeat all answer in time.
func TestStalledDatabaseAnswers503WithinTheCallsStoreDeadline(t *testing.T) {
	const deadline = time.Second
	s, st := newStallingServer(t, deadline)
	alice, carol, bastion := s.client(t, "user:alice"), s.client(t, "user:carol"), s.client(t, "bastion:bastion-1")
	pending, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	grant, err := alice.Submit(ctx, wireHealth())
	if err != nil || grant.State != "approved" {
		t.Fatalf("auto-approved grant: %v %+v", err, grant)
	}
	sess, err := bastion.StartSession(ctx, wire.SessionStart{RequestID: grant.ID, Resource: "db-1", User: "alice", Command: "uptime"})
	if err != nil {
		t.Fatal(err)
	}
	pub := string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey()))

	st.stalled.Store(true)
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"request", func(ctx context.Context) error { _, err := alice.Submit(ctx, wireHealth()); return err }},
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
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			began := time.Now()
			err := c.call(ctx)
			took := time.Since(began)
			if !client.IsCode(err, "unavailable") {
				t.Errorf("got %v, want 503 [unavailable]", err)
			}
			if took > deadline+time.Second {
				t.Errorf("answered after %v; the store deadline is %v", took.Round(time.Millisecond), deadline)
			}
		})
	}
}

// /healthz answers within a second when the database stalls, with a 503
// that says what is wrong.
func TestHealthzAnswersWithinASecondAndSaysWhatIsWrong(t *testing.T) {
	s, st := newStallingServer(t, 5*time.Second)
	health := func() (int, wire.Health, time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		began := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("/healthz: %v", err)
		}
		defer resp.Body.Close()
		var h wire.Health
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatalf("/healthz body: %v", err)
		}
		return resp.StatusCode, h, time.Since(began)
	}
	if code, h, _ := health(); code != http.StatusOK || h.Status != "ok" || !strings.HasPrefix(h.Database, "answered in") {
		t.Fatalf("healthy database: %d %+v", code, h)
	}
	st.stalled.Store(true)
	code, h, took := health()
	if code != http.StatusServiceUnavailable || h.Status != "unavailable" || !strings.Contains(h.Database, "no answer within") {
		t.Errorf("stalled database: %d %+v; want 503 saying the database did not answer", code, h)
	}
	if took > time.Second {
		t.Errorf("/healthz answered after %v, want within a second", took.Round(time.Millisecond))
	}
}
