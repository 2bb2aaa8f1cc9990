package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/cakeys"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// The files ca init writes in the data directory. A key rotation adds
// KIND_ca.next, KIND_ca.previous.pub and KIND_ca.retired-*.pub beside
// them (pkg/cakeys).
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
	// trusted are each CA's other key during a rotation (next or previous).
	trusted map[cakeys.Kind][]ssh.PublicKey
	secrets *secretbox.Box
}

func loadKeys(dir string) (*caKeys, error) {
	k := caKeys{trusted: map[cakeys.Kind][]ssh.PublicKey{}}
	for _, kind := range cakeys.Kinds {
		key, err := cakeys.Load(dir, kind)
		if err != nil {
			if errors.Is(err, cakeys.ErrNoKey) {
				return nil, fmt.Errorf("there is no %s in %s: run `ca init --data %s`, which makes the keys that are missing and keeps the others", kind.File(), dir, dir)
			}
			return nil, err
		}
		switch kind {
		case cakeys.User:
			k.user = key.Signer
		case cakeys.Hop:
			k.hop = key.Signer
		case cakeys.Host:
			k.host = key.Signer
		}
		k.trusted[kind] = key.Trusted()[1:]
	}
	var err error
	if k.audit, err = sshcert.LoadSigner(filepath.Join(dir, auditKeyFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("there is no %s in %s: run `ca init --data %s`, which makes the keys that are missing and keeps the others", auditKeyFile, dir, dir)
		}
		return nil, fmt.Errorf("loading the %s key: %w", auditKeyFile, err)
	}
	if k.secrets, err = secretbox.LoadKeyFile(filepath.Join(dir, secretsFile)); err != nil {
		return nil, fmt.Errorf("loading %s: %w", secretsFile, err)
	}
	return &k, nil
}

// authorities are the keys as the workflow takes them.
func (k *caKeys) authorities() workflow.Authorities {
	return workflow.Authorities{UserCA: k.user, HopCA: k.hop, HostCA: k.host,
		User: k.trusted[cakeys.User], Hop: k.trusted[cakeys.Hop], Host: k.trusted[cakeys.Host]}
}
