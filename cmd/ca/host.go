package main

import (
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

func signHostCmd() *cobra.Command {
	var hostKey string
	var hostnames []string
	var validity time.Duration
	c := &cobra.Command{
		Use:   "sign-host --host-key PATH.pub --hostname NAME [--hostname NAME...] [--validity 720h]",
		Short: "Certify a host key (bastion or target) with the host CA; writes PATH-cert.pub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			data, err := os.ReadFile(hostKey)
			if err != nil {
				return err
			}
			pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
			if err != nil {
				return fmt.Errorf("%s: %w", hostKey, err)
			}
			svc, _, _, db, err := buildService(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			cert, err := svc.IssueHostCert(cmd.Context(), operatorName(), pub, hostnames, validity)
			if err != nil {
				return err
			}
			out := strings.TrimSuffix(hostKey, ".pub") + "-cert.pub"
			if err := os.WriteFile(out, sshcert.AuthorizedKey(cert, "lockbox host "+hostnames[0]), 0o644); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	addServeFlags(c.Flags())
	c.Flags().StringVar(&hostKey, "host-key", "", "host public key file")
	c.Flags().StringSliceVar(&hostnames, "hostname", nil, "host name(s) the certificate is for")
	c.Flags().DurationVar(&validity, "validity", 30*24*time.Hour, "how long the certificate is valid")
	c.MarkFlagRequired("host-key") //nolint:errcheck // the flag exists
	c.MarkFlagRequired("hostname") //nolint:errcheck // the flag exists
	return c
}

func policyCmd() *cobra.Command {
	c := &cobra.Command{Use: "policy", Short: "Policy tools"}
	c.AddCommand(&cobra.Command{
		Use:   "check DIR",
		Short: "Validate a policy directory; errors name file and line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPolicy(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy ok: %d users, %d teams, %d roles, %d resources, %d bastions\n",
				len(p.Users), len(p.Teams), len(p.Roles), len(p.Resources), len(p.Bastions))
			if n := p.Notifications; len(n.Endpoints) > 0 || len(n.Routes) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "notifications ok: %d endpoints (secrets resolved), %d routes\n", len(n.Endpoints), len(n.Routes))
			}
			return nil
		},
	})
	return c
}

// operatorName names who ran an offline command, for the audit log.
func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return fmt.Sprintf("uid-%d", os.Getuid())
}
