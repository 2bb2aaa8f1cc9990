package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/evidence"
)

func (a *app) evidenceCmd() *cobra.Command {
	var bundle, keyFile string
	c := &cobra.Command{
		Use:   "evidence REQUEST [--bundle DIR] [--audit-key FILE]",
		Short: "Show the evidence of one grant, with its proof in the audit chain; --bundle writes it for an auditor (auditors)",
		Long: `evidence has the CA sign a checkpoint of the audit log now, reads the chain
up to it (checking every row against the checkpoint, which is checked
against the audit key: --audit-key, or the one the CA serves), and prints
what the rows say of the request: its submission, approvals (who, when,
reason), decisions, the certificates issued for it, its sessions and their
recordings (size, SHA-256), each with its audit row, and which rows of the
chain prove it.

--bundle DIR writes all of it, recordings and certificates included, into
a new directory with a manifest of every file's SHA-256, which
` + "`lockbox evidence verify DIR`" + ` checks offline with only the CA's public
keys. See docs/evidence.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			b, proof, err := a.collectEvidence(cmd.Context(), cl, args[0], keyFile)
			if err != nil {
				return err
			}
			var s *evidence.Summary
			if bundle != "" {
				if s, err = evidence.Write(bundle, b); err != nil {
					return err
				}
			} else if s, err = evidence.Summarize(b.Request, b.Segment, b.Checkpoint.Checkpoint); err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(s)
			}
			a.printEvidence(s)
			fmt.Fprintln(a.out, proof)
			if bundle != "" {
				fmt.Fprintf(a.out, "bundle written to %s; check it with: lockbox evidence verify %s --audit-key AUDIT_KEY.pub --user-ca USER_CA.pub\n", bundle, bundle)
			}
			return nil
		},
	}
	c.Flags().StringVar(&bundle, "bundle", "", "write the evidence, recordings included, into this new directory")
	c.Flags().StringVar(&keyFile, "audit-key", "", "the audit public key to check the checkpoint with (default: the one the CA serves)")
	c.AddCommand(a.evidenceVerifyCmd())
	return c
}

// collectEvidence signs a checkpoint, reads and checks the chain up to it,
// and returns the request's segment, with a sentence saying what proves it.
func (a *app) collectEvidence(ctx context.Context, cl *client.Client, id, keyFile string) (evidence.Bundle, string, error) {
	w, err := cl.SignAuditCheckpoint(ctx)
	if err != nil {
		return evidence.Bundle{}, "", fmt.Errorf("signing a checkpoint for the evidence: %w", err)
	}
	key, fromCA, err := a.auditKey(ctx, cl, keyFile)
	if err != nil {
		return evidence.Bundle{}, "", err
	}
	sc := audit.SignedCheckpoint{Text: []byte(w.Checkpoint), Signature: []byte(w.Signature)}
	if sc.Checkpoint, err = audit.ParseCheckpoint(sc.Text); err != nil {
		return evidence.Bundle{}, "", fmt.Errorf("the CA's checkpoint: %w", err)
	}
	if err := sc.Verify(key); err != nil {
		return evidence.Bundle{}, "", fmt.Errorf("the CA's checkpoint: %w", err)
	}
	seg, err := requestSegment(ctx, cl.AuditChain, id, sc.Checkpoint)
	if err != nil {
		return evidence.Bundle{}, "", err
	}
	from := "--audit-key"
	if fromCA {
		from = "the key the CA serves; pin it with --audit-key"
	}
	proof := fmt.Sprintf("proof: audit rows %d to %d chain to the checkpoint of %s, signed by audit key %s (%s)",
		seg[0].Seq, seg[len(seg)-1].Seq, sc.Checkpoint, ssh.FingerprintSHA256(key), from)
	b := evidence.Bundle{Request: id, Segment: seg, Checkpoint: sc, Recording: func(session string) (io.ReadCloser, error) {
		data, err := cl.Recording(ctx, session)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
	return b, proof, nil
}

// requestSegment walks the chain from its first row to the checkpoint's,
// checking every row against the checkpoint, and returns the rows from
// request id's submission on.
func requestSegment(ctx context.Context, rows chainSource, id string, cp audit.Checkpoint) ([]audit.Record, error) {
	var v audit.Verifier
	if err := v.Anchor(cp); err != nil {
		return nil, err
	}
	var seg []audit.Record
	for after := int64(0); after < cp.Seq; {
		page, err := rows(ctx, after, chainPage)
		if err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.Seq > cp.Seq {
				break
			}
			if err := v.Next(r); err != nil {
				return nil, err
			}
			if seg != nil || (r.Subject == id && r.Action == "request.submitted") {
				seg = append(seg, r)
			}
			after = r.Seq
		}
	}
	if _, err := v.End(cp.Seq, cp.Hash); err != nil {
		return nil, err
	}
	if seg == nil {
		return nil, fmt.Errorf("the audit log holds no request %s", clean(id))
	}
	return seg, nil
}

func (a *app) evidenceVerifyCmd() *cobra.Command {
	var auditKey, userCA, hopCA string
	c := &cobra.Command{
		Use:   "verify DIR --audit-key FILE [--user-ca FILE] [--hop-ca FILE]",
		Short: "Check an evidence bundle offline with the CA's public keys",
		Long: `verify checks a bundle that ` + "`lockbox evidence --bundle`" + ` wrote, with nothing but
the public keys given (it does not talk to the CA): every file against the
manifest, the checkpoint's signature (--audit-key), the audit rows' chain
up to the checkpoint, the summary against what the rows say, each
certificate against its row and its CA (--user-ca; --hop-ca for the
bastion's hop certificates, whose signatures are otherwise not checked),
and each recording against the SHA-256 its row stored. It names every
file that fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if auditKey == "" {
				return usageError{"--audit-key is required: the CA's audit_key.pub, obtained outside the bundle"}
			}
			var keys evidence.Keys
			var err error
			if keys.Audit, err = auditKeyFrom(auditKey); err != nil {
				return err
			}
			if keys.UserCA, err = publicKeysFrom(userCA, "user CA"); err != nil {
				return err
			}
			if keys.HopCA, err = publicKeysFrom(hopCA, "hop CA"); err != nil {
				return err
			}
			rep, err := evidence.Verify(args[0], keys)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(rep)
			}
			a.printEvidence(rep.Summary)
			fmt.Fprintf(a.out, "the bundle verifies: %d files; audit rows %d to %d chain to the checkpoint of row %d at %s, signed by audit key %s\n",
				rep.Files, rep.Summary.Segment.First, rep.Summary.Segment.Last, rep.Summary.Checkpoint.Seq,
				rep.Summary.Checkpoint.Time.Format(time.RFC3339), ssh.FingerprintSHA256(keys.Audit))
			for _, n := range rep.Notes {
				fmt.Fprintln(a.out, "note:", n)
			}
			return nil
		},
	}
	c.Flags().StringVar(&auditKey, "audit-key", "", "the CA's audit public key (audit_key.pub)")
	c.Flags().StringVar(&userCA, "user-ca", "", "the CA's user CA public keys, one a line")
	c.Flags().StringVar(&hopCA, "hop-ca", "", "the CA's hop CA public keys, one a line")
	return c
}

