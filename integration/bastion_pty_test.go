package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
)

// tmux drives a real terminal for interactive tests.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, cols, rows int, command string) *tmux {
	needTool(t, "tmux", "tmux")
	m := &tmux{t: t, socket: "lockbox-test-" + strings.ReplaceAll(t.Name(), "/", "-")}
	m.run("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", itoa(cols), "-y", itoa(rows), command)
	t.Cleanup(func() { exec.Command("tmux", "-L", m.socket, "kill-server").Run() })
	return m
}

func itoa(n int) string { return strconv.Itoa(n) }

func (m *tmux) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (m *tmux) keys(keys ...string) { m.run(append([]string{"send-keys", "-t", "t"}, keys...)...) }

func (m *tmux) screen() string {
	out, err := exec.Command("tmux", "-L", m.socket, "capture-pane", "-p", "-t", "t").CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

// waitScreen waits until the screen shows want.
func (m *tmux) waitScreen(want string) {
	m.t.Helper()
	m.waitFunc(fmt.Sprintf("%q", want), func(screen string) bool { return strings.Contains(screen, want) })
}

func (m *tmux) waitFunc(what string, ok func(screen string) bool) {
	m.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok(m.screen()) {
		if time.Now().After(deadline) {
			m.t.Fatalf("the screen never showed %s:\n%s", what, m.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A shell through the bastion is a real terminal: its size follows the
// client's window, and full-screen programs work.
func TestInteractiveShellThroughTheBastion(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	if r := w.run(b, key, w.code("alice", 0), nil, "true"); r.code != 0 {
		t.Fatalf("login: exit %d, stderr %q", r.code, r.stderr)
	}
	cmd, _, _ := w.ssh(t.Context(), b, key, "", []string{"-tt"})
	m := newTmux(t, 100, 30, "env -u TMUX TERM=xterm "+shellQuote(cmd.Args))
	m.keys("stty size; echo done-$((6*7))", "Enter")
	m.waitScreen("30 100")
	m.waitScreen("done-42")
	m.run("resize-window", "-t", "t", "-x", "120", "-y", "40")
	m.keys("clear; stty size", "Enter")
	m.waitScreen("40 120")
	file := t.TempDir() + "/vim-test"
	m.keys("vim -u NONE -N "+file, "Enter")
	m.waitScreen("[New]")
	m.keys("i")
	m.waitScreen("-- INSERT --")
	m.keys("written in vim", "Escape")
	m.waitScreen("written in vim")
	m.keys(":wq", "Enter")
	// vim drops typeahead as it exits: wait for the shell's prompt after it.
	m.waitFunc("vim to exit", func(screen string) bool {
		_, after, ok := strings.Cut(screen, "vim-test\n")
		return ok && strings.HasSuffix(strings.TrimRight(after, "\n "), "#")
	})
	m.keys("clear; cat "+file, "Enter")
	m.waitScreen("written in vim")
	m.keys("exit", "Enter")
	deadline := time.Now().Add(10 * time.Second)
	for len(w.openSessions()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the session did not end; open: %+v\nscreen:\n%s", w.openSessions(), m.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, rec := w.recordingOf("alice")
	if rec.Header.Width != 100 || rec.Header.Height != 30 || !rec.Header.Terminal {
		t.Fatalf("recording header %dx%d, terminal %v", rec.Header.Width, rec.Header.Height, rec.Header.Terminal)
	}
	resized := false
	for _, e := range rec.Events {
		if e.Kind == 'r' && string(e.Data) == "120x40" {
			resized = true
		}
	}
	if !resized {
		t.Fatal("the resize is not in the recording")
	}
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Clients that wait for the answer to their pty request before asking for
// a shell (x/crypto, libssh, paramiko) get it at once.
func TestPtyRequestIsAnsweredAtOnce(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil)
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	signer, err := loadCertSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	code := w.code("alice", 0)
	c, err := ssh.Dial("tcp", b.addr, &ssh.ClientConfig{User: "db-1", Timeout: 10 * time.Second,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer), ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
			return []string{code}, nil
		})}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	if waited := time.Since(asked); waited > 5*time.Second {
		t.Fatalf("the pty request was answered after %v", waited)
	}
	out, err := s.Output("stty size")
	if err != nil || strings.TrimSpace(string(out)) != "24 80" {
		t.Fatalf("stty size: %q %v", out, err)
	}
}

func loadCertSigner(key string) (ssh.Signer, error) {
	signer, err := apiauth.LoadKeyFile(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(key + "-cert.pub")
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, err
	}
	return ssh.NewCertSigner(pub.(*ssh.Certificate), signer)
}
