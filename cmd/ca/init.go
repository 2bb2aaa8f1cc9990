package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

func initCmd() *cobra.Command {
	var dir, keyType string
	c := &cobra.Command{
		Use:   "init --data DIR [--key-type ed25519|ecdsa-p256]",
		Short: "Make the user, hop and host CA keys, the audit key and the secrets key",
		Long: `init makes the keys the CA needs in DIR: user_ca, hop_ca and host_ca (the
three CAs), audit_key (signs audit checkpoints) and secrets.key (seals
secrets at rest). A key that is already there is kept, never replaced: run
init again on an existing data directory to add a key a newer version
needs (audit_key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, name := range []string{userCAFile, hopCAFile, hostCAFile, auditKeyFile} {
				path := filepath.Join(dir, name)
				if exists(path) || exists(path+".pub") {
					fmt.Fprintln(out, path, "(kept)")
					continue
				}
				key, err := sshcert.GenerateKey(sshcert.KeyType(keyType), rand.Reader)
				if err != nil {
					return err
				}
				if err := sshcert.WriteKeyFiles(path, key, "lockbox "+name); err != nil {
					return fmt.Errorf("writing %s: %w", path, err)
				}
				fmt.Fprintln(out, path)
			}
			path := filepath.Join(dir, secretsFile)
			if exists(path) {
				fmt.Fprintln(out, path, "(kept)")
				return nil
			}
			if err := secretbox.GenerateKeyFile(path); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			fmt.Fprintln(out, path)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "/var/lib/lockbox", "data directory")
	c.Flags().StringVar(&keyType, "key-type", "ed25519", "CA key type: ed25519 or ecdsa-p256")
	return c
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
