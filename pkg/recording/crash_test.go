package recording

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv, when set, makes TestCrashChild write a recording to the
// path it names until it is killed.
const crashChildEnv = "LOCKBOX_RECORDING_CRASH_CHILD"

// TestCrashChild is the child half of TestWriterLosesAtMostASecondToSIGKILL.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("only run as a child of TestWriterLosesAtMostASecondToSIGKILL")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, testHeader(), WriterOptions{FlushEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Numbered events stamped with the wall clock, every 10ms, until killed
	// (or until a minute has passed, should the parent have died).
	for seq := 0; seq < 6000; seq++ {
		if err := w.Output(fmt.Appendf(nil, "%d %d\n", seq, time.Now().UnixNano())); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("child was not killed")
}

func TestWriterLosesAtMostASecondToSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	path := filepath.Join(t.TempDir(), "crash.cast")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	// Let the child run past a second of recording, so that some events
	// must have survived.
	waitFor(t, 30*time.Second, "1.5s of events on disk", func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("child exited early: %v\n%s", err, stderr.String())
		default:
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		rec, err := Read(bytes.NewReader(data), 1<<30)
		return err == nil && len(rec.Events) > 0 && rec.Events[len(rec.Events)-1].Time > 1500*time.Millisecond
	})
	// Not synchronisation: the condition above is met just after a flush,
	// so move the kill to the middle of a flush interval, where the most
	// is unsynced.
	time.Sleep(150 * time.Millisecond)
	killedAt := time.Now()
	mustNil(t, cmd.Process.Signal(syscall.SIGKILL))
	err := <-exited
	exited <- err
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v\n%s", err, stderr.String())
	}

	data, err := os.ReadFile(path)
	mustNil(t, err)
	rec, err := Read(bytes.NewReader(data), 1<<30)
	if err != nil {
		t.Fatalf("recording left by SIGKILL does not read: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(Output(rec)), "\n"), "\n")
	var last time.Time
	for i, line := range lines {
		seqText, stamp, _ := strings.Cut(line, " ")
		seq, err1 := strconv.Atoi(seqText)
		nanos, err2 := strconv.ParseInt(stamp, 10, 64)
		if err1 != nil || err2 != nil || seq != i {
			t.Fatalf("event %d is %q: events lost or mangled", i, line)
		}
		last = time.Unix(0, nanos)
	}
	// Every event written more than a second before the kill must be there:
	// the child wrote one every 10ms, so the last one recovered must be
	// younger than a second.
	if lost := killedAt.Sub(last); lost > time.Second {
		t.Errorf("last recovered event was written %v before the kill; want under 1s", lost)
	}
	t.Logf("recovered %d events; the last written %v before the kill; truncated=%v",
		len(lines), killedAt.Sub(last).Round(time.Millisecond), rec.Truncated)
}
