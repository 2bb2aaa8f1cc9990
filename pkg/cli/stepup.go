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

// stepUpCode returns the fresh TOTP code a role with step_up_mfa asks for
// (what says what it is for): the --code flag's if given, else one asked
// for on the terminal. Without a terminal and without --code it is a
// usage error that says what to give.
func (a *app) stepUpCode(cmd *cobra.Command, flag, role, what string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	f, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{fmt.Sprintf("role %s asks for a fresh MFA code %s: give --code CODE from your authenticator", clean(role), what)}
	}
	fmt.Fprintf(a.err, "role %s asks for a fresh MFA code %s\ncode from your authenticator: ", clean(role), what)
	line, err := bufio.NewReader(io.LimitReader(f, 64)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the code: %w", err)
	}
	code := strings.TrimSpace(line)
	if code == "" {
		return "", usageError{"no code given; nothing was done"}
	}
	return code, nil
}
