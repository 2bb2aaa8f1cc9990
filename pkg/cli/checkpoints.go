package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/auditsink"
)

// loadCheckpoints reads the signed checkpoints at path (a directory of
// NAME and NAME.sig pairs, a text with path.sig beside it, or a file of
// bundles: auditsink.Read), and refuses a directory that holds none. It
// checks their form, not their signatures.
func loadCheckpoints(path string) ([]audit.SignedCheckpoint, error) {
	cps, err := auditsink.Read(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() && len(cps) == 0 {
		return nil, fmt.Errorf("%s: no checkpoints (NAME with NAME.sig) in it", path)
	}
	return cps, nil
}

// verifyCheckpoints checks every signature against the audit key and
// returns the checkpoints, or the first one that fails, by its place.
func verifyCheckpoints(signed []audit.SignedCheckpoint, key ssh.PublicKey, where string) ([]audit.Checkpoint, error) {
	out := make([]audit.Checkpoint, 0, len(signed))
	for i, sc := range signed {
		if err := sc.Verify(key); err != nil {
			return nil, fmt.Errorf("%s, checkpoint %d of %d (%s): %w", where, i+1, len(signed), sc.Checkpoint, err)
		}
		out = append(out, sc.Checkpoint)
	}
	return out, nil
}

// chainSource pages through the audit rows as the CA stores them.
type chainSource func(ctx context.Context, after int64, limit int) ([]audit.Record, error)

// chainPage is how many rows each call asks for.
const chainPage = 5000

// checkAnchored walks the chain here, from row 1 to the head the CA
// reported (rows written since are left to the next verification), and
// checks every row's hash and link and every checkpoint. It returns the
// rows checked, or a *audit.ChainError naming the first break.
func checkAnchored(ctx context.Context, rows chainSource, cps []audit.Checkpoint, headSeq int64, headHash []byte) (int64, error) {
	var v audit.Verifier
	for _, c := range cps {
		if err := v.Anchor(c); err != nil {
			return 0, err
		}
	}
	for after, done := int64(0), headSeq == 0; !done; {
		page, err := rows(ctx, after, chainPage)
		if err != nil {
			return 0, fmt.Errorf("reading the audit log: %w", err)
		}
		done = len(page) < chainPage
		for _, r := range page {
			if r.Seq > headSeq {
				done = true
				break
			}
			if err := v.Next(r); err != nil {
				return 0, err
			}
			after = r.Seq
		}
		done = done || after >= headSeq
	}
	if headHash == nil {
		headHash = audit.Genesis
	}
	return v.End(headSeq, headHash)
}

// auditKeyFrom reads the audit public key from an authorized_keys-style
// file (the CA's DATA/audit_key.pub).
func auditKeyFrom(path string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the audit key: %w", err)
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a public key (want a line like the CA's audit_key.pub): %w", path, err)
	}
	return key, nil
}

// newest is the checkpoint covering the most rows (the latest of those).
func newest(cps []audit.Checkpoint) audit.Checkpoint {
	var n audit.Checkpoint
	for _, c := range cps {
		if c.Seq > n.Seq || (c.Seq == n.Seq && c.Time.After(n.Time)) {
			n = c
		}
	}
	return n
}

var errNoAuditKey = errors.New("the CA names no audit key; pass --audit-key with the CA's audit_key.pub")
