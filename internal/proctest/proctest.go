// Package proctest finds processes by their exact command line, for tests
// that must show a command started on a target is gone, or still running.
// It reads /proc (Linux). Give the commands a unique argument (a random
// number of seconds to sleep) so that only the test's own processes match.
package proctest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// UniqueSleep returns a sleep command line that no other process has: a
// random number of seconds, far more than any test runs.
func UniqueSleep() []string {
	return []string{"sleep", fmt.Sprint(100000 + rand.IntN(900000))}
}

// Owner names the account process pid runs as.
func Owner(t testing.TB, pid int) string {
	t.Helper()
	info, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	u, err := user.LookupId(fmt.Sprint(info.Sys().(*syscall.Stat_t).Uid))
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	return u.Username
}

// Find returns the IDs of live processes whose command line is exactly
// argv. Zombies (exited, not yet reaped) do not count.
func Find(argv ...string) []int {
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Equal(cmdline, want) || zombie(d) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// zombie reports whether the process in /proc directory d has exited.
func zombie(d string) bool {
	stat, err := os.ReadFile(filepath.Join(d, "stat"))
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

// KillAtCleanup kills every process running argv when the test ends, so
// that a failing test leaves nothing behind.
func KillAtCleanup(t testing.TB, argv ...string) {
	t.Cleanup(func() {
		for _, pid := range Find(argv...) {
			syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // gone already is fine
		}
	})
}

// WaitRunning waits up to within for a process running argv and returns
// its ID. It kills any such process when the test ends (KillAtCleanup).
func WaitRunning(t testing.TB, within time.Duration, argv ...string) int {
	t.Helper()
	KillAtCleanup(t, argv...)
	deadline := time.Now().Add(within)
	for {
		if pids := Find(argv...); len(pids) > 0 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process %q within %v", argv, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitGone waits up to within for every process running argv to end and
// returns how long that took; it fails the test if one is still there.
func WaitGone(t testing.TB, within time.Duration, argv ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for len(Find(argv...)) > 0 {
		if time.Since(start) > within {
			t.Fatalf("%q still running %v later (pids %v)", argv, within, Find(argv...))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
