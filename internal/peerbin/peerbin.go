// Package peerbin finds the binaries of test peers that scripts/test.sh
// installs with go install into the user's cache (Mailpit, versitygw).
package peerbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Installed is one peer: the binary Name of Module at Version, which
// scripts/test.sh installs into $XDG_CACHE_HOME/lockbox/NAME-VERSION/
// (~/.cache by default); Env, when set, names another binary to use.
type Installed struct {
	Name, Version, Module, Env string
}

// DefaultPath is where scripts/test.sh installs the binary.
func (b Installed) DefaultPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "lockbox", b.Name+"-"+b.Version, b.Name)
}

// Path finds the binary: $Env, else DefaultPath, else Name on PATH.
func (b Installed) Path() (string, error) {
	if p := os.Getenv(b.Env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", b.Env, p, err)
		}
		return p, nil
	}
	if p := b.DefaultPath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(b.Name)
	if err != nil {
		return "", fmt.Errorf("not at %s nor on PATH (scripts/test.sh installs it: GOBIN=%s go install %s@%s)",
			b.DefaultPath(), filepath.Dir(b.DefaultPath()), b.Module, b.Version)
	}
	return p, nil
}
