package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var ctx = context.Background()

func newSigner(t testing.TB) ssh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// server is a CA API on SQLite with the example policy, whose users and
// bastion get fresh keys.
type server struct {
	url    string
	keys   map[string]ssh.Signer // "user:alice", "bastion:bastion-1"
	wf     *workflow.Service
	policy *policy.Holder
	st     store.Store
	cfg    api.Config // to start a replica on the same workflow and keys
	recs   string     // the recordings directory
}

func newServer(t testing.TB) *server {
	t.Helper()
	return newServerWith(t, nil)
}

// newServerWith is newServer with edit applied to the API's config.
func newServerWith(t testing.TB, edit func(*api.Config)) *server {
	t.Helper()
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newServerOn(t, st, edit)
}

// newServerOn is newServer on the given store, with edit (if not nil)
// applied to the API's config.
func newServerOn(t testing.TB, st store.Store, edit ...func(*api.Config)) *server {
	t.Helper()
	return newServerRecordingTo(t, st, t.TempDir(), edit...)
}

// newServerRecordingTo is newServerOn with recordings kept in dir.
func newServerRecordingTo(t testing.TB, st store.Store, dir string, edit ...func(*api.Config)) *server {
	t.Helper()
	return newServerWorkflow(t, st, dir, nil, edit...)
}

// newServerWorkflow is newServerRecordingTo with wfEdit (if not nil)
// applied to the workflow's config.
func newServerWorkflow(t testing.TB, st store.Store, dir string, wfEdit func(*workflow.Config), edit ...func(*api.Config)) *server {
	t.Helper()
	recs, err := recstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := newServerStoringIn(t, st, recs, wfEdit, edit...)
	s.recs = dir
	return s
}

