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
		Short: "Make the user, hop and host CA keys and the secrets key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			for _, name := range []string{userCAFile, hopCAFile, hostCAFile} {
				key, err := sshcert.GenerateKey(sshcert.KeyType(keyType), rand.Reader)
				if err != nil {
					return err
				}
				path := filepath.Join(dir, name)
				if err := sshcert.WriteKeyFiles(path, key, "lockbox "+name); err != nil {
					return fmt.Errorf("writing %s: %w", path, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), path)
			}
			path := filepath.Join(dir, secretsFile)
			if err := secretbox.GenerateKeyFile(path); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "/var/lib/lockbox", "data directory")
	c.Flags().StringVar(&keyType, "key-type", "ed25519", "CA key type: ed25519 or ecdsa-p256")
	return c
}
