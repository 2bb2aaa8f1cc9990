package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) passwordCmd() *cobra.Command {
	c := &cobra.Command{Use: "password", Short: "Manage your web form password"}
	set := &cobra.Command{
		Use:   "set",
		Short: "Set your password for the approver web form",
		Long: "Set your password for the web form. On a terminal it is asked twice without echo; " +
			"otherwise the first line of standard input is the password. Setting it ends your web sessions. " +
			"Logging in also needs a TOTP code (lockbox mfa enroll).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := a.readNewPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if err := cl.SetPassword(cmd.Context(), pw); err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(map[string]string{"status": "password set"})
			}
			fmt.Fprintln(a.out, "password set")
			return nil
		},
	}
	c.AddCommand(set)
	return c
}

// readNewPassword asks twice on a terminal, or reads one line from
// anything else (a pipe from a password manager, a test).
func (a *app) readNewPassword(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := promptHidden(f, a.err, "new web password: ")
		if err != nil {
			return "", err
		}
		second, err := promptHidden(f, a.err, "again: ")
		if err != nil {
			return "", err
		}
		if first != second {
			return "", errors.New("the passwords differ; nothing was changed")
		}
		return first, nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{"no password on standard input"}
	}
	return line, nil
}

func promptHidden(f *os.File, w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
