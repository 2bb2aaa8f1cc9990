package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

// playWithAsciinema plays an exported file with Debian's asciinema, fast,
// without a controlling terminal, and returns what it wrote.
func playWithAsciinema(t *testing.T, asciinema, cast string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// timeout(1) as well, as a player that hangs must not hang the test.
	cmd := exec.CommandContext(ctx, "timeout", "30", asciinema, "play", "--speed", "50", "--idle-time-limit", "0.01", cast)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PYTHONIOENCODING=utf-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no /dev/tty for it to read keys from
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("asciinema play %s: %v\n%s", cast, err, errOut.String())
	}
	if errOut.Len() > 0 {
		t.Fatalf("asciinema play complained: %s", errOut.String())
	}
	return out.String()
}

// An exported recording plays in Debian's asciinema as it is, showing
// exactly the sanitised replay, and carries the exec command and the exit
// status as markers.
func TestExportedRecordingPlaysInAsciinema(t *testing.T) {
	t.Parallel()
	asciinema := needTool(t, "asciinema", "asciinema")
	needTool(t, "timeout", "coreutils")
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	script := `'printf "\033]52;c;cm0gLXJmIH4=\007\033[21t\033[31mred\033[0m caf\303\251\n"; seq 1 200; exit 3'`
	if r := w.run(b, key, w.code("alice", 0), []string{"-tt"}, "sh", "-c", script); r.code != 3 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	s, rec := w.recordingOf("alice")
	if !rec.Header.Terminal {
		t.Fatal("the session ran without a terminal")
	}
	cast := filepath.Join(t.TempDir(), "session.cast")
	w.ca.ok("erin", "replay", s.ID, "--export", cast)
	data, err := os.ReadFile(cast)
	if err != nil {
		t.Fatal(err)
	}
	if recording.ContentType(data) == "application/gzip" {
		t.Fatal("the export is compressed")
	}
	for _, want := range []string{`"m", "exec: sh -c `, `"m", "exit status 3"`, `"m", "session ended: exited with status 3"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the export lacks %s:\n%s", want, data)
		}
	}

	played := playWithAsciinema(t, asciinema, cast)
	replayed := w.ca.ok("erin", "replay", s.ID, "--speed", "1000")
	if played != replayed {
		t.Fatalf("asciinema showed %q,\nthe sanitised replay %q", played, replayed)
	}
	if !strings.Contains(played, "\x1b[31mred\x1b[0m café\r\n") || !strings.Contains(played, "200\r\n") || strings.Contains(played, "\x1b]52") {
		t.Fatalf("asciinema showed %q", played)
	}

	// Without a terminal the output holds bare line feeds; the export
	// writes them as the viewer's terminal showed them, CR LF.
	if r := w.run(b, key, w.code("alice", 1), nil, "sh", "-c", `'printf "one\ntwo\n"'`); r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	s, rec = w.recordingOf("alice")
	if rec.Header.Terminal {
		t.Fatal("the second session ran on a terminal")
	}
	w.ca.ok("erin", "replay", s.ID, "--export", cast+".2")
	played = playWithAsciinema(t, asciinema, cast+".2")
	replayed = w.ca.ok("erin", "replay", s.ID, "--speed", "1000")
	if replayed != "one\ntwo\n" || played != "one\r\ntwo\r\n" {
		t.Fatalf("asciinema showed %q, the replay %q", played, replayed)
	}
}

// A recording holds the exec command, the signals the client sent and how
// the command ended, as events of their own, in the order they happened.
func TestRecordingHoldsExecSignalAndExitEvents(t *testing.T) {
	t.Parallel()
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
	stdout, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	const command = "echo ready; sleep 2; exit 5"
	if err := s.Start(command); err != nil {
		t.Fatal(err)
	}
	ready := make([]byte, 6)
	if _, err := io.ReadFull(stdout, ready); err != nil || string(ready) != "ready\n" {
		t.Fatalf("read %q: %v", ready, err)
	}
	if err := s.Signal(ssh.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = s.Wait()
	var exit *ssh.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the command ended with %v, want an exit status or signal", err)
	}
	// sshd delivers the signal to logins other than root; as root the
	// command runs on to its exit status. Either way the recording says so.
	want := "5"
	if exit.Signal() != "" {
		want = "signal " + exit.Signal()
	}
	_, rec := w.recordingOf("alice")
	var kinds []string
	for _, ev := range rec.Events {
		switch ev.Kind {
		case 'c', 's', 'x':
			kinds = append(kinds, string(ev.Kind)+" "+string(ev.Data))
		}
	}
	if got := strings.Join(kinds, "|"); got != "c "+command+"|s INT|x "+want {
		t.Fatalf("the recording's own events are %q", got)
	}
}
