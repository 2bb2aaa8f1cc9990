package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A certificate call spends its nonce in the transaction that records the
// certificate, or before it answers when it writes nothing: either way
// the same call sent again byte for byte is refused as a replay, makes no
// second certificate, and is not shown the first answer.
func TestCertificateCallsNonceIsSpentWithTheIssuanceOrBeforeTheAnswer(t *testing.T) {
	s := newServer(t)
	_, path, in := certificateCall(t, s)
	body, _ := json.Marshal(in)
	type call struct{ auth, key string }
	sign := func(key string) call {
		req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
		if key != "" {
			req.Header.Set(apiauth.IdempotencyKeyHeader, key)
		}
		if err := (&apiauth.Signer{Principal: "user:alice", Key: s.keys["user:alice"]}).Sign(req, body); err != nil {
			t.Fatal(err)
		}
		return call{req.Header.Get("Authorization"), key}
	}
	send := func(c call) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
		req.Header.Set("Authorization", c.auth)
		if c.key != "" {
			req.Header.Set(apiauth.IdempotencyKeyHeader, c.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	issued := func() int {
		n := 0
		for _, r := range s.auditSince(t, 0) {
			if r.Action == "usercert.issued" {
				n++
			}
		}
		return n
	}
	refusedAsReplay := func(what string, c call) {
		t.Helper()
		resp, b := send(c)
		if resp.StatusCode != http.StatusUnauthorized || errorCode(t, b) != "replayed_request" {
			t.Fatalf("%s sent again: %d %s; want 401 replayed_request", what, resp.StatusCode, b)
		}
		if resp.Header.Get(api.ReplayedHeader) != "" {
			t.Fatalf("%s sent again: the refusal carries %s", what, api.ReplayedHeader)
		}
	}

	// Unkeyed: the nonce goes into the issuance's transaction.
	first := sign("")
	if resp, b := send(first); resp.StatusCode != http.StatusOK {
		t.Fatalf("first call: %d %s", resp.StatusCode, b)
	}
	refusedAsReplay("an issuance", first)
	if n := issued(); n != 1 {
		t.Fatalf("%d certificates issued after one call and its replay; want 1", n)
	}

	// Keyed: the second call with the key is answered from the kept answer
	// and writes nothing, but its nonce is spent all the same.
	const key = "test-cert-nonce-0000001"
	if resp, b := send(sign(key)); resp.StatusCode != http.StatusOK {
		t.Fatalf("keyed call: %d %s", resp.StatusCode, b)
	}
	again := sign(key)
	resp, b := send(again)
	if resp.StatusCode != http.StatusOK || resp.Header.Get(api.ReplayedHeader) != "true" {
		t.Fatalf("keyed call sent again under a new signature: %d %s; want the kept answer", resp.StatusCode, b)
	}
	refusedAsReplay("an answer from the kept answer", again)
	if n := issued(); n != 2 {
		t.Fatalf("%d certificates issued; want 2 (one per key)", n)
	}
}

// The same signed certificate call sent several times at once (so that
// the copies may share one store transaction) gets one certificate; every
// other copy is refused as a replay.
func TestCertificateCallSentSeveralTimesAtOnceIssuesOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { certificateCallSentAtOnce(t, newServer(t)) })
	t.Run("mysql", func(t *testing.T) {
		st, err := sqlstore.OpenMySQL(storetest.MySQLDSN(t), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		certificateCallSentAtOnce(t, newServerOn(t, st))
	})
}

func certificateCallSentAtOnce(t *testing.T, s *server) {
	_, path, in := certificateCall(t, s)
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	if err := (&apiauth.Signer{Principal: "user:alice", Key: s.keys["user:alice"]}).Sign(req, body); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	const copies = 8
	statuses := make(chan string, copies)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
			r.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				statuses <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusOK {
				statuses <- "ok"
				return
			}
			statuses <- fmt.Sprintf("%d %s", resp.StatusCode, errorCodeOf(b))
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)
	got := map[string]int{}
	for st := range statuses {
		got[st]++
	}
	if got["ok"] != 1 || got["401 replayed_request"] != copies-1 {
		t.Fatalf("answers %v; want one ok and %d replayed_request", got, copies-1)
	}
	n := 0
	for _, r := range s.auditSince(t, 0) {
		if r.Action == "usercert.issued" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d certificates issued for one call sent %d times", n, copies)
	}
}

func errorCodeOf(b []byte) string {
	var e wire.Error
	if json.Unmarshal(b, &e) != nil {
		return string(b)
	}
	return e.Error.Code
}