// newServerStoringIn is newServerOn with recordings kept in recs, and
// wfEdit (if not nil) applied to the workflow's config.
func newServerStoringIn(t testing.TB, st store.Store, recs recstore.Store, wfEdit func(*workflow.Config), edit ...func(*api.Config)) *server {
	t.Helper()
	p, err := policy.LoadDir(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{keys: map[string]ssh.Signer{}, st: st}
	for name, u := range p.Users {
		k := newSigner(t)
		u.Keys = []ssh.PublicKey{k.PublicKey()}
		s.keys["user:"+name] = k
	}
	for name, b := range p.Bastions {
		k := newSigner(t)
		b.Keys = []ssh.PublicKey{k.PublicKey()}
		s.keys["bastion:"+name] = k
	}
	box, _ := secretbox.New(make([]byte, 32))
	holder := policy.NewHolder(p)
	s.policy = holder
	userCA, hopCA := newSigner(t), newSigner(t)
	wfc := workflow.Config{Store: st, Policy: holder, UserCA: userCA, HopCA: hopCA, Secrets: box, Recordings: recs}
	if wfEdit != nil {
		wfEdit(&wfc)
	}
	s.wf, err = workflow.New(wfc)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = api.Config{
		Workflow: s.wf, UserCA: userCA.PublicKey(), HopCA: hopCA.PublicKey(), Ping: st.Ping, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Keys: apiauth.KeysFunc(func(principal string) []ssh.PublicKey {
			if k := s.keys[principal]; k != nil {
				return []ssh.PublicKey{k.PublicKey()}
			}
			return nil
		}),
	}
	for _, e := range edit {
		if e != nil {
			e(&s.cfg)
		}
	}
	s.url = s.replica(t)
	return s
}

// replica starts another API server on the same workflow, store and keys,
// as a second CA replica, and returns its URL.
func (s *server) replica(t testing.TB) string {
	t.Helper()
	srv, err := api.New(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(metrics.InstrumentAPI(srv, srv.Route)) // as cmd/ca serves it
	hs.Listener.Close()
	ln, err := api.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs.Listener = srv.Guard(ln) // as cmd/ca serves it
	hs.Start()
	t.Cleanup(hs.Close)
	return hs.URL
}

func (s *server) client(t testing.TB, principal string) *client.Client {
	t.Helper()
	c, err := client.New(s.url, &apiauth.Signer{Principal: principal, Key: s.keys[principal]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	ce, ok := err.(*client.Error)
	if !ok || ce.Status != status || ce.Code != code {
		t.Fatalf("got %v (%#v), want %d %s", err, err, status, code)
	}
}

func TestRequestToCertificateThroughTheAPI(t *testing.T) {
	s := newServer(t)
	alice, carol, frank := s.client(t, "user:alice"), s.client(t, "user:carol"), s.client(t, "user:frank")
	req, err := alice.Submit(ctx, wire.SubmitRequest{Role: "admin", Resources: []string{"db-1"}, Duration: "1h", Reason: "disk full", Ticket: "INC-1"})
	if err != nil || req.State != "pending" {
		t.Fatalf("submit: %v %+v", err, req)
	}
	got, err := carol.Approve(ctx, req.ID, "ok")
	if err != nil || got.State != "pending" || !cmp.Equal(got.Outstanding, []string{"1 from group security"}) {
		t.Fatalf("carol's approval: %v %+v", err, got)
	}
	if got, err = frank.Approve(ctx, req.ID, "ok"); err != nil || got.State != "approved" {
		t.Fatalf("frank's approval: %v %+v", err, got)
	}
	pub := ssh.MarshalAuthorizedKey(newSigner(t).PublicKey())
	cert, err := alice.Certificate(ctx, req.ID, string(pub))
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(cert.Certificate))
	if err != nil {
		t.Fatal(err)
	}
	c := parsed.(*ssh.Certificate)
	if diff := cmp.Diff([]string{"admin@db-1"}, c.ValidPrincipals); diff != "" || cert.Serial == "0" {
		t.Fatalf("principals (-want +got):\n%s", diff)
	}
	hop, err := s.client(t, "bastion:bastion-1").HopCertificate(ctx, req.ID, "db-1", string(pub))
	if err != nil || hop.Principals[0] != "admin@db-1" {
		t.Fatalf("hop: %v %+v", err, hop)
	}
	if _, err := alice.Revoke(ctx, req.ID, "done"); err != nil {
		t.Fatal(err)
	}
	krl, err := s.client(t, "user:alice").KRL(ctx)
	if err != nil || !bytes.HasPrefix(krl, []byte("SSHKRL\n\x00")) {
		t.Fatalf("krl: %v %q", err, krl[:min(len(krl), 8)])
	}
	erin := s.client(t, "user:erin")
	v, err := erin.VerifyAudit(ctx)
	if err != nil || !v.OK || v.Rows < 6 {
		t.Fatalf("verify: %v %+v", err, v)
	}
	recs, err := erin.Audit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	want := []string{"request.submitted", "approval.recorded", "approval.recorded", "request.approved", "usercert.issued", "hopcert.issued", "grant.revoked"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestErrorsHaveStableCodes(t *testing.T) {
	s := newServer(t)
	alice := s.client(t, "user:alice")
	_, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"web-1"}, Duration: "1h", Reason: "x"})
	wantCode(t, err, http.StatusForbidden, "out_of_scope")
	_, err = alice.Submit(ctx, wire.SubmitRequest{Role: "admin", Resources: []string{"db-1"}, Duration: "9h", Reason: "x", Ticket: "T"})
	wantCode(t, err, http.StatusUnprocessableEntity, "over_max_duration")
	_, err = alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "soon", Reason: "x"})
	wantCode(t, err, http.StatusBadRequest, "bad_request")
	req, _ := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "x"})
	_, err = alice.Approve(ctx, req.ID, "")
	wantCode(t, err, http.StatusForbidden, "self_approval")
	_, err = alice.Get(ctx, "../../etc/passwd")
	wantCode(t, err, http.StatusBadRequest, "bad_request")
	_, err = alice.Get(ctx, "req-nope")
	wantCode(t, err, http.StatusBadRequest, "bad_request")
	_, err = s.client(t, "user:dave").Get(ctx, req.ID)
	wantCode(t, err, http.StatusNotFound, "not_found")
	_, err = alice.Audit(ctx, 0, 10)
	wantCode(t, err, http.StatusForbidden, "forbidden")
}

