package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
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
