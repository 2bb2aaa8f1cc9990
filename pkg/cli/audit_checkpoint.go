package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// anchorResult is what checking the chain against checkpoints found.
type anchorResult struct {
	Checkpoints int    `json:"checkpoints"`
	Newest      string `json:"newest_checkpoint"` // "row N at T"
	Key         string `json:"audit_key"`         // fingerprint
	KeyFromCA   bool   `json:"audit_key_from_ca"`
	Rows        int64  `json:"rows_checked_here"`
	Error       string `json:"error,omitempty"`
}

// checkCheckpoints verifies the checkpoints in files and walks the chain
// against them. A chain that does not hold them is a result (Error set),
// not an error; a checkpoint that is not the audit key's is an error.
func (a *app) checkCheckpoints(ctx context.Context, cl *client.Client, files []string, keyFile string, v *wire.AuditVerification) (*anchorResult, error) {
	key, fromCA, err := a.auditKey(ctx, cl, keyFile)
	if err != nil {
		return nil, err
	}
	var cps []audit.Checkpoint
	for _, f := range files {
		signed, err := loadCheckpoints(f)
		if err != nil {
			return nil, err
		}
		verified, err := verifyCheckpoints(signed, key, f)
		if err != nil {
			return nil, err
		}
		cps = append(cps, verified...)
	}
	res := &anchorResult{Checkpoints: len(cps), Newest: newest(cps).String(), Key: ssh.FingerprintSHA256(key), KeyFromCA: fromCA}
	head, err := hex.DecodeString(v.HeadHash)
	if err != nil {
		return nil, fmt.Errorf("the CA's head hash %q is not hex", v.HeadHash)
	}
	res.Rows, err = checkAnchored(ctx, cl.AuditChain, cps, v.HeadSeq, head)
	var ce *audit.ChainError
	switch {
	case errors.As(err, &ce):
		res.Error = ce.Error()
	case err != nil:
		return nil, err
	}
	return res, nil
}

// auditKey is the key in keyFile, or else the one the CA serves.
func (a *app) auditKey(ctx context.Context, cl *client.Client, keyFile string) (ssh.PublicKey, bool, error) {
	if keyFile != "" {
		k, err := auditKeyFrom(keyFile)
		return k, false, err
	}
	keys, err := cl.CAKeys(ctx)
	if err != nil {
		return nil, false, err
	}
	if keys.Audit == "" {
		return nil, false, errNoAuditKey
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(keys.Audit))
	if err != nil {
		return nil, false, fmt.Errorf("the CA's audit key: %w", err)
	}
	return k, true, nil
}

// reportVerification prints the result and fails if anything is broken.
func (a *app) reportVerification(v *wire.AuditVerification, anchored *anchorResult) error {
	if a.settings().JSON {
		out := struct {
			*wire.AuditVerification
			Anchored *anchorResult `json:"anchored,omitempty"`
		}{v, anchored}
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else if v.OK && (anchored == nil || anchored.Error == "") {
		fmt.Fprintf(a.out, "audit log intact: %d rows, head %d %s\n", v.Rows, v.HeadSeq, v.HeadHash)
		if anchored != nil {
			from := "--audit-key"
			if anchored.KeyFromCA {
				from = "the key the CA serves; pin it with --audit-key"
			}
			fmt.Fprintf(a.out, "holds %d signed checkpoints, the newest of %s (audit key %s, %s)\n",
				anchored.Checkpoints, anchored.Newest, anchored.Key, from)
		}
	}
	if anchored != nil && anchored.Error != "" {
		return fmt.Errorf("%s (checked here against %d signed checkpoints)", anchored.Error, anchored.Checkpoints)
	}
	if !v.OK {
		return fmt.Errorf("%s", v.Error)
	}
	return nil
}

func (a *app) auditCheckpointCmd() *cobra.Command {
	var sign bool
	var out, keyFile string
	c := &cobra.Command{
		Use:   "checkpoint [--new] [--out FILE] [--audit-key FILE]",
		Short: "Fetch the newest signed checkpoint of the audit log (--new: sign one now, auditors)",
		Long: `checkpoint prints the newest checkpoint the CA signed of the audit chain's
head: its text, then its armored SSH signature, the form that
` + "`lockbox audit verify --checkpoint`" + ` reads (append it to a file kept elsewhere).
With --out FILE it writes the text to FILE and the signature to FILE.sig,
as ssh-keygen -Y verify wants them. With --new the CA signs one of the head
now (auditors; audited). The checkpoint is checked against the audit key
(--audit-key, or the one the CA serves) before it is printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			get := cl.AuditCheckpoint
			if sign {
				get = cl.SignAuditCheckpoint
			}
			w, err := get(cmd.Context())
			if err != nil {
				return err
			}
			key, _, err := a.auditKey(cmd.Context(), cl, keyFile)
			if err != nil {
				return err
			}
			sc := audit.SignedCheckpoint{Text: []byte(w.Checkpoint), Signature: []byte(w.Signature)}
			if sc.Checkpoint, err = audit.ParseCheckpoint(sc.Text); err != nil {
				return fmt.Errorf("the CA's checkpoint: %w", err)
			}
			if err := sc.Verify(key); err != nil {
				return fmt.Errorf("the CA's checkpoint: %w", err)
			}
			switch {
			case out != "":
				return writeCheckpointPair(out, sc)
			case a.settings().JSON:
				return a.printJSON(w)
			}
			_, err = a.out.Write(sc.Bundle())
			return err
		},
	}
	c.Flags().BoolVar(&sign, "new", false, "have the CA sign a checkpoint of the head now (auditors)")
	c.Flags().StringVar(&out, "out", "", "write the text to FILE and the signature to FILE.sig (never overwritten)")
	c.Flags().StringVar(&keyFile, "audit-key", "", "the audit public key to check it with (default: the one the CA serves)")
	return c
}

// writeCheckpointPair writes path and path.sig, refusing to replace either.
func writeCheckpointPair(path string, sc audit.SignedCheckpoint) error {
	if err := writeNew(path+".sig", sc.Signature, 0o644); err != nil {
		return fmt.Errorf("writing the checkpoint: %w", err)
	}
	if err := writeNew(path, sc.Text, 0o644); err != nil {
		os.Remove(path + ".sig")
		return fmt.Errorf("writing the checkpoint: %w", err)
	}
	return nil
}
