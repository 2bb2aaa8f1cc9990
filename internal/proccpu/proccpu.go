// Package proccpu reads the CPU time of a process from /proc, for the
// benchmarks that count what other processes (sshd, MariaDB, the bastion)
// spend.
package proccpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the times in /proc/PID/stat (USER_HZ, 100 on
// Linux everywhere).
const clockTick = 10 * time.Millisecond

// Read reads /proc/PID/stat: the CPU time pid used itself (user and
// system) and that of the children it has waited for, with theirs.
func Read(pid int) (self, children time.Duration, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name, in parentheses, may hold spaces; the fields
	// after it start at the third (state).
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 15 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var t [4]time.Duration // utime, stime, cutime, cstime: fields 14 to 17
	for k := range t {
		v, err := strconv.ParseInt(fields[11+k], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/stat: field %d: %w", pid, 14+k, err)
		}
		t[k] = time.Duration(v) * clockTick
	}
	return t[0] + t[1], t[2] + t[3], nil
}
