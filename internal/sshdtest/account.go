package sshdtest

import (
	"os"
	"os/exec"
	"os/user"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// TestAccount is the account that tests log in to when they need a login
// other than root. scripts/test.sh creates it; NonRootLogin creates it when
// it is missing and the tests run as root.
const TestAccount = "lockbox-test"

// NonRootLogin returns an account other than root that sshd can log a
// certificate in to: the current user when the tests do not run as root
// (sshd can then switch to no one else), else TestAccount, created if
// needed (shell /bin/sh, a home directory, password "*": sshd without PAM
// refuses an account whose password is locked with "!"). The test is
// skipped, or failed when integration is required, if there is none.
func NonRootLogin(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
		return u.Username
	}
	var out []byte
	for attempt := 0; attempt < 20; attempt++ {
		if _, err := user.Lookup(TestAccount); err == nil {
			return TestAccount
		}
		useradd, err := exec.LookPath("useradd")
		if err != nil {
			storetest.MissingPeer(t, "account %s (scripts/test.sh creates it; useradd not found)", TestAccount)
		}
		// Another test binary may be creating it at the same time: then
		// useradd fails (exists, or /etc/passwd is locked) and we look again.
		out, err = exec.Command(useradd, "--create-home", "--shell", "/bin/sh", "--password", "*", TestAccount).CombinedOutput()
		if err == nil {
			continue
		}
		time.Sleep(100 * time.Millisecond)
	}
	storetest.MissingPeer(t, "account %s could not be created: %s", TestAccount, out)
	return ""
}
