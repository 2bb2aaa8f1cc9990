package workflow_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// clock is a settable clock shared by the service and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	t      *testing.T
	svc    *workflow.Service
	st     store.Store
	clock  *clock
	holder *policy.Holder
	cas    cas
}

type cas struct{ user, hop, host ssh.Signer }

func newSigner(t testing.TB) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCAs(t testing.TB) cas { return cas{newSigner(t), newSigner(t), newSigner(t)} }

// examplePolicy loads the example policy the quick start uses.
func examplePolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.LoadDir(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sqliteStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newEnv builds a service on st (SQLite if nil) with the example policy,
// new CA keys and a clock stopped at a fixed time.
func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	if st == nil {
		st = sqliteStore(t)
	}
	c := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	e := &env{t: t, st: st, clock: c, holder: policy.NewHolder(examplePolicy(t)), cas: newCAs(t)}
	e.svc = e.service(st)
	return e
}

// service builds another Service on st sharing e's policy, keys and clock,
// as a second CA replica would.
func (e *env) service(st store.Store) *workflow.Service { return e.serviceWith(st, nil) }

// serviceWith is service with a chance to change the configuration.
func (e *env) serviceWith(st store.Store, change func(*workflow.Config)) *workflow.Service {
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := workflow.Config{
		Store: st, Policy: e.holder, UserCA: e.cas.user, HopCA: e.cas.hop, HostCA: e.cas.host,
		Secrets: box, Clock: e.clock.Now, PendingTimeout: time.Hour,
	}
	if change != nil {
		change(&cfg)
	}
	svc, err := workflow.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

var ctx = context.Background()

func user(name string) workflow.Actor { return workflow.UserActor(name) }

// submit submits and fails the test on error.
func (e *env) submit(who, role string, resources []string, d time.Duration, ticket string) *store.Request {
	e.t.Helper()
	r, err := e.svc.Submit(ctx, user(who), workflow.Submission{Role: role, Resources: resources, Duration: d, Reason: "investigating an incident", Ticket: ticket})
	if err != nil {
		e.t.Fatalf("submit %s %s %v: %v", who, role, resources, err)
	}
	return r
}

func (e *env) approve(who, id string) *store.Request {
	e.t.Helper()
	r, err := e.svc.Approve(ctx, user(who), id, "ok")
	if err != nil {
		e.t.Fatalf("%s approving %s: %v", who, id, err)
	}
	return r
}

func (e *env) request(id string) *store.Request {
	e.t.Helper()
	var r *store.Request
	if err := e.st.View(ctx, func(tx store.Tx) (err error) { r, err = tx.Request(id); return err }); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// auditRows returns every audit row, and fails the test if the chain is
// broken.
func (e *env) auditRows() []audit.Record {
	e.t.Helper()
	var rows []store.AuditRecord
	var head int64
	var hash []byte
	if err := e.st.View(ctx, func(tx store.Tx) (err error) {
		if head, hash, err = tx.AuditHead(); err != nil {
			return err
		}
		rows, err = tx.Audit(0, 10000)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	recs := make([]audit.Record, len(rows))
	for i, r := range rows {
		recs[i] = audit.Record{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
	}
	if hash == nil {
		hash = audit.Genesis
	}
	if err := audit.Verify(recs, head, hash); err != nil {
		e.t.Fatalf("audit chain: %v", err)
	}
	return recs
}

// actions lists the audit actions recorded about subject, in order.
func (e *env) actions(subject string) []string {
	var out []string
	for _, r := range e.auditRows() {
		if r.Subject == subject {
			out = append(out, r.Action)
		}
	}
	return out
}

func newPublicKey(t testing.TB) ssh.PublicKey { return newSigner(t).PublicKey() }

func requireErr(t *testing.T, err error, want ...error) {
	t.Helper()
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Fatalf("got error %v, want one wrapping %v", err, w)
		}
	}
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}
