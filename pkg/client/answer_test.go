package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
)

// A recording larger than the JSON answer limit arrives whole; a JSON
// answer over its limit is an error, not a truncated read.
func TestRecordingsLargerThanAJSONAnswerArriveWhole(t *testing.T) {
	rec := bytes.Repeat([]byte("0123456789abcdef"), (maxAnswer+1<<20)/16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/recording") {
			w.Write(rec) //nolint:errcheck // the test reads what arrived
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"pad":"`)) //nolint:errcheck
		w.Write(bytes.Repeat([]byte("x"), maxAnswer))
		w.Write([]byte(`"}`)) //nolint:errcheck
	}))
	defer srv.Close()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(srv.URL, &apiauth.Signer{Principal: "user:alice", Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Recording(context.Background(), "sess-aaaaaaaaaaaaaaaa")
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("Recording: %d of %d bytes, %v", len(got), len(rec), err)
	}
	var out map[string]string
	err = c.do(context.Background(), http.MethodGet, "/v1/whoami", nil, nil, &out)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an answer over the JSON limit: %v", err)
	}
}

// JSON answers are read into reused buffers, and raw answers are not: a
// recording the caller holds stays as it arrived through the answers that
// follow, and each JSON answer decodes to its own values.
func TestAnswersReadIntoReusedBuffersLeaveTheCallersBytesAlone(t *testing.T) {
	rec := bytes.Repeat([]byte("recording "), 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/recording") {
			w.Write(rec) //nolint:errcheck // the test reads what arrived
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"who":"` + strings.Repeat(r.URL.Query().Get("c"), 1000) + `"}`)) //nolint:errcheck
	}))
	defer srv.Close()
	c, err := New(srv.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Recording(context.Background(), "sess-aaaaaaaaaaaaaaaa")
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("Recording: %d of %d bytes, %v", len(got), len(rec), err)
	}
	var answers []map[string]string
	for _, ch := range []string{"a", "b", "c"} {
		var out map[string]string
		if err := c.do(context.Background(), http.MethodGet, "/v1/whoami", url.Values{"c": {ch}}, nil, &out); err != nil {
			t.Fatal(err)
		}
		answers = append(answers, out)
	}
	if !bytes.Equal(got, rec) {
		t.Fatal("the recording changed under the caller as later answers arrived")
	}
	for i, ch := range []string{"a", "b", "c"} {
		if answers[i]["who"] != strings.Repeat(ch, 1000) {
			t.Fatalf("answer %d changed after it was decoded: %.20q…", i, answers[i]["who"])
		}
	}
}
