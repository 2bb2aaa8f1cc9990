package apiauth

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// LoadKeyFile reads an unencrypted private key (OpenSSH or PEM format) for
// use as Signer.Key. A passphrase-protected key yields ErrEncryptedKey with
// advice to load it into ssh-agent instead: the CLI never prompts.
func LoadKeyFile(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading SSH key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("%w: %s is protected by a passphrase; load it into ssh-agent (ssh-add %s) and use the agent instead",
			ErrEncryptedKey, path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing SSH key %s: %w", path, err)
	}
	return signer, nil
}

// AgentSigners connects to the ssh-agent listening at socket (normally
// $SSH_AUTH_SOCK) and returns its keys. The signers use the connection: call
// the returned close function only when done signing. On error there is
// nothing to close.
func AgentSigners(socket string) ([]ssh.Signer, func() error, error) {
	if socket == "" {
		return nil, nil, errors.New("no ssh-agent: SSH_AUTH_SOCK is not set")
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to ssh-agent: %w", err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("listing ssh-agent keys: %w", err)
	}
	return signers, conn.Close, nil
}

// PickSigner returns the first signer whose public key is one of want (the
// keys registered for the principal), or ErrNoMatchingKey.
func PickSigner(signers []ssh.Signer, want []ssh.PublicKey) (ssh.Signer, error) {
	for _, s := range signers {
		have := s.PublicKey().Marshal()
		for _, w := range want {
			if w != nil && bytes.Equal(have, w.Marshal()) {
				return s, nil
			}
		}
	}
	return nil, ErrNoMatchingKey
}
