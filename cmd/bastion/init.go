package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// The files in the data directory.
const (
	hostKeyFile  = "host_key" // + host_key-cert.pub from `ca sign-host`
	identityFile = "identity" // registered in the policy's bastions
)

func initCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "init --data DIR",
		Short: "Make the bastion's host key and its identity key for the CA",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			for _, name := range []string{hostKeyFile, identityFile} {
				key, err := sshcert.GenerateKey(sshcert.KeyEd25519, rand.Reader)
				if err != nil {
					return err
				}
				if err := sshcert.WriteKeyFiles(filepath.Join(dir, name), key, "lockbox bastion "+name); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "host key:     %s.pub  (certify it: ca sign-host --host-key %s.pub --hostname NAME)\n",
				filepath.Join(dir, hostKeyFile), filepath.Join(dir, hostKeyFile))
			fmt.Fprintf(out, "identity key: %s.pub  (register it under bastions: in the policy)\n", filepath.Join(dir, identityFile))
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "/var/lib/lockbox-bastion", "data directory")
	return c
}
