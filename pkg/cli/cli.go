// Package cli is the lockbox command: requests, approvals, certificates,
// revocation, audit and MFA enrolment, for engineers, approvers and SREs.
// cmd/lockbox wires it to configuration (flags, LOCKBOX_* environment,
// config file); everything else is here.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/inert"
)

// Settings are the global options, from flags, environment or config.
type Settings struct {
	CA       string // CA URL
	User     string // your Lockbox user name
	Identity string // SSH identity key file (private key, or .pub of a key in the agent)
	Agent    string // ssh-agent socket; "" = none
	Dir      string // where grant keys and certificates go
	Bastion  string // bastion host:port, for lockbox ssh
	JSON     bool
	// IdempotencyKey names this command's state-changing calls, to learn
	// the outcome of an earlier run that ended with an unknown one; ""
	// makes a fresh key.
	IdempotencyKey string
}

// app is one invocation.
type app struct {
	settings func() Settings
	out, err io.Writer
	who      identity // set by client(), for explaining the CA's refusals
}

// identity is who the CLI signs as, and where that came from.
type identity struct {
	user, fingerprint, keyFrom string
}

// NewCommand builds the command tree. settings is called after flags are
// parsed, so it sees them.
func NewCommand(settings func() Settings, out, errOut io.Writer) *cobra.Command {
	a := &app{settings: settings, out: out, err: errOut}
	root := &cobra.Command{
		Use:           "lockbox",
		Short:         "Just-in-time, approved, recorded SSH access",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.String("ca", "http://127.0.0.1:7443", "CA URL (LOCKBOX_CA)")
	pf.String("user", os.Getenv("USER"), "your Lockbox user name (LOCKBOX_USER)")
	pf.String("identity", defaultIdentity(), "SSH identity key: a private key file, or a .pub whose key is in ssh-agent (LOCKBOX_IDENTITY)")
	pf.String("dir", defaultDir(), "where grant keys and certificates are written (LOCKBOX_DIR)")
	pf.String("bastion", "127.0.0.1:2222", "bastion host:port for `lockbox ssh` (LOCKBOX_BASTION)")
	pf.Bool("json", false, "print JSON instead of tables")
	pf.String("idempotency-key", "", "send this command's changes under the key of an earlier run whose outcome was unknown, to learn it")
	root.AddCommand(a.evidenceCmd())
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(a.requestCmd(), a.requestsCmd(), a.approveCmd(), a.denyCmd(), a.revokeCmd(),
		a.certCmd(), a.auditCmd(), a.mfaCmd(), a.whoamiCmd(), a.sshCmd(), a.sessionsCmd(), a.replayCmd(), a.watchCmd(), a.passwordCmd(), a.reviewCmd(), a.notificationsCmd())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Sprintf("%v (usage: %s)", err, useLine(c))}
	})
	a.wrap(root)
	return root
}

// wrap makes every command's argument errors usage errors (exit 2) and
// passes its failures through explain.
func (a *app) wrap(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Sprintf("usage: %s (%v)", useLine(cmd), err)}
			}
			return nil
		}
	}
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error { return a.explain(run(cmd, args)) }
	}
	for _, sub := range c.Commands() {
		a.wrap(sub)
	}
}

func useLine(c *cobra.Command) string {
	return strings.TrimSuffix(c.UseLine(), " [flags]")
}

func defaultIdentity() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".ssh", "id_ed25519")
}

func defaultDir() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".lockbox")
}

// Execute runs the command and returns the process exit code: 0, 1 for a
// failure or refusal, 2 for bad usage.
func Execute(ctx context.Context, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	msg := err.Error()
	var ce *client.Error
	if errors.As(err, &ce) {
		msg = fmt.Sprintf("%s [%s]", ce.Message, ce.Code)
	}
	fmt.Fprintln(root.ErrOrStderr(), "lockbox:", clean(msg))
	var unknown *client.OutcomeUnknownError
	if errors.As(err, &unknown) {
		base, _, _ := strings.Cut(unknown.Key, ".")
		fmt.Fprintf(root.ErrOrStderr(), "lockbox: it is not known whether that took effect; to learn it, run the same command again with --idempotency-key %s\n", clean(base))
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "required flag") {
		return 2
	}
	return 1
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// client builds a signed API client from the settings.
func (a *app) client() (*client.Client, error) {
	s := a.settings()
	if s.User == "" {
		return nil, usageError{"no user name: set --user or LOCKBOX_USER"}
	}
	if !apiauth.ValidPrincipal("user:" + s.User) {
		return nil, usageError{fmt.Sprintf("%q is not a Lockbox user name (lower-case letters, digits, '.', '_' and '-'): set --user or LOCKBOX_USER", clean(s.User))}
	}
	key, err := loadIdentity(s)
	if err != nil {
		return nil, err
	}
	a.who = identity{user: s.User, fingerprint: ssh.FingerprintSHA256(key.PublicKey()), keyFrom: strings.TrimSuffix(s.Identity, ".pub")}
	cl, err := client.New(s.CA, &apiauth.Signer{Principal: "user:" + s.User, Key: key}, nil)
	if err != nil {
		return nil, err
	}
	// One key per command, so that the same command run again with
	// --idempotency-key sends the same calls under the same keys.
	base := s.IdempotencyKey
	if base == "" {
		base = "cli-" + client.NewIdempotencyKey()
	} else if !validKeyBase(base) {
		return nil, usageError{"--idempotency-key: 16 to 64 letters, digits, '_' or '-'"}
	}
	cl.SetIdempotencyKeys(base)
	cl.SetRetry(client.DefaultRetry)
	return cl, nil
}

func validKeyBase(k string) bool {
	if len(k) < 16 || len(k) > 64 {
		return false
	}
	return !strings.ContainsFunc(k, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	})
}

// loadIdentity finds the identity key: the agent's copy of the key in
// Identity(.pub) if an agent has it, else the private key file.
func loadIdentity(s Settings) (ssh.Signer, error) {
	privPath := strings.TrimSuffix(s.Identity, ".pub")
	if s.Agent != "" {
		if pubBytes, err := os.ReadFile(privPath + ".pub"); err == nil {
			if pub, _, _, _, err := ssh.ParseAuthorizedKey(pubBytes); err == nil {
				signers, closeAgent, err := apiauth.AgentSigners(s.Agent)
				if err == nil {
					// The connection stays open for this short-lived process.
					_ = closeAgent
					if signer, err := apiauth.PickSigner(signers, []ssh.PublicKey{pub}); err == nil {
						return signer, nil
					}
				}
			}
		}
	}
	signer, err := apiauth.LoadKeyFile(privPath)
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", privPath, err)
	}
	return signer, nil
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clean shows text from the CA inert (see package inert).
func clean(s string) string { return inert.Text(s) }
