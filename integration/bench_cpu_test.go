package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/proccpu"
)

// The CPU time each path of the throughput benchmark spends per MiB
// relayed. On a shared machine wall-clock throughput moves with the load;
// with both paths CPU-bound on the same cores, their throughput ratio is
// about the inverse of their CPU per MiB, which the load moves far less.

// childrenCPU is the CPU time of pid's children once it has reaped every
// one of them (sshd reaps its per-connection processes as they exit), or
// an error after timeout.
func childrenCPU(pid int, timeout time.Duration) (time.Duration, error) {
	list := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
	deadline := time.Now().Add(timeout)
	for {
		data, err := os.ReadFile(list)
		if err != nil {
			return 0, err
		}
		if len(strings.TrimSpace(string(data))) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("process %d still has children %s after %v", pid, strings.TrimSpace(string(data)), timeout)
		}
		time.Sleep(5 * time.Millisecond) // polling for the exits; there is nothing to wait on
	}
	_, children, err := proccpu.Read(pid)
	return children, err
}

// pathCPU adds up the CPU time one path of the throughput benchmark spent:
// the ssh client (with the ProxyJump's own ssh, which it waits for), the
// process in the middle (the bastion, or the jump host's sshd for its
// connection) and the target's sshd for the connection, with the command
// it runs (the same on both paths).
type pathCPU struct {
	client, middle, target time.Duration
	mib                    float64
}

// measure runs cmd with run and adds what it cost. middle is the bastion's
// PID (its own time counts) or, with middleForks, the jump host's sshd
// (its children's time counts); target is the target's sshd.
func (p *pathCPU) measure(cmd *exec.Cmd, middle int, middleForks bool, target int, mib float64, run func() error) error {
	middleCPU := func() (time.Duration, error) {
		if middleForks {
			return childrenCPU(middle, 10*time.Second)
		}
		self, _, err := proccpu.Read(middle)
		return self, err
	}
	m0, err := middleCPU()
	if err != nil {
		return err
	}
	t0, err := childrenCPU(target, 10*time.Second)
	if err != nil {
		return err
	}
	if err := run(); err != nil {
		return err
	}
	// The target's sshd exits once the middle closed its connection, so
	// read the target first.
	t1, err := childrenCPU(target, 10*time.Second)
	if err != nil {
		return err
	}
	m1, err := middleCPU()
	if err != nil {
		return err
	}
	p.client += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	p.middle += m1 - m0
	p.target += t1 - t0
	p.mib += mib
	return nil
}

// msPerMiB is d per MiB relayed, in milliseconds.
func (p *pathCPU) msPerMiB(d time.Duration) float64 { return ms(d) / p.mib }

func (p *pathCPU) total() time.Duration { return p.client + p.middle + p.target }
