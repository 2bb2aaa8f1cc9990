package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

func testChain(t *testing.T, n int) []audit.Record {
	t.Helper()
	var recs []audit.Record
	seq, hash := int64(0), audit.Genesis
	for i := 0; i < n; i++ {
		r, err := audit.Seal(seq, hash, audit.Event{Time: time.Unix(int64(1e9+i), 0), Actor: "user:alice", Action: "request.submitted", Subject: "req"})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		seq, hash = r.Seq, r.Hash
	}
	return recs
}

func signedAt(t *testing.T, key ssh.Signer, recs []audit.Record, upTo int) audit.SignedCheckpoint {
	t.Helper()
	seq, hash := int64(0), audit.Genesis
	if upTo > 0 {
		seq, hash = recs[upTo-1].Seq, recs[upTo-1].Hash
	}
	c, err := audit.NewCheckpoint(seq, hash, time.Unix(2e9, 0))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := audit.SignCheckpoint(c, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func testKey(t *testing.T) ssh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pages serves recs like GET /v1/audit/chain and counts the calls.
func pages(recs []audit.Record, calls *int) chainSource {
	return func(_ context.Context, after int64, limit int) ([]audit.Record, error) {
		*calls++
		var out []audit.Record
		for _, r := range recs {
			if r.Seq > after && len(out) < limit {
				out = append(out, r)
			}
		}
		return out, nil
	}
}

// The three forms a checkpoint is kept in all read back.
func TestLoadCheckpointsReadsBundlesPairsAndDirectories(t *testing.T) {
	key := testKey(t)
	recs := testChain(t, 4)
	a, b := signedAt(t, key, recs, 2), signedAt(t, key, recs, 4)
	dir := t.TempDir()
	bundles := filepath.Join(dir, "checkpoints.txt")
	os.WriteFile(bundles, append(a.Bundle(), b.Bundle()...), 0o644)
	pairs := filepath.Join(dir, "pairs")
	os.Mkdir(pairs, 0o755)
	for i, sc := range []audit.SignedCheckpoint{a, b} {
		name := filepath.Join(pairs, "checkpoint-"+string(rune('a'+i)))
		if err := writeCheckpointPair(name, sc); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeCheckpointPair(filepath.Join(pairs, "checkpoint-a"), a); err == nil {
		t.Fatal("a saved checkpoint was overwritten")
	}
	for _, path := range []string{bundles, pairs, filepath.Join(pairs, "checkpoint-b")} {
		got, err := loadCheckpoints(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cps, err := verifyCheckpoints(got, key.PublicKey(), path)
		if err != nil || newest(cps).Seq != 4 {
			t.Fatalf("%s: %d checkpoints, newest %v: %v", path, len(cps), newest(cps), err)
		}
	}
	if _, err := verifyCheckpoints([]audit.SignedCheckpoint{a}, testKey(t).PublicKey(), "x"); !errors.Is(err, audit.ErrCheckpointSignature) {
		t.Fatalf("another key: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := loadCheckpoints(empty); err == nil {
		t.Fatal("an empty directory gave checkpoints")
	}
}

// The walk here pages through the rows, stops at the head the CA
// reported, and catches a log cut back below a checkpoint.
func TestCheckAnchoredWalksToTheHeadAndCatchesACutLog(t *testing.T) {
	key := testKey(t)
	recs := testChain(t, 12)
	cp := signedAt(t, key, recs, 10).Checkpoint
	calls := 0
	// Two more rows written after the CA reported head 10: not checked.
	if n, err := checkAnchored(context.Background(), pages(recs, &calls), []audit.Checkpoint{cp}, 10, recs[9].Hash); err != nil || n != 10 {
		t.Fatalf("%d rows: %v", n, err)
	}
	cut := recs[:7]
	_, err := checkAnchored(context.Background(), pages(cut, &calls), []audit.Checkpoint{cp}, 7, cut[6].Hash)
	if !errors.Is(err, audit.ErrCheckpointMismatch) {
		t.Fatalf("a log cut to row 7 with its head rewound: %v", err)
	}
	if n, err := checkAnchored(context.Background(), pages(nil, &calls), nil, 0, nil); err != nil || n != 0 {
		t.Fatalf("an empty log: %d %v", n, err)
	}
}
