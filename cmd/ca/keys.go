package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// The files ca init writes in the data directory.
const (
	userCAFile = "user_ca"
	hopCAFile  = "hop_ca"
	hostCAFile = "host_ca"
	// auditKeyFile signs audit checkpoints; it is no CA.
	auditKeyFile = "audit_key"
	secretsFile  = "secrets.key"
)

type caKeys struct {
	user, hop, host, audit ssh.Signer
	secrets                *secretbox.Box
}

func loadKeys(dir string) (*caKeys, error) {
	var k caKeys
	var err error
	for _, f := range []struct {
		name string
		dst  *ssh.Signer
	}{{userCAFile, &k.user}, {hopCAFile, &k.hop}, {hostCAFile, &k.host}, {auditKeyFile, &k.audit}} {
		path := filepath.Join(dir, f.name)
		if *f.dst, err = sshcert.LoadSigner(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("there is no %s in %s: run `ca init --data %s`, which makes the keys that are missing and keeps the others", f.name, dir, dir)
			}
			return nil, fmt.Errorf("loading the %s key: %w", f.name, err)
		}
	}
	if k.secrets, err = secretbox.LoadKeyFile(filepath.Join(dir, secretsFile)); err != nil {
		return nil, fmt.Errorf("loading %s: %w", secretsFile, err)
	}
	return &k, nil
}
