package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func (a *app) certCmd() *cobra.Command {
	var out, code string
	var wait bool
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "cert ID [--out PATH] [--wait]",
		Short: "Make a fresh key for a grant and fetch its certificate",
		Long: `cert makes a new Ed25519 key on this machine for the grant, asks the CA to
certify it, and writes PATH (the private key, mode 0600), PATH.pub and
PATH-cert.pub. The private key never leaves this machine. With --wait it
first waits for the request to be approved. A scheduled window's
certificate is refused until the window opens (the refusal says when); it
is valid from the start. A role with step_up_mfa asks for a fresh code
from your authenticator: on a terminal you are prompted, or give --code.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			id := args[0]
			if wait {
				if err := waitApproved(cmd.Context(), cl, id, timeout); err != nil {
					return err
				}
			}
			if out == "" {
				out = filepath.Join(a.settings().Dir, id)
			}
			if code == "" {
				if code, err = a.codeIfAsked(cmd, cl, id, "to fetch the certificate of "+id); err != nil {
					return err
				}
			}
			cert, err := fetchCert(cmd.Context(), cl, id, out, code)
			if err != nil {
				return explainPending(cmd.Context(), cl, id, err,
					fmt.Sprintf("there is no certificate yet. To wait for the approval and then fetch it: lockbox cert %s --wait", id))
			}
			if a.settings().JSON {
				return a.printJSON(cert)
			}
			fmt.Fprintf(a.out, "%s\n%s-cert.pub\n", out, out)
			fmt.Fprintf(a.err, "certificate %s for %v, valid until %s\n", cert.Serial, cert.Principals, cert.ValidBefore.Local().Format(time.RFC3339))
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "key path (default DIR/ID)")
	c.Flags().BoolVar(&wait, "wait", false, "wait for approval first")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits")
	c.Flags().StringVar(&code, "code", "", "current MFA code, for roles that ask for one")
	return c
}

// codeIfAsked reads request id and, if its role asks for a fresh MFA code
// (for what), asks for one (see stepUpCode). A request the caller cannot
// read asks for nothing here: the call that follows gets the CA's answer.
func (a *app) codeIfAsked(cmd *cobra.Command, cl *client.Client, id, what string) (string, error) {
	req, err := cl.Get(cmd.Context(), id)
	if err != nil || !req.StepUpMFA {
		return "", nil //nolint:nilerr // the approval or certificate call reports it
	}
	return a.stepUpCode(cmd, "", req.Role, what)
}

// waitApproved polls the request until it is approved, or fails when it
// ends otherwise or the timeout passes.
func waitApproved(ctx context.Context, cl *client.Client, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		req, err := cl.Get(ctx, id)
		if err != nil {
			return err
		}
		switch req.State {
		case "approved":
			return nil
		case "pending":
		default:
			return fmt.Errorf("%s is %s: %s", id, req.State, req.Decision)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still pending after %v", id, timeout)
		case <-tick.C:
		}
	}
}

// fetchCert makes an Ed25519 key, has it certified (with the step-up
// code, if any), and writes the key files. Nothing is written unless the
// CA signed.
func fetchCert(ctx context.Context, cl *client.Client, id, path, code string) (*wire.Certificate, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	pubLine := ssh.MarshalAuthorizedKey(sshPub)
	cert, err := cl.CertificateWith(ctx, id, wire.CertificateRequest{PublicKey: string(pubLine), Code: code})
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "lockbox "+id)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// Replace any older key for the same grant: remove first, so the
	// O_EXCL create below never writes through someone else's link.
	for _, p := range []string{path, path + ".pub", path + "-cert.pub"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{path, pem.EncodeToMemory(block), 0o600}, {path + ".pub", pubLine, 0o644}, {path + "-cert.pub", []byte(cert.Certificate), 0o644},
	}
	for _, f := range files {
		if err := writeNew(f.path, f.data, f.mode); err != nil {
			return nil, err
		}
	}
	return cert, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
