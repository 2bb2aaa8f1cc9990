package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// auditSince returns the audit records after row after.
func (s *server) auditSince(t testing.TB, after int64) []audit.Record {
	t.Helper()
	var out []audit.Record
	for {
		recs, err := s.wf.AuditLog(ctx, workflow.UserActor("erin"), after, 10000)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
		if len(recs) < 10000 {
			return out
		}
		after = recs[len(recs)-1].Seq
	}
}

func (s *server) auditHead(t testing.TB) int64 {
	t.Helper()
	recs := s.auditSince(t, 0)
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// anonymousFlood sends n calls that no one authenticated (no signature, a
// forged one, an unknown key) from 8 clients at once.
func anonymousFlood(t testing.TB, s *server, n int) {
	t.Helper()
	forger := &apiauth.Signer{Principal: "user:alice", Key: newSigner(t)}
	stranger := &apiauth.Signer{Principal: "user:nobody", Key: newSigner(t)}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/whoami", nil)
				switch i % 3 {
				case 1:
					forger.Sign(req, nil) //nolint:errcheck // a test key
				case 2:
					stranger.Sign(req, nil) //nolint:errcheck // a test key
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("anonymous call %d: %d, want 401", i, resp.StatusCode)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// 10,000 calls nobody authenticated add one audit row for their source,
// with the count, instead of one row each; refusals of an authenticated
// caller are still audited one by one.
func TestAnonymousRefusalsAreAuditedOncePerSourcePerInterval(t *testing.T) {
	s := newServer(t)
	head := s.auditHead(t)
	anonymousFlood(t, s, 10000)
	for range 3 { // alice, authenticated, sends bad bodies
		if resp, _ := rawCall(t, s, "user:alice", http.MethodPost, "/v1/requests", []byte(`{"role":1}`)); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("alice's bad body: %d", resp.StatusCode)
		}
	}
	if _, err := s.wf.FlushAnonymousRefusals(ctx, nil); err != nil {
		t.Fatal(err)
	}
	recs := s.auditSince(t, head)
	var summaries, aliceRefused int
	for _, r := range recs {
		switch {
		case r.Action == workflow.ActionAnonymousRefused:
			summaries++
			if r.Subject != "127.0.0.1" || !containsJSON(r.Detail, `"count":10000`) {
				t.Errorf("summary row: subject %q, detail %s; want 127.0.0.1 and a count of 10000", r.Subject, r.Detail)
			}
		case r.Action == "input.refused" && r.Actor == "user:alice":
			aliceRefused++
		}
	}
	if len(recs) != 4 || summaries != 1 || aliceRefused != 3 {
		t.Fatalf("10,000 anonymous refusals and 3 of alice's added %d rows (%d summaries, %d of alice's); want 1 summary and alice's 3", len(recs), summaries, aliceRefused)
	}
	// Nothing left to flush: the next interval starts from zero.
	if n, err := s.wf.FlushAnonymousRefusals(ctx, nil); err != nil || n != 0 {
		t.Fatalf("second flush wrote %d rows (%v), want none", n, err)
	}
}

func containsJSON(detail []byte, want string) bool {
	return strings.Contains(string(detail), want)
}

// The answer to a call that was not authenticated is written for people:
// no Go package names, and for an unknown key the key and principal the
// caller sent (the same words whether the principal or the key is unknown).
func TestAuthRefusalsAreAnsweredInWordsForPeople(t *testing.T) {
	s := newServer(t)
	mallory := newSigner(t)
	for _, principal := range []string{"user:alice", "user:nobody"} {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/whoami", nil)
		(&apiauth.Signer{Principal: principal, Key: mallory}).Sign(req, nil) //nolint:errcheck // a test key
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e wire.Error
		json.NewDecoder(resp.Body).Decode(&e) //nolint:errcheck // checked below
		resp.Body.Close()
		want := "the CA knows no key " + ssh.FingerprintSHA256(mallory.PublicKey()) + " for " + principal
		if e.Error.Code != "unknown_key" || !strings.HasPrefix(e.Error.Message, want) || strings.Contains(e.Error.Message, "apiauth") {
			t.Errorf("%s with an unregistered key: %+v; want unknown_key, %q", principal, e.Error, want)
		}
	}
	resp, b := rawCall(t, s, "", http.MethodGet, "/v1/whoami", nil)
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "apiauth") || !strings.Contains(string(b), "signed") {
		t.Errorf("unsigned call: %d %s", resp.StatusCode, b)
	}
}

// A call with no Authorization header to a route that wants a signature
// is refused from its headers, before its body is read: a body over the
// limit is answered 401 unauthenticated (not 413), as JSON like every
// refusal, and the call is counted (metrics, and the interval's audit row
// for its source) like any other anonymous refusal. Routes that want no
// signature still answer.
func TestUnsignedCallsAreRefusedBeforeTheirBodyIsRead(t *testing.T) {
	s := newServer(t)
	refused := testutil.ToFloat64(metrics.Refusals.WithLabelValues("unauthenticated"))
	answered := testutil.ToFloat64(metrics.APIRequests.WithLabelValues("POST /v1/requests", "401"))
	head := s.auditHead(t)
	huge := bytes.Repeat([]byte("x"), 1<<20) // over the API's 64 KiB bound
	for _, c := range []struct {
		method, path string
		body         []byte
	}{
		{http.MethodPost, "/v1/requests", huge},
		{http.MethodPost, "/v1/requests", nil},
		{http.MethodGet, "/v1/whoami", nil},
	} {
		resp, b := rawCall(t, s, "", c.method, c.path, c.body)
		var e wire.Error
		if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != http.StatusUnauthorized || e.Error.Code != "unauthenticated" ||
			!strings.HasPrefix(e.Error.Message, "this call must be signed") || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("unsigned %s %s with %d bytes: %d %v %s; want 401 unauthenticated, JSON, no-store", c.method, c.path, len(c.body), resp.StatusCode, resp.Header, b)
		}
	}
	if got := testutil.ToFloat64(metrics.Refusals.WithLabelValues("unauthenticated")) - refused; got != 3 {
		t.Errorf("lockbox_refusals_total{reason=unauthenticated} grew by %v, want 3", got)
	}
	if got := testutil.ToFloat64(metrics.APIRequests.WithLabelValues("POST /v1/requests", "401")) - answered; got != 2 {
		t.Errorf("API requests counted for POST /v1/requests 401: %v, want 2", got)
	}
	if _, err := s.wf.FlushAnonymousRefusals(ctx, nil); err != nil {
		t.Fatal(err)
	}
	recs := s.auditSince(t, head)
	if len(recs) != 1 || recs[0].Action != workflow.ActionAnonymousRefused || !containsJSON(recs[0].Detail, `"count":3`) {
		t.Fatalf("audit rows %+v, want one anonymous.refused row with a count of 3", recs)
	}
	if resp, b := rawCall(t, s, "", http.MethodGet, "/v1/ca", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/ca without a signature: %d %s", resp.StatusCode, b)
	}
}
