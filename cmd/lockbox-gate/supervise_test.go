package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lockbox-ssh/lockbox/internal/proctest"
)

// gone is how long a command may take to end once the gate should end it:
// at once after SIGTERM, on a loaded machine.
const gone = 5 * time.Second

// channel is the gate started as sshd starts a forced command without a
// terminal: stdin, stdout and stderr are pipes whose other ends stand for
// sshd's side of the session channel.
type channel struct {
	cmd            *exec.Cmd
	stdin          *os.File      // sshd's write end of the command's stdin
	stdout, stderr *os.File      // sshd's read ends
	exited         chan struct{} // closed once the gate has exited
	err            error         // what Wait returned, once exited is closed
}

// startGate runs the gate with patterns for command. closedStdin starts the
// command with stdin at end of file, as `ssh host cmd < /dev/null` does.
func startGate(t *testing.T, gate string, patterns []string, command string, closedStdin bool) *channel {
	t.Helper()
	c := &channel{exited: make(chan struct{})}
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	errR, errW := pipe(t)
	c.stdin, c.stdout, c.stderr = inW, outR, errR
	c.cmd = exec.Command(gate, append([]string{"--"}, patterns...)...)
	c.cmd.Env = append(os.Environ(), "SSH_ORIGINAL_COMMAND="+command)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = inR, outW, errW
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*os.File{inR, outW, errW} {
		f.Close()
	}
	if closedStdin {
		inW.Close()
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.cmd.Process.Kill() //nolint:errcheck // ended already is fine
		<-c.exited
	})
	return c
}

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// hangUp closes sshd's side of the channel, as sshd does when the
// connection goes or the channel is closed.
func (c *channel) hangUp() {
	c.stdin.Close()
	c.stdout.Close()
	c.stderr.Close()
}

// The gate ends the command it started when its side of the channel goes,
// even though stdin was closed from the start (so stdin says nothing about
// the channel), and then exits itself.
func TestGateEndsTheCommandWhenTheChannelCloses(t *testing.T) {
	gate := buildGate(t)
	for _, closedStdin := range []bool{false, true} {
		t.Run(fmt.Sprintf("stdin closed from the start: %v", closedStdin), func(t *testing.T) {
			sleep := proctest.UniqueSleep()
			c := startGate(t, gate, []string{"sleep *"}, strings.Join(sleep, " "), closedStdin)
			proctest.WaitRunning(t, gone, sleep...)
			c.hangUp()
			took := proctest.WaitGone(t, gone, sleep...)
			t.Logf("the command was gone %v after the channel closed", took.Round(time.Millisecond))
			select {
			case <-c.exited:
			case <-time.After(gone):
				t.Fatal("the gate did not exit after ending its command")
			}
		})
	}
}

// A command that ignores SIGTERM is killed after the grace period.
func TestGateKillsACommandThatIgnoresTERM(t *testing.T) {
	gate := buildGate(t)
	sleep := proctest.UniqueSleep()
	c := startGate(t, gate, []string{"sh -c *"}, "sh -c 'trap \"\" TERM; "+strings.Join(sleep, " ")+"'", true)
	proctest.WaitRunning(t, gone, sleep...)
	c.hangUp()
	took := proctest.WaitGone(t, killGrace+gone, sleep...)
	t.Logf("gone %v after the channel closed (grace %v)", took.Round(time.Millisecond), killGrace)
}

// What the command leaves running in its process group when it exits is
// ended with it: nothing the gate started outlives the session.
func TestGateEndsWhatTheCommandLeftRunning(t *testing.T) {
	gate := buildGate(t)
	sleep := proctest.UniqueSleep()
	proctest.KillAtCleanup(t, sleep...)
	c := startGate(t, gate, []string{"sh -c *"}, "sh -c '"+strings.Join(sleep, " ")+" >/dev/null 2>&1 & echo started'", true)
	<-c.exited
	if c.err != nil {
		t.Fatalf("gate: %v", c.err)
	}
	proctest.WaitGone(t, gone, sleep...)
}

