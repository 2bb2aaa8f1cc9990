package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/cakeys"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

const rotateLong = `rotate changes one of the three CA keys (user, hop or host) with an overlap,
in up to three steps, each audited:

  ca rotate prepare KIND   make the next key; it is published (/v1/ca) and
                           trusted beside the current one, which still signs
  ca rotate KIND           sign every new certificate with the next key (made
                           now if not prepared); the replaced key's private
                           half is gone, its public half stays trusted
  ca rotate retire KIND    stop trusting the replaced key: its certificates
                           are refused from the next refresh on
  ca rotate status         show each CA's keys and where its rotation is

Each step changes the files in the data directory; the running CA takes
them on SIGHUP (systemctl reload), as it takes a new policy. With several
replicas, copy the KIND_ca* files to each and reload each. Prepare first
and wait until every bastion and target has fetched the next key before
signing with it: docs/operations.md has the runbook for each key.`

func rotateCmd() *cobra.Command {
	var keyType string
	c := &cobra.Command{
		Use:       "rotate user|hop|host",
		Short:     "Rotate a CA key with an overlap: prepare, rotate, retire (see ca rotate --help)",
		Long:      rotateLong,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"user", "hop", "host"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return rotateStep(cmd, args[0], "ca.key.rotated", func(dir string, kind cakeys.Kind, o cakeys.Options) (*cakeys.Key, map[string]any, error) {
				k, err := cakeys.Rotate(dir, kind, o)
				return k, nil, err
			})
		},
	}
	addServeFlags(c.PersistentFlags())
	c.PersistentFlags().StringVar(&keyType, "key-type", "", "type of the next key: ed25519 or ecdsa-p256 (default: the current key's)")
	prepare := &cobra.Command{
		Use:   "prepare user|hop|host",
		Short: "Make the next key of a CA: published and trusted, signing nothing yet",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rotateStep(cmd, args[0], "ca.key.prepared", func(dir string, kind cakeys.Kind, o cakeys.Options) (*cakeys.Key, map[string]any, error) {
				k, err := cakeys.Prepare(dir, kind, o)
				return k, nil, err
			})
		},
	}
	retire := &cobra.Command{
		Use:   "retire user|hop|host",
		Short: "Stop trusting the key a rotation replaced",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rotateStep(cmd, args[0], "ca.key.retired", func(dir string, kind cakeys.Kind, o cakeys.Options) (*cakeys.Key, map[string]any, error) {
				before, err := cakeys.Load(dir, kind)
				if err != nil {
					return nil, nil, err
				}
				k, file, err := cakeys.Retire(dir, kind, o)
				if err != nil {
					return nil, nil, err
				}
				return k, map[string]any{"retired": ssh.FingerprintSHA256(before.Previous), "file": file}, nil
			})
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show each CA's keys and where its rotation is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			for _, kind := range cakeys.Kinds {
				k, err := cakeys.Load(cfg.Data, kind)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%-4s  %v\n", kind, err)
					continue
				}
				printKey(cmd.OutOrStdout(), k)
			}
			return nil
		},
	}
	c.AddCommand(prepare, retire, status)
	return c
}

func printKey(w io.Writer, k *cakeys.Key) {
	fmt.Fprintf(w, "%-4s  %-8s  signing %s", k.Kind, k.Phase(), ssh.FingerprintSHA256(k.Signer.PublicKey()))
	if k.Next != nil {
		fmt.Fprintf(w, "  next %s", ssh.FingerprintSHA256(k.Next))
	}
	if k.Previous != nil {
		fmt.Fprintf(w, "  previous %s", ssh.FingerprintSHA256(k.Previous))
	}
	fmt.Fprintln(w)
}

type keyStep func(dir string, kind cakeys.Kind, o cakeys.Options) (*cakeys.Key, map[string]any, error)

