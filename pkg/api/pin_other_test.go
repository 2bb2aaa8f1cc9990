//go:build !linux

package api_test

import "errors"

// pinProcess is Linux's only (sched_setaffinity).
func pinProcess(int) (func() error, error) {
	return nil, errors.New("pinning a process to a CPU is supported on Linux only")
}