// A command that does not read stdin runs to its end with stdin closed
// early, and the gate passes on its output and exit status; a command
// killed by a signal kills the gate with the same signal.
func TestGateRunsCommandsToTheirEnd(t *testing.T) {
	gate := buildGate(t)
	tests := []struct {
		name, command string
		closedStdin   bool
		wantOut       string
		wantStatus    int
		wantSignal    syscall.Signal
	}{
		{"output after stdin closed", "sh -c 'sleep 1; echo done'", true, "done\n", 0, 0},
		{"stdin passed on", "sh -c 'read x; echo got $x'", false, "got line\n", 0, 0},
		{"exit status passed on", "sh -c 'echo out; exit 3'", true, "out\n", 3, 0},
		{"killed by TERM", "sh -c 'kill -TERM $$'", true, "", 0, syscall.SIGTERM},
		{"killed by KILL", "sh -c 'kill -KILL $$'", true, "", 0, syscall.SIGKILL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startGate(t, gate, []string{"sh -c *"}, tc.command, tc.closedStdin)
			if !tc.closedStdin {
				c.stdin.WriteString("line\n") //nolint:errcheck // checked by the output
				c.stdin.Close()
			}
			var out bytes.Buffer
			done := make(chan struct{})
			go func() { out.ReadFrom(c.stdout); close(done) }() //nolint:errcheck
			<-c.exited
			err := c.err
			<-done
			var exit *exec.ExitError
			status, sig := 0, syscall.Signal(0)
			if errors.As(err, &exit) {
				ws := exit.Sys().(syscall.WaitStatus)
				status = ws.ExitStatus()
				if ws.Signaled() {
					sig = ws.Signal()
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.wantOut || sig != tc.wantSignal || (sig == 0 && status != tc.wantStatus) {
				t.Errorf("stdout %q, status %d, signal %v; want %q, %d, %v", out.String(), status, sig, tc.wantOut, tc.wantStatus, tc.wantSignal)
			}
		})
	}
}

// On a terminal (a role's certificate never permits one with allowed
// commands, but sshd would give the gate the terminal as stdin, stdout and
// stderr), the command runs in the foreground, so it can read the
// terminal, and ends when the terminal hangs up.
func TestGateOnATerminal(t *testing.T) {
	gate := buildGate(t)
	newTerminal := func(t *testing.T) (master, slave *os.File) {
		m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			t.Fatalf("no pseudo-terminal: %v", err)
		}
		if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
			t.Fatal(err)
		}
		n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
		if err != nil {
			t.Fatal(err)
		}
		s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(); s.Close() })
		return m, s
	}
	// start runs the gate as sshd runs a session on a terminal: a new
	// session whose controlling terminal is slave.
	start := func(t *testing.T, slave *os.File, command string) chan error {
		cmd := exec.Command(gate, "--", "sh -c *", "sleep *")
		cmd.Env = append(os.Environ(), "SSH_ORIGINAL_COMMAND="+command)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		slave.Close()
		exited := make(chan error, 1)
		done := make(chan struct{})
		go func() { exited <- cmd.Wait(); close(done) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-done }) //nolint:errcheck
		return exited
	}
	t.Run("the command reads the terminal", func(t *testing.T) {
		master, slave := newTerminal(t)
		exited := start(t, slave, "sh -c 'read x; echo got:$x'")
		master.WriteString("hello\n") //nolint:errcheck
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("gate: %v", err)
			}
		case <-time.After(gone):
			t.Fatal("the command did not finish: it could not read its terminal")
		}
		// The terminal's echo of the input and the command's output may
		// come in separate reads; the command has exited, so reading
		// ends (EIO) once what it wrote is read.
		var out []byte
		buf := make([]byte, 256)
		for !strings.Contains(string(out), "got:hello") {
			n, err := master.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		if !strings.Contains(string(out), "got:hello") {
			t.Errorf("terminal output %q", out)
		}
	})
	t.Run("a hang-up ends the command", func(t *testing.T) {
		master, slave := newTerminal(t)
		sleep := proctest.UniqueSleep()
		exited := start(t, slave, strings.Join(sleep, " "))
		proctest.WaitRunning(t, gone, sleep...)
		master.Close()
		proctest.WaitGone(t, gone, sleep...)
		select {
		case <-exited:
		case <-time.After(gone):
			t.Fatal("the gate did not exit")
		}
	})
}