// rotateStep runs one step on the data directory and audits it. The store
// is opened first, so that a step is not taken when it cannot be audited;
// the audit row needs the whole service, which loads the keys the step
// left.
func rotateStep(cmd *cobra.Command, arg, action string, step keyStep) error {
	kind, err := cakeys.ParseKind(arg)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	keyType, _ := cmd.Flags().GetString("key-type")
	db, err := openStore(cfg.Store)
	if err != nil {
		return fmt.Errorf("opening the %s store (a key step is taken only when it can be audited): %w", cfg.Store.Driver, err)
	}
	if err := db.Ping(cmd.Context()); err != nil {
		db.Close()
		return fmt.Errorf("the %s store does not answer (a key step is taken only when it can be audited): %w", cfg.Store.Driver, err)
	}
	db.Close()
	k, extra, err := step(cfg.Data, kind, cakeys.Options{KeyType: sshcert.KeyType(keyType), Rand: rand.Reader, Now: time.Now()})
	if err != nil {
		auditKeyRefusal(cmd, cfg, kind, fmt.Errorf("%s: %w", cmd.CommandPath(), err))
		return err
	}
	out := cmd.OutOrStdout()
	printKey(out, k)
	svc, _, _, db, err := buildService(cfg)
	if err == nil {
		defer db.Close()
		err = svc.RecordKeyStep(cmd.Context(), operatorName(), action, string(kind), k.Signer.PublicKey(), k.Trusted(), extra)
	}
	if err != nil {
		return fmt.Errorf("the %s key step is done but could not be audited (the CA audits the keys it loads at the next reload): %w", kind, err)
	}
	fmt.Fprintf(out, "audited as %s; reload the running CA (SIGHUP) to use it\n", action)
	return nil
}

// auditKeyRefusal records a refused key step as ca.key.refused, when the
// keys on disk still let the service be built (a step interrupted by a
// crash does not); otherwise it says on stderr that it could not.
func auditKeyRefusal(cmd *cobra.Command, cfg *config, kind cakeys.Kind, reason error) {
	svc, _, _, db, err := buildService(cfg)
	if err == nil {
		defer db.Close()
		if rerr := svc.RecordRefusal(cmd.Context(), workflow.Actor("operator:"+operatorName()), "ca.key.refused", string(kind), reason); !errors.Is(rerr, reason) {
			err = rerr
		}
	}
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "ca: the refused step could not be audited:", err)
	}
}

// reloadKeysOnHUP loads the CA keys again on SIGHUP and hands the workflow
// those that changed. Keys that fail to load, or that the workflow
// refuses, are logged and the ones in use stay.
func reloadKeysOnHUP(ctx context.Context, svc *workflow.Service, dir string, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reloadKeys(ctx, svc, dir, log)
		}
	}
}

func reloadKeys(ctx context.Context, svc *workflow.Service, dir string, log *slog.Logger) {
	keys, err := loadKeys(dir)
	if err != nil {
		log.Error("CA key reload failed; keeping the keys in use", "err", err)
		auditReloadRefusal(ctx, svc, err, log)
		return
	}
	next := keys.authorities()
	if sameAuthorities(svc.Authorities(), next) {
		return
	}
	if err := svc.SetAuthorities(ctx, "system", next); err != nil {
		log.Error("CA key reload refused; keeping the keys in use", "err", err)
		auditReloadRefusal(ctx, svc, err, log)
		return
	}
	log.Info("CA keys reloaded", "user", fingerprints(next.UserKeys()), "hop", fingerprints(next.HopKeys()), "host", fingerprints(next.HostKeys()))
}

// auditReloadRefusal records a refused key reload as ca.keys.refused.
func auditReloadRefusal(ctx context.Context, svc *workflow.Service, reason error, log *slog.Logger) {
	if err := svc.RecordRefusal(ctx, "system", "ca.keys.refused", "ca", reason); !errors.Is(err, reason) {
		log.Error("auditing the refused CA key reload", "err", err)
	}
}

func sameAuthorities(a, b workflow.Authorities) bool {
	return sameKeys(a.UserKeys(), b.UserKeys()) && sameKeys(a.HopKeys(), b.HopKeys()) && sameKeys(a.HostKeys(), b.HostKeys())
}

func sameKeys(a, b []ssh.PublicKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i].Marshal()) != string(b[i].Marshal()) {
			return false
		}
	}
	return true
}

func fingerprints(keys []ssh.PublicKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = ssh.FingerprintSHA256(k)
	}
	return out
}