// publicKeysFrom reads the public keys in path, one a line; none if path
// is empty.
func publicKeysFrom(path, what string) ([]ssh.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the %s key: %w", what, err)
	}
	var keys []ssh.PublicKey
	for rest := bytes.TrimSpace(data); len(rest) > 0; {
		var k ssh.PublicKey
		if k, _, _, rest, err = ssh.ParseAuthorizedKey(rest); err != nil {
			return nil, fmt.Errorf("%s: not a %s public key: %w", path, what, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New(path + ": holds no public key")
	}
	return keys, nil
}

// printEvidence prints a summary for people; all its text is from the
// audit log, so it is shown inert.
func (a *app) printEvidence(s *evidence.Summary) {
	w := a.out
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	r := s.Request
	fmt.Fprintf(w, "request %s: %s asked for %s on %s for %s (audit row %d)\n", clean(r.ID), clean(r.User), clean(r.Role),
		clean(strings.Join(r.Resources, ",")), clean(r.Duration), r.Seq)
	fmt.Fprintf(w, "  submitted %s by %s; reason \"%s\"; ticket \"%s\"\n", ts(r.SubmittedAt), clean(r.SubmittedBy), clean(r.Reason), clean(r.Ticket))
	fmt.Fprintln(w, "approvals:")
	for _, ap := range s.Approvals {
		fmt.Fprintf(w, "  %s at %s: \"%s\" (audit row %d)\n", clean(ap.By), ts(ap.At), clean(ap.Reason), ap.Seq)
	}
	fmt.Fprintln(w, "decisions:")
	for _, d := range s.Decisions {
		fmt.Fprintf(w, "  %s by %s at %s", clean(d.Action), clean(d.By), ts(d.At))
		if !d.NotBefore.IsZero() {
			fmt.Fprintf(w, ", window %s to %s", ts(d.NotBefore), ts(d.NotAfter))
		}
		if d.Reason != "" {
			fmt.Fprintf(w, ": \"%s\"", clean(d.Reason))
		}
		fmt.Fprintf(w, " (audit row %d)\n", d.Seq)
	}
	fmt.Fprintln(w, "certificates:")
	for _, c := range s.Certificates {
		fmt.Fprintf(w, "  %s serial %s, key ID %s, principals %s, valid %s to %s, key %s, issued to %s at %s (audit row %d)\n",
			clean(c.Kind), clean(c.Serial), clean(c.KeyID), clean(strings.Join(c.Principals, ",")), ts(c.ValidAfter), ts(c.ValidBefore),
			clean(c.Fingerprint), clean(c.IssuedTo), ts(c.IssuedAt), c.Seq)
	}
	fmt.Fprintln(w, "sessions:")
	for _, se := range s.Sessions {
		fmt.Fprintf(w, "  %s: %s on %s from %s via %s, command \"%s\", started %s (audit row %d)\n", clean(se.ID), clean(se.User),
			clean(se.Resource), clean(se.Client), clean(se.Bastion), clean(se.Command), ts(se.StartedAt), se.StartSeq)
		if se.EndSeq != 0 {
			fmt.Fprintf(w, "    ended %s: %s", ts(se.EndedAt), clean(se.EndReason))
			if se.ExitStatus != nil {
				fmt.Fprintf(w, ", exit status %d", *se.ExitStatus)
			}
			fmt.Fprintf(w, " (audit row %d)\n", se.EndSeq)
		} else {
			fmt.Fprintln(w, "    still open at the checkpoint")
		}
		if rec := se.Recording; rec != nil {
			fmt.Fprintf(w, "    recording %d bytes, SHA-256 %s, stored %s (audit row %d)\n", rec.Size, clean(rec.SHA256), ts(rec.At), rec.Seq)
		} else {
			fmt.Fprintln(w, "    no recording stored before the checkpoint")
		}
	}
	if len(s.Other) > 0 {
		fmt.Fprintln(w, "other rows:")
		for _, o := range s.Other {
			fmt.Fprintf(w, "  %s by %s on %s at %s (audit row %d)\n", clean(o.Action), clean(o.Actor), clean(o.Subject), ts(o.At), o.Seq)
		}
	}
}
