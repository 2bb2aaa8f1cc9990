package sshcert

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// KeyType names the kind of CA key [GenerateKey] creates.
type KeyType string

// The CA key types. The zero value means KeyEd25519.
const (
	KeyEd25519   KeyType = "ed25519"
	KeyECDSAP256 KeyType = "ecdsa-p256"
)

// GenerateKey creates a new CA private key of type t ("" means ed25519).
// For ed25519 the key is derived from 32 bytes read from rand. Since Go 1.26
// the standard library ignores rand for ECDSA and always uses a secure
// source; pass crypto/rand.Reader in production either way.
func GenerateKey(t KeyType, rand io.Reader) (crypto.Signer, error) {
	switch t {
	case "", KeyEd25519:
		_, priv, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, fmt.Errorf("generating ed25519 key: %w", err)
		}
		return priv, nil
	case KeyECDSAP256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand)
		if err != nil {
			return nil, fmt.Errorf("generating ecdsa-p256 key: %w", err)
		}
		return priv, nil
	default:
		return nil, fmt.Errorf("sshcert: unknown key type %q (want %q or %q)", t, KeyEd25519, KeyECDSAP256)
	}
}

// MarshalPrivateKey encodes key, unencrypted, as an OpenSSH PEM private key
// ("-----BEGIN OPENSSH PRIVATE KEY-----"). The caller must store the result
// where only the CA can read it; [WriteKeyFiles] does.
func MarshalPrivateKey(key crypto.Signer, comment string) ([]byte, error) {
	if err := checkComment(comment); err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		return nil, fmt.Errorf("marshaling private key: %w", err)
	}
	return pem.EncodeToMemory(block), nil
}

// AuthorizedKey returns pub as one authorized_keys line ("type base64
// comment\n"), the format of a .pub or -cert.pub file. The caller must
// pass a comment without newlines.
func AuthorizedKey(pub ssh.PublicKey, comment string) []byte {
	line := bytes.TrimSuffix(ssh.MarshalAuthorizedKey(pub), []byte("\n"))
	if comment != "" {
		line = append(line, ' ')
		line = append(line, comment...)
	}
	return append(line, '\n')
}

// WriteKeyFiles writes key to path (mode 0600) and its public half to
// path+".pub" (mode 0644, one authorized_keys line). It never overwrites:
// if either file exists it fails with an error wrapping [os.ErrExist] (== fs.ErrExist) and
// leaves both untouched.
func WriteKeyFiles(path string, key crypto.Signer, comment string) error {
	priv, err := MarshalPrivateKey(key, comment)
	if err != nil {
		return err
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("encoding public key: %w", err)
	}
	pubPath := path + ".pub"
	if _, err := os.Lstat(pubPath); err == nil {
		return fmt.Errorf("writing %s: %w", pubPath, os.ErrExist)
	}
	if err := writeNewFile(path, priv, 0o600); err != nil {
		return err
	}
	if err := writeNewFile(pubPath, AuthorizedKey(pub, comment), 0o644); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// writeNewFile creates name (failing if it exists), writes data and syncs.
func writeNewFile(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// LoadSigner reads an unencrypted OpenSSH (or PEM) private key from path.
// It refuses a file that group or other may access (mode & 0o077 != 0) with
// [ErrKeyFileMode], and anything but a regular file. An RSA key is returned
// as a signer that only signs with rsa-sha2-512, never ssh-rsa (SHA-1).
func LoadSigner(path string) (ssh.Signer, error) {
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("parsing private key %s: %w", path, err)
	}
	return strongSigner(signer)
}

// readPrivateFile reads path after checking, on the open file, that it is a
// regular file private to its owner.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading private key %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o, want 0600 (chmod 600 %s)", ErrKeyFileMode, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading private key %s: %w", path, err)
	}
	return data, nil
}

// checkComment refuses comments that would break the one-line .pub format.
func checkComment(comment string) error {
	if strings.ContainsFunc(comment, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("sshcert: key comment contains control characters")
	}
	return nil
}
