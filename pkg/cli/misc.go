package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) mfaCmd() *cobra.Command {
	c := &cobra.Command{Use: "mfa", Short: "Manage your second factor"}
	var code string
	enroll := &cobra.Command{
		Use:   "enroll [--code CODE]",
		Short: "Enroll a TOTP authenticator; prints the otpauth URI",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			uri, err := cl.EnrollMFA(cmd.Context(), code)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(map[string]string{"otpauth_uri": uri})
			}
			fmt.Fprintln(a.out, uri)
			fmt.Fprintln(a.err, "add this URI to your authenticator app (or render it as a QR code); it is shown once")
			return nil
		},
	}
	enroll.Flags().StringVar(&code, "code", "", "a current code from your existing authenticator, to enroll again")
	c.AddCommand(enroll)
	return c
}

func (a *app) whoamiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who the CA takes you for",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			p, err := cl.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(map[string]string{"principal": p})
			}
			fmt.Fprintln(a.out, p)
			return nil
		},
	}
}
