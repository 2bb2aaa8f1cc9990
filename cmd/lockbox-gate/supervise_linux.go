//go:build linux

package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// killGrace is how long a command has to end after SIGTERM before the gate
// sends SIGKILL to its process group.
const killGrace = 2 * time.Second

// supervise runs the program at path as a child in a process group of its
// own and waits for it; it returns the exit status to use, or an error if
// the program could not be started.
//
// Stock sshd never signals a forced-command session: it refuses the
// client's signal requests for them, and when the connection or the channel
// goes it only closes its ends of the command's pipes, so a command that
// does not write (sleep, or journalctl -f on a quiet journal) would run on
// after the session, its revocation or its limits. The gate therefore
// watches its stdout and stderr: when sshd's side of either is gone (a pipe
// with no reader, a hung-up terminal), it sends the command's process group
// SIGTERM, and SIGKILL after killGrace. Stdin says nothing about the
// channel (`ssh host cmd < /dev/null` closes it at once) and is not
// watched. When the command itself ends, whatever it left running in its
// group is killed, so nothing the gate started outlives the session.
//
// Signals the gate receives (TERM, INT, HUP, QUIT) are passed on to the
// group. The exit status is the command's; when a signal killed it, the gate
// kills itself with the same signal where Go lets it (HUP, INT, TERM, KILL)
// and otherwise exits 128+N, as a shell would.
func supervise(path string, argv, env []string) (int, error) {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if tty, ok := foregroundTerminal(); ok {
		// The command takes over the terminal, so that it may read it
		// (a background group would be stopped) and gets its signals.
		attr.Foreground, attr.Ctty = true, tty
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: env, Files: []uintptr{0, 1, 2}, Sys: attr})
	if err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() { waitExited(pid); close(exited) }()
	hungUp := make(chan struct{})
	go func() { waitHangUp(1, 2); close(hungUp) }()

	for running := true; running; {
		select {
		case <-exited:
			running = false
		case <-hungUp:
			endGroup(pid, exited)
			running = false
		case sig := <-sigs:
			syscall.Kill(-pid, sig.(syscall.Signal)) //nolint:errcheck // the group may be gone
		}
	}
	// The child is a zombie until reaped below, so its process group ID
	// cannot have been reused: this reaches only what it left behind.
	syscall.Kill(-pid, syscall.SIGKILL) //nolint:errcheck // usually nobody is left
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	return exitStatus(ws), nil
}

// endGroup ends the process group pgid: SIGTERM (and SIGCONT, so that a
// stopped process sees it), then SIGKILL if its leader has not exited
// within killGrace. It returns once the leader has exited.
func endGroup(pgid int, exited <-chan struct{}) {
	syscall.Kill(-pgid, syscall.SIGTERM) //nolint:errcheck // the group may be gone
	syscall.Kill(-pgid, syscall.SIGCONT) //nolint:errcheck
	timer := time.NewTimer(killGrace)
	defer timer.Stop()
	select {
	case <-exited:
	case <-timer.C:
		syscall.Kill(-pgid, syscall.SIGKILL) //nolint:errcheck
		<-exited
	}
}

// waitExited returns once process pid has exited, without reaping it.
func waitExited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// waitHangUp returns once the other end of one of fds is gone: a pipe
// without a reader reports POLLERR, a closed socket or a hung-up terminal
// POLLHUP. A descriptor that is not open, or can report neither (a file,
// /dev/null), is not watched; with none left, waitHangUp never returns.
func waitHangUp(fds ...int) {
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd)} // no events: only errors and hang-ups are reported
	}
	for {
		_, err := unix.Poll(pfds, -1)
		if err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			select {} // cannot watch: the command ends by itself
		}
		watched := 0
		for i := range pfds {
			switch r := pfds[i].Revents; {
			case r&unix.POLLNVAL != 0:
				pfds[i].Fd = -1
			case r&(unix.POLLERR|unix.POLLHUP) != 0:
				return
			}
			if pfds[i].Fd >= 0 {
				watched++
			}
		}
		if watched == 0 {
			select {}
		}
	}
}

// foregroundTerminal returns the gate's stdin if it is a terminal whose
// foreground process group is the gate's.
func foregroundTerminal() (int, bool) {
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return 0, err == nil && pgrp == syscall.Getpgrp()
}

// exitStatus turns the command's wait status into the gate's: its exit
// status, or, when a signal killed it, that signal raised on the gate
// itself if Go lets it die of it, else 128+N.
func exitStatus(ws syscall.WaitStatus) int {
	if !ws.Signaled() {
		return ws.ExitStatus()
	}
	sig := ws.Signal()
	switch sig {
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL:
		signal.Reset(sig)
		unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}) //nolint:errcheck // no core file of the gate's own
		syscall.Kill(os.Getpid(), sig)                   //nolint:errcheck
		// Go's runtime delivers it on another thread: wait for it.
		time.Sleep(time.Second)
	}
	return 128 + int(sig)
}