// rawCall sends a signed call with a hand-made body, so tests can send what
// the client never would.
func rawCall(t *testing.T, s *server, principal, method, path string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if principal != "" {
		signer := &apiauth.Signer{Principal: principal, Key: s.keys[principal]}
		if err := signer.Sign(req, body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func errorCode(t *testing.T, b []byte) string {
	var e wire.Error
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", b, err)
	}
	return e.Error.Code
}

func TestBadBodiesAreRefusedAndAudited(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"unknown field", `{"role":"health","resources":["db-1"],"duration":"1h","reason":"x","principals":["root"]}`, 400, "bad_request"},
		{"trailing data", `{"role":"health","resources":["db-1"],"duration":"1h","reason":"x"} {}`, 400, "bad_request"},
		{"not an object", `["health"]`, 400, "bad_request"},
		{"empty", ``, 400, "bad_request"},
		{"wrong type", `{"role":1}`, 400, "bad_request"},
		{"too large", `{"reason":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			resp, b := rawCall(t, s, "user:alice", "POST", "/v1/requests", []byte(tc.body))
			if resp.StatusCode != tc.status || errorCode(t, b) != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if tc.code == "too_large" {
				return // refused before authentication; nothing to attribute
			}
			recs, err := s.wf.AuditLog(ctx, workflow.UserActor("erin"), 0, 10)
			if err != nil || len(recs) != 1 || recs[0].Action != "input.refused" || recs[0].Actor != "user:alice" {
				t.Fatalf("audit: %v %+v", err, recs)
			}
		})
	}
}

func TestAuthenticationRefusals(t *testing.T) {
	s := newServer(t)
	body := []byte(`{"role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`)

	resp, b := rawCall(t, s, "", "POST", "/v1/requests", body)
	if resp.StatusCode != 401 || errorCode(t, b) != "unauthenticated" {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, b)
	}

	// A signed call replayed byte for byte.
	req, _ := http.NewRequest("POST", s.url+"/v1/requests", bytes.NewReader(body))
	signer := &apiauth.Signer{Principal: "user:alice", Key: s.keys["user:alice"]}
	if err := signer.Sign(req, body); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	send := func() (int, string) {
		r, _ := http.NewRequest("POST", s.url+"/v1/requests", bytes.NewReader(body))
		r.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, b := send(); status != 201 {
		t.Fatalf("first: %d %s", status, b)
	}
	if status, b := send(); status != 401 || errorCode(t, []byte(b)) != "replayed_request" {
		t.Fatalf("replay: %d %s", status, b)
	}

	// A key that is not alice's.
	s.keys["user:mallory-as-alice"] = newSigner(t)
	forged := &apiauth.Signer{Principal: "user:alice", Key: s.keys["user:mallory-as-alice"]}
	r, _ := http.NewRequest("GET", s.url+"/v1/whoami", nil)
	forged.Sign(r, nil)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("forged key: %d", resp.StatusCode)
	}

	// None of the three callers was authenticated: they are audited
	// together, as one row for their address with the count.
	if _, err := s.wf.FlushAnonymousRefusals(ctx, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := s.wf.AuditLog(ctx, workflow.UserActor("erin"), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, r := range recs {
		if r.Action == workflow.ActionAnonymousRefused {
			summary = append(summary, r.Subject+" "+string(r.Detail))
		}
	}
	if len(summary) != 1 || !strings.Contains(summary[0], `"count":3`) ||
		!strings.Contains(summary[0], `"replayed_request":1`) || !strings.Contains(summary[0], `"unknown_key":1`) || !strings.Contains(summary[0], `"unauthenticated":1`) {
		t.Fatalf("anonymous refusals audited as %q, want one row with the three reasons", summary)
	}
}

func TestPublicEndpoints(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/v1/ca", "/v1/krl", "/healthz"} {
		resp, b := rawCall(t, s, "", "GET", path, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
	resp, _ := rawCall(t, s, "", "GET", "/v1/requests", nil)
	if resp.StatusCode != 401 {
		t.Fatalf("listing without a signature: %d", resp.StatusCode)
	}
}

func wireHealth() wire.SubmitRequest {
	return wire.SubmitRequest{Role: "health", Resources: []string{"db-1"}, Duration: "1h", Reason: "fuzz"}
}
