package main

import (
	"fmt"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// The files ca init writes in the data directory.
const (
	userCAFile  = "user_ca"
	hopCAFile   = "hop_ca"
	hostCAFile  = "host_ca"
	secretsFile = "secrets.key"
)

type caKeys struct {
	user, hop, host ssh.Signer
	secrets         *secretbox.Box
}

func loadKeys(dir string) (*caKeys, error) {
	var k caKeys
	var err error
	for _, f := range []struct {
		name string
		dst  *ssh.Signer
	}{{userCAFile, &k.user}, {hopCAFile, &k.hop}, {hostCAFile, &k.host}} {
		if *f.dst, err = sshcert.LoadSigner(filepath.Join(dir, f.name)); err != nil {
			return nil, fmt.Errorf("loading the %s key (run `ca init` first?): %w", f.name, err)
		}
	}
	if k.secrets, err = secretbox.LoadKeyFile(filepath.Join(dir, secretsFile)); err != nil {
		return nil, fmt.Errorf("loading %s: %w", secretsFile, err)
	}
	return &k, nil
}
