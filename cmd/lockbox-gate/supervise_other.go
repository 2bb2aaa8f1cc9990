//go:build !linux

package main

import "syscall"

// killGrace does not apply where the gate cannot supervise its command.
const killGrace = 0

// supervise replaces the gate with the command. Only on Linux does the
// gate stay to end the command when the session's channel goes (see
// supervise_linux.go); elsewhere a command outlives its session until it
// writes to the closed channel.
func supervise(path string, argv, env []string) (int, error) {
	return 0, syscall.Exec(path, argv, env)
}
