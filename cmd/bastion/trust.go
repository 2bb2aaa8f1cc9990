package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/bastion"
	"github.com/lockbox-ssh/lockbox/pkg/client"
)

// trustedKeys reads the pinned CA key files, when both are set, or
// fetches the keys from the CA: every key of the user and of the host CA
// to trust now, the signing key first.
func trustedKeys(ctx context.Context, cfg *config, cl *client.Client) (user, host []ssh.PublicKey, err error) {
	if cfg.UserCAFile != "" && cfg.HostCAFile != "" {
		if user, err = readKeyFile(cfg.UserCAFile); err != nil {
			return nil, nil, err
		}
		host, err = readKeyFile(cfg.HostCAFile)
		return user, host, err
	}
	keys, err := cl.CAKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("fetching the CA keys: %w", err)
	}
	userLines, hostLines := keys.UserCAs, keys.HostCAs
	if len(userLines) == 0 { // a CA from before key rotation
		userLines = []string{keys.UserCA}
	}
	if len(hostLines) == 0 {
		hostLines = []string{keys.HostCA}
	}
	if user, err = parseKeyLines(userLines); err != nil {
		return nil, nil, fmt.Errorf("user CA key: %w", err)
	}
	if host, err = parseKeyLines(hostLines); err != nil {
		return nil, nil, fmt.Errorf("host CA key: %w", err)
	}
	return user, host, nil
}

// readKeyFile reads every public key in path, one per line; blank lines
// and # comments are skipped. A file without a key is an error.
func readKeyFile(path string) ([]ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []ssh.PublicKey
	for rest := data; !onlyComments(rest); {
		var k ssh.PublicKey
		k, _, _, rest, err = ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no public key", path)
	}
	return keys, nil
}

// onlyComments reports whether b holds nothing but blank and # lines.
func onlyComments(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}

func parseKeyLines(lines []string) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	for _, l := range lines {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(l))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("none")
	}
	return keys, nil
}

// refreshTrust follows the CA's key rotations: every cfg.CAKeysRefresh it
// reads the keys again and trusts the new lists, and reads the bastion's
// host certificate again. When that fails, the keys in use stay (a
// retired key stays trusted until a refresh works), and the failure is
// logged.
func refreshTrust(ctx context.Context, srv *bastion.Server, cfg *config, cl *client.Client, user, host []ssh.PublicKey, hostKey *hostKey, log *slog.Logger) {
	t := time.NewTicker(cfg.CAKeysRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if changed, err := hostKey.reload(); err != nil {
			log.Error("reading the host certificate again failed; presenting the one in use", "err", err)
		} else if changed {
			log.Info("host certificate reloaded", "serial", hostKey.serial())
		}
		u, h, err := trustedKeys(ctx, cfg, cl)
		if err != nil {
			log.Warn("refreshing the CA keys failed; keeping the keys in use", "err", err)
			continue
		}
		if sameKeys(u, user) && sameKeys(h, host) {
			continue
		}
		if err := srv.SetAuthorities(u, h); err != nil {
			log.Error("the CA keys changed to keys the bastion refuses; keeping the keys in use", "err", err)
			continue
		}
		user, host = u, h
		log.Info("CA keys changed", "user", fingerprints(u), "host", fingerprints(h))
	}
}

func sameKeys(a, b []ssh.PublicKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Marshal(), b[i].Marshal()) {
			return false
		}
	}
	return true
}

func fingerprints(keys []ssh.PublicKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = ssh.FingerprintSHA256(k)
	}
	return out
}
