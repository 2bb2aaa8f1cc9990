package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxKeyFileSize bounds what LoadKeyFile reads: 64 hex digits and a newline,
// with room for a CRLF.
const maxKeyFileSize = 2*KeySize + 2

// LoadKeyFile reads a key file and returns a Box using it. The file holds
// either exactly KeySize raw bytes or 2*KeySize hex digits (a trailing newline
// is allowed). It must be a regular file readable by its owner only: any
// group or other permission bit (mode & 0077) is refused.
func LoadKeyFile(path string) (*Box, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening secretbox key: %w", err)
	}
	defer f.Close()
	if err := checkKeyFileMode(f); err != nil {
		return nil, fmt.Errorf("secretbox key %s: %w", path, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading secretbox key: %w", err)
	}
	key, err := decodeKey(data)
	if err != nil {
		return nil, fmt.Errorf("secretbox key %s: %w", path, err)
	}
	return New(key)
}

// checkKeyFileMode checks the open file itself, so the file checked is the
// file read.
func checkKeyFileMode(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("mode %04o is open to group or others; chmod 600 it", perm)
	}
	return nil
}

func decodeKey(data []byte) ([]byte, error) {
	if len(data) == KeySize {
		return data, nil
	}
	text := bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
	if len(text) != 2*KeySize {
		return nil, errors.New("want 32 raw bytes or 64 hex digits")
	}
	key, err := hex.DecodeString(string(text))
	if err != nil {
		return nil, errors.New("want 32 raw bytes or 64 hex digits")
	}
	return key, nil
}

// GenerateKeyFile writes a new random key to path as 64 hex digits and a
// newline, with mode 0600. It never overwrites: if path exists it fails, so
// an existing key (and every secret sealed under it) is never lost.
func GenerateKeyFile(path string) error {
	key := make([]byte, KeySize)
	rand.Read(key) // never fails; crashes the program if the OS cannot supply randomness
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating secretbox key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing secretbox key: %w", err)
	}
	return nil
}
