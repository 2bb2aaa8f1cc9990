package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/cakeys"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

const breakGlassLong = `break-glass signs, offline on the CA host, a short certificate that lets a
person reach one resource through a bastion whose config says
break_glass: true, while the CA or its database is down. It reads the user
and hop CA keys and the policy from their files; it needs no database and no
running CA. The certificate lasts at most 1h and carries the extension
break-glass@lockbox (who, why, the target, and a hop certificate for the
bastion's registered identity key); the bastion asks for no TOTP code.

Every issuance is appended to DATA/break-glass.log before the certificate is
written; ca serve audits it (breakglass.issued) when it starts again.
docs/operations.md ("Break-glass") has the runbook.`

func breakGlassCmd() *cobra.Command {
	var user, reason, resource, role, pubkey, out, bastion string
	var duration time.Duration
	c := &cobra.Command{
		Use:   "break-glass --user WHO --reason WHY --resource RES [--role ROLE] --duration D --pubkey FILE",
		Short: "Sign an emergency certificate offline, while the CA is down (at most 1h, audited when it is back)",
		Long:  breakGlassLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if duration > breakglass.MaxDuration {
				return fmt.Errorf("--duration %s: a break-glass certificate lasts at most %s", duration, breakglass.MaxDuration)
			}
			p, err := policy.LoadDir(cfg.Policy)
			if err != nil {
				return err
			}
			key, err := readPublicKey(pubkey)
			if err != nil {
				return fmt.Errorf("--pubkey: %w", err)
			}
			req, err := breakGlassRequest(p, user, reason, resource, role, bastion, duration, key)
			if err != nil {
				return err
			}
			userCA, err := cakeys.Load(cfg.Data, cakeys.User)
			if err != nil {
				return err
			}
			hopCA, err := cakeys.Load(cfg.Data, cakeys.Hop)
			if err != nil {
				return err
			}
			cert, g, err := breakglass.Issue(req, userCA.Signer, hopCA.Signer, time.Now(), time.Minute, rand.Reader)
			if err != nil {
				return err
			}
			if err := breakglass.AppendRecord(cfg.Data, breakglass.NewRecord(cert, g, operatorName())); err != nil {
				return fmt.Errorf("not signed: %w", err)
			}
			out = cmp.Or(out, strings.TrimSuffix(pubkey, ".pub")+"-cert.pub")
			if err := os.WriteFile(out, ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
				return fmt.Errorf("writing the certificate (its issuance is recorded): %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "BREAK-GLASS certificate for %s, %s on %s through %s, until %s (serial %d): %s\n"+
				"It is recorded in %s/%s and will be audited when the CA is back.\n"+
				"Connect: ssh -i %s -o CertificateFile=%s -p PORT %s@BASTION\n",
				g.User, g.Role, g.Resource, g.Bastion, g.NotAfter.Format(time.RFC3339), cert.Serial, out,
				cfg.Data, breakglass.RecordFile, strings.TrimSuffix(pubkey, ".pub"), out, g.Resource)
			return nil
		},
	}
	addServeFlags(c.Flags())
	f := c.Flags()
	f.StringVar(&user, "user", "", "who the certificate is for (a user in the policy)")
	f.StringVar(&reason, "reason", "", "why: the emergency, in a sentence")
	f.StringVar(&resource, "resource", "", "the resource to reach")
	f.StringVar(&role, "role", "", "the role on it (default: the policy's only role, if it has one)")
	f.DurationVar(&duration, "duration", 0, "how long the certificate lasts, at most 1h")
	f.StringVar(&pubkey, "pubkey", "", "the person's public key file")
	f.StringVar(&bastion, "bastion", "", "the bastion to go through (default: the policy's only bastion, if it has one)")
	f.StringVar(&out, "out", "", "where to write the certificate (default: PUBKEY without .pub, then -cert.pub)")
	for _, name := range []string{"user", "reason", "resource", "duration", "pubkey"} {
		c.MarkFlagRequired(name) //nolint:errcheck // the flags exist
	}
	return c
}

