package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// withCheckpoints serves s's workflow again with an audit checkpointer.
func withCheckpoints(t *testing.T, s *server) ssh.Signer {
	t.Helper()
	key := newSigner(t)
	cp, err := s.wf.NewCheckpointer(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{
		Workflow: s.wf, UserCA: newSigner(t).PublicKey(), HopCA: newSigner(t).PublicKey(), AuditKey: key.PublicKey(),
		Checkpoints: cp, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Keys: apiauth.KeysFunc(func(principal string) []ssh.PublicKey {
			if k := s.keys[principal]; k != nil {
				return []ssh.PublicKey{k.PublicKey()}
			}
			return nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return key
}

// GET serves the newest checkpoint to anyone (404 before the first); POST
// signs one now, for auditors only; /v1/ca names the audit key.
func TestCheckpointRoutes(t *testing.T) {
	s := newServer(t)
	key := withCheckpoints(t, s)
	ctx := context.Background()
	resp, b := rawCall(t, s, "", "GET", "/v1/audit/checkpoint", nil)
	if resp.StatusCode != 404 || errorCode(t, b) != "no_checkpoint" {
		t.Fatalf("before the first checkpoint: %d %s", resp.StatusCode, b)
	}
	if _, err := s.client(t, "user:alice").Submit(ctx, wireHealth()); err != nil {
		t.Fatal(err)
	}
	_, err := s.client(t, "user:alice").SignAuditCheckpoint(ctx)
	wantCode(t, err, 403, "forbidden")
	signed, err := s.client(t, "user:erin").SignAuditCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, b = rawCall(t, s, "", "GET", "/v1/audit/checkpoint", nil)
	var got wire.AuditCheckpoint
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil || got != *signed {
		t.Fatalf("latest: %d %s, signed %+v", resp.StatusCode, b, signed)
	}
	sc := audit.SignedCheckpoint{Text: []byte(got.Checkpoint), Signature: []byte(got.Signature)}
	if sc.Checkpoint, err = audit.ParseCheckpoint(sc.Text); err != nil || sc.Verify(key.PublicKey()) != nil || sc.Seq != got.Seq {
		t.Fatalf("the served checkpoint does not verify with the audit key: %v", err)
	}
	keys, err := s.client(t, "user:erin").CAKeys(ctx)
	if err != nil || !strings.HasPrefix(keys.Audit, string(ssh.MarshalAuthorizedKey(key.PublicKey()))[:60]) {
		t.Fatalf("/v1/ca audit key %q: %v", keys.Audit, err)
	}
	resp, b = rawCall(t, s, "user:erin", "POST", "/v1/audit/checkpoint", []byte(`{"seq":1}`))
	if resp.StatusCode != 400 || errorCode(t, b) != "bad_request" {
		t.Fatalf("a body with fields: %d %s", resp.StatusCode, b)
	}
}

// The chain route gives rows as stored, so a client can check every hash.
func TestAuditChainServesRowsThatVerify(t *testing.T) {
	s := newServer(t)
	withCheckpoints(t, s)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := s.client(t, "user:alice").Submit(ctx, wireHealth()); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.client(t, "user:erin").AuditChain(ctx, 0, 1000)
	if err != nil || len(rows) < 3 {
		t.Fatalf("%d rows: %v", len(rows), err)
	}
	var v audit.Verifier
	for _, r := range rows {
		if err := v.Next(r); err != nil {
			t.Fatalf("row %d as served does not verify: %v", r.Seq, err)
		}
	}
	_, err = s.client(t, "user:alice").AuditChain(ctx, 0, 10)
	wantCode(t, err, 403, "forbidden")
	resp, b := rawCall(t, s, "user:erin", "GET", "/v1/audit/chain?limit=0", nil)
	if resp.StatusCode != 400 {
		t.Fatalf("limit 0: %d %s", resp.StatusCode, b)
	}
}
