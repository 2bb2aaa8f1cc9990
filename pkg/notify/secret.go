package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrSecret is a secret reference that is missing, malformed, or points
// at nothing usable. It is permanent: configuration must change.
var ErrSecret = errors.New("notify: secret")

// maxSecretFile bounds what Resolve reads from a secret file.
const maxSecretFile = 64 << 10

// SecretRef says where a secret is kept, never the secret itself:
// "file:/etc/lockbox/hook.secret" (a file open to its owner only, mode
// 0600 or stricter; one trailing newline is dropped) or "env:NAME" (an
// environment variable). Policy and config files, which are committed,
// hold only references.
type SecretRef string

// Validate checks the form of r without reading the secret. Its errors
// never repeat r, which may be a secret written where a reference belongs.
func (r SecretRef) Validate() error {
	scheme, rest, ok := strings.Cut(string(r), ":")
	switch {
	case r == "":
		return fmt.Errorf("%w: no reference (want file:PATH or env:NAME)", ErrSecret)
	case !ok || (scheme != "file" && scheme != "env"):
		return fmt.Errorf("%w: not a reference (want file:PATH or env:NAME; a secret itself never goes into policy or config)", ErrSecret)
	case scheme == "file" && !strings.HasPrefix(rest, "/"):
		return fmt.Errorf("%w: file: needs an absolute path", ErrSecret)
	case scheme == "env" && !validEnvName(rest):
		return fmt.Errorf("%w: env: needs a variable name of letters, digits and _", ErrSecret)
	}
	return nil
}

// Resolve reads the secret r refers to. It is never empty.
func (r SecretRef) Resolve() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	scheme, rest, _ := strings.Cut(string(r), ":")
	var secret []byte
	if scheme == "env" {
		v, ok := os.LookupEnv(rest)
		if !ok {
			return nil, fmt.Errorf("%w: environment variable %s is not set", ErrSecret, rest)
		}
		secret = []byte(v)
	} else {
		var err error
		if secret, err = readSecretFile(rest); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSecret, rest, err)
		}
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrSecret, r)
	}
	return secret, nil
}

// readSecretFile checks the open file itself, so the file checked is the
// file read.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("mode %04o is open to group or others; chmod 600 it", perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("longer than %d bytes", maxSecretFile)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	return bytes.TrimSuffix(data, []byte("\r")), nil
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
