package api_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinProcess restricts every thread of this process to the one CPU cpu
// (which may be outside the CPUs it inherited: a flood process started by
// a benchmark pinned to CPU 0 moves itself to CPU 1),
// and the Go scheduler to one thread running Go code at a time; the
// threads it starts later inherit that. restore gives the process back
// every CPU it had, and the GOMAXPROCS it had.
func pinProcess(cpu int) (restore func() error, err error) {
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		return nil, fmt.Errorf("reading this process's CPUs: %w", err)
	}
	var one unix.CPUSet
	one.Set(cpu)
	procs := runtime.GOMAXPROCS(1)
	if err := setThreads(&one); err != nil {
		runtime.GOMAXPROCS(procs)
		return nil, err
	}
	return func() error {
		runtime.GOMAXPROCS(procs)
		return setThreads(&was)
	}, nil
}

// setThreads sets the CPUs of every thread of this process. A thread
// started between the reading of /proc/self/task and the setting
// inherits the set of the thread that started it, which is set or is
// read again: it runs until no thread is left unset.
func setThreads(set *unix.CPUSet) error {
	done := map[int]bool{}
	for {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh++
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("setting the CPUs of thread %d: %w", tid, err)
			}
			done[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
}
