package mariadbtest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ServerPath is the server binary.
const ServerPath = "/usr/sbin/mariadbd"

// installTools are the names the system-table installer goes by, newest
// first.
var installTools = []string{"mariadb-install-db", "mysql_install_db"}

// ErrMissing means mariadbd or its installer is not on this machine.
var ErrMissing = errors.New("mariadbtest: MariaDB server not installed (apt-get install mariadb-server)")

// serverOptions are given to both the installer and every server: small
// InnoDB files, so that a copy of the template is cheap, and nothing that
// is slow to start. Durability stays MariaDB's default
// (innodb_flush_log_at_trx_commit=1): the fault tests depend on it.
var serverOptions = []string{
	"--innodb-log-file-size=4M",
	"--innodb-buffer-pool-size=16M",
	"--skip-name-resolve",
	"--performance-schema=OFF",
}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// template returns a data directory with the system tables installed,
// making it the first time on this machine for this server version.
func template() (string, error) {
	templateOnce.Do(func() { templateDir, templateErr = makeTemplate() })
	return templateDir, templateErr
}

const completeFile = "lockbox-template-complete"

func makeTemplate() (string, error) {
	if _, err := os.Stat(ServerPath); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMissing, err)
	}
	tool := ""
	for _, name := range installTools {
		if p, err := exec.LookPath(name); err == nil {
			tool = p
			break
		}
	}
	if tool == "" {
		return "", fmt.Errorf("%w: neither of %s found", ErrMissing, strings.Join(installTools, ", "))
	}
	version, err := exec.Command(ServerPath, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("mariadbtest: %s --version: %w", ServerPath, err)
	}
	key := sha256.Sum256([]byte(string(version) + strings.Join(serverOptions, " ") + userOption()))
	root := filepath.Join(os.TempDir(), "lockbox-mariadbtest")
	final := filepath.Join(root, hex.EncodeToString(key[:8]))
	if _, err := os.Stat(filepath.Join(final, completeFile)); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("mariadbtest: %w", err)
	}
	tmp, err := os.MkdirTemp(root, "install-")
	if err != nil {
		return "", fmt.Errorf("mariadbtest: %w", err)
	}
	args := append([]string{"--no-defaults", "--datadir=" + tmp, "--auth-root-authentication-method=normal",
		"--skip-test-db"}, serverOptions...)
	if u := userOption(); u != "" {
		args = append(args, u)
	}
	if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("mariadbtest: %s: %w\n%s", filepath.Base(tool), err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, completeFile), nil, 0o600); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("mariadbtest: %w", err)
	}
	// Another test binary may have made it meanwhile: then use theirs.
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(filepath.Join(final, completeFile)); serr != nil {
			return "", fmt.Errorf("mariadbtest: keeping the template: %w", err)
		}
	}
	return final, nil
}

// userOption: mariadbd refuses to run as root unless told to.
func userOption() string {
	if os.Geteuid() == 0 {
		return "--user=root"
	}
	return ""
}