// breakGlassRequest fills a break-glass request from the policy: the role's
// login and force-command, the resource's address and pinned host key, the
// bastion's identity key and egress, as for a normal grant.
func breakGlassRequest(p *policy.Policy, user, reason, resource, role, bastion string, d time.Duration, key ssh.PublicKey) (breakglass.Request, error) {
	if p.Users[user] == nil {
		return breakglass.Request{}, fmt.Errorf("--user %q is not a user in the policy", user)
	}
	res := p.Resources[resource]
	if res == nil {
		return breakglass.Request{}, fmt.Errorf("--resource %q is not a resource in the policy", resource)
	}
	var err error
	if role, err = onlyOne("--role", role, p.Roles); err != nil {
		return breakglass.Request{}, err
	}
	r := p.Roles[role]
	if r == nil {
		return breakglass.Request{}, fmt.Errorf("--role %q is not a role in the policy", role)
	}
	if bastion, err = onlyOne("--bastion", bastion, p.Bastions); err != nil {
		return breakglass.Request{}, err
	}
	b := p.Bastions[bastion]
	if b == nil || len(b.Keys) == 0 {
		return breakglass.Request{}, fmt.Errorf("--bastion %q is not a bastion with a key in the policy", bastion)
	}
	if err := sshcert.CheckSubjectKey(key); err != nil {
		return breakglass.Request{}, fmt.Errorf("--pubkey: %w", err)
	}
	var hostKey string
	if res.HostKey != nil {
		hostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(res.HostKey)))
	}
	return breakglass.Request{User: user, Reason: reason, Role: role, Resource: resource, Duration: d, Key: key,
		Login: r.Login, Address: res.Address, HostKey: hostKey, ForceCommand: r.CertForceCommand(),
		Interactive: r.Interactive, Bastion: b.Name, BastionKey: b.Keys[0], Egress: prefixes(b)}, nil
}

func onlyOne[V any](flag, name string, m map[string]V) (string, error) {
	if name != "" {
		return name, nil
	}
	if len(m) != 1 {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", fmt.Errorf("%s is needed: the policy has %s", flag, strings.Join(names, ", "))
	}
	for n := range m {
		return n, nil
	}
	return "", errors.New("unreachable")
}

func prefixes(b *policy.Bastion) []string {
	out := make([]string, len(b.Egress))
	for i, p := range b.Egress {
		out[i] = p.String()
	}
	return out
}

// auditBreakGlass audits breakglass.issued, and notifies break_glass,
// for every issuance in DATA/break-glass.log not audited yet
// (DATA/break-glass.audited counts those that are), at CA start. It audits at least once: a crash between
// the audit row and the count audits the rest again at the next start.
func auditBreakGlass(ctx context.Context, dir string, svc *workflow.Service, log *slog.Logger) {
	records, rerr := breakglass.ReadRecords(dir)
	done, err := breakglass.Audited(dir)
	if err != nil {
		log.Error("break-glass record: cannot read what was audited; auditing nothing", "err", err)
		return
	}
	for i := done; i < len(records); i++ {
		r := records[i]
		if err := svc.RecordBreakGlassIssued(ctx, r); err != nil {
			log.Error("break-glass record: cannot audit; trying again at the next start", "serial", r.Serial, "err", err)
			return
		}
		if err := breakglass.SetAudited(dir, i+1); err != nil {
			log.Error("break-glass record: cannot note what was audited", "err", err)
			return
		}
		log.Warn("BREAK-GLASS certificate was issued while the CA was down; audited", "user", r.User, "resource", r.Resource,
			"reason", r.Reason, "serial", r.Serial)
	}
	if rerr != nil {
		log.Error("break-glass record: a line does not read; the records after it are not audited", "err", rerr)
	}
}
