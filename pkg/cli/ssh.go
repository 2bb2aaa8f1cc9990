package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func (a *app) sshCmd() *cobra.Command {
	var dryRun bool
	c := &cobra.Command{
		Use:   "ssh RESOURCE [-- COMMAND...]",
		Short: "Connect to a resource through the bastion with your live grant",
		Long: `ssh finds your live grant for RESOURCE, makes a key and fetches its
certificate if you have none that is still valid, writes a known_hosts file
that trusts the bastion's host certificate (no host-key prompt), and runs
the stock OpenSSH client through the bastion (--bastion, LOCKBOX_BASTION).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			argv, err := a.sshArgs(cmd, cl, args[0], args[1:])
			if err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintln(a.out, strings.Join(argv, " "))
				return nil
			}
			path, err := exec.LookPath("ssh")
			if err != nil {
				return errors.New("the OpenSSH client (ssh) is not installed")
			}
			return syscall.Exec(path, argv, os.Environ())
		},
	}
	c.Flags().BoolVar(&dryRun, "print", false, "print the ssh command instead of running it")
	return c
}

// sshArgs prepares the key, certificate and known_hosts for resource and
// returns the ssh command line.
func (a *app) sshArgs(cmd *cobra.Command, cl *client.Client, resource string, command []string) ([]string, error) {
	ctx := cmd.Context()
	s := a.settings()
	host, port, err := net.SplitHostPort(s.Bastion)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--bastion %q: want host:port", s.Bastion)}
	}
	grant, err := liveGrant(ctx, cl, resource)
	if err != nil {
		return nil, err
	}
	key := filepath.Join(s.Dir, grant.ID)
	if !certStillGood(key+"-cert.pub", time.Minute) {
		code := ""
		if grant.StepUpMFA {
			if code, err = a.stepUpCode(cmd, "", grant.Role, "to fetch the certificate of "+grant.ID); err != nil {
				return nil, err
			}
		}
		if _, err := fetchCert(ctx, cl, grant.ID, key, code); err != nil {
			return nil, err
		}
		if code != "" {
			fmt.Fprintln(a.err, "the bastion asks for a code too: give the next one your authenticator shows (a code works once)")
		}
	}
	knownHosts := filepath.Join(s.Dir, "known_hosts")
	if err := writeKnownHosts(ctx, cl, knownHosts, host, port); err != nil {
		return nil, err
	}
	argv := []string{"ssh", "-i", key, "-o", "CertificateFile=" + key + "-cert.pub", "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no",
		"-p", port, resource + "@" + host}
	if len(command) > 0 {
		argv = append(argv, "--")
		argv = append(argv, command...)
	}
	return argv, nil
}

// liveGrant returns the caller's approved grant for resource that ends
// last.
func liveGrant(ctx context.Context, cl *client.Client, resource string) (*wire.Request, error) {
	reqs, err := cl.List(ctx, true, false)
	if err != nil {
		return nil, err
	}
	var best *wire.Request
	now := time.Now()
	for i, r := range reqs {
		if r.State != "approved" || r.NotAfter == nil || !r.NotAfter.After(now) || !slices.Contains(r.Resources, resource) {
			continue
		}
		if best == nil || r.NotAfter.After(*best.NotAfter) {
			best = &reqs[i]
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no live grant for %s: ask with `lockbox request --resource %s ...`", resource, resource)
	}
	return best, nil
}

func certStillGood(path string, margin time.Duration) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return false
	}
	cert, ok := pub.(*ssh.Certificate)
	return ok && time.Now().Add(margin).Before(time.Unix(int64(cert.ValidBefore), 0))
}

// writeKnownHosts trusts the host CA for the bastion's name, and nothing
// else, in a known_hosts file of Lockbox's own: one @cert-authority line
// per host CA key the CA publishes (two during a host CA key rotation).
func writeKnownHosts(ctx context.Context, cl *client.Client, path, host, port string) error {
	keys, err := cl.CAKeys(ctx)
	if err != nil {
		return err
	}
	hostCAs := keys.HostCAs
	if len(hostCAs) == 0 && keys.HostCA != "" { // a CA from before key rotation
		hostCAs = []string{keys.HostCA}
	}
	if len(hostCAs) == 0 {
		return errors.New("the CA serves no host CA key")
	}
	pattern := host
	if port != "22" {
		pattern = "[" + host + "]:" + port
	}
	var line string
	for _, k := range hostCAs {
		k = strings.TrimSpace(k)
		if k == "" || strings.ContainsAny(k, "\r\n") {
			return errors.New("the CA serves a host CA key that is not one line")
		}
		line += "@cert-authority " + pattern + " " + k + "\n"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(line), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
