package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// apiClient signs as who, for what the CLI does not expose raw.
func (w *world) apiClient(who string) *client.Client {
	key, err := apiauth.LoadKeyFile(filepath.Join(w.ca.keys, who))
	if err != nil {
		w.t.Fatal(err)
	}
	cl, err := client.New(w.ca.url, &apiauth.Signer{Principal: "user:" + who, Key: key}, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return cl
}

// recordingOf waits until the latest session of who has its recording
// stored, and returns the session and the recording.
func (w *world) recordingOf(who string) (wire.Session, *recording.Recording) {
	w.t.Helper()
	s, rec, _ := w.recordingFileOf(who)
	return s, rec
}

// recordingFileOf is recordingOf that also returns the file as stored.
func (w *world) recordingFileOf(who string) (wire.Session, *recording.Recording, []byte) {
	w.t.Helper()
	var s wire.Session
	waitFor(w.t, 30*time.Second, "the recording to be uploaded", func() bool {
		var list []wire.Session
		if err := json.Unmarshal([]byte(w.ca.ok(who, "--json", "sessions")), &list); err != nil {
			w.t.Fatal(err)
		}
		if len(list) == 0 || list[0].RecordingSize == 0 {
			return false
		}
		s = list[0]
		return true
	})
	data, err := w.apiClient(who).Recording(context.Background(), s.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	// Stored and served compressed, as the bastion wrote it.
	if ct := recording.ContentType(data); ct != "application/gzip" {
		w.t.Fatalf("the recording is %s, want application/gzip", ct)
	}
	rec, err := recording.Read(bytes.NewReader(data), 1<<30)
	if err != nil {
		w.t.Fatal(err)
	}
	return s, rec, data
}

// The bytes in a recording are the bytes the client received.
func TestRecordingHoldsExactlyWhatTheClientReceived(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	r := w.run(b, key, w.code("alice", 0), nil, "sh", "-c", `'seq 1 100000; printf "\303\251\377\376 done\n"'`)
	if r.code != 0 || !strings.HasSuffix(r.stdout, " done\n") {
		t.Fatalf("exit %d, stderr %q, tail %q", r.code, r.stderr, r.stdout[max(0, len(r.stdout)-20):])
	}
	s, rec := w.recordingOf("alice")
	if got := recording.Output(rec); !bytes.Equal(got, []byte(r.stdout)) {
		t.Fatalf("the recording holds %d bytes, the client received %d", len(got), len(r.stdout))
	}
	if rec.Header.User != "alice" || rec.Header.Resource != "db-1" || rec.Header.Session != s.ID || rec.Truncated || rec.Header.Terminal {
		t.Fatalf("header %+v, truncated %v", rec.Header, rec.Truncated)
	}
}

// Binary output (random bytes) goes into the recording as byte events,
// between text events, and reads back as exactly what the client received.
func TestBinaryOutputIsRecordedExactlyAsByteEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	r := w.run(b, key, w.code("alice", 0), nil, "sh", "-c", `'seq 1 20000; head -c 300000 /dev/urandom; echo; echo done'`)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "\ndone\n") || len(r.stdout) < 300000 {
		t.Fatalf("exit %d, stderr %q, %d bytes", r.code, r.stderr, len(r.stdout))
	}
	_, rec, data := w.recordingFileOf("alice")
	if got := recording.Output(rec); !bytes.Equal(got, []byte(r.stdout)) {
		t.Fatalf("the recording holds %d bytes, the client received %d", len(got), len(r.stdout))
	}
	z, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte(`"format":2`)) || !bytes.Contains(text, []byte(`, "O", "`)) || !bytes.Contains(text, []byte(`, "o", "1\n2\n3\n`)) {
		t.Errorf("the recording has no format 2 header, no byte events or no text events:\n%.400s", text)
	}
}

// Replay never lets a recording talk to the viewer's terminal.
func TestReplayNeutralisesTerminalEscapes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	evil := `'printf "\033]52;c;cm0gLXJmIH4=\007\033[21t\033[6n\033P+q544e\033\\\\\033[31mred\033[0m visible\n"'`
	if r := w.run(b, key, w.code("alice", 0), nil, "sh", "-c", evil); r.code != 0 || !strings.Contains(r.stdout, "\x1b]52;") {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	s, _ := w.recordingOf("alice")
	out := w.ca.ok("erin", "replay", s.ID, "--speed", "100")
	if !strings.Contains(out, "\x1b[31mred\x1b[0m visible") {
		t.Fatalf("replay lost the harmless parts: %q", out)
	}
	for _, bad := range []string{"\x1b]52", "\x1b[21t", "\x1b[6n", "\x1bP"} {
		if strings.Contains(out, bad) {
			t.Fatalf("replay passed %q through: %q", bad, out)
		}
	}
}

var lineNumber = regexp.MustCompile(`line (\d+)\n`)

func lastLine(s string) int {
	m := lineNumber.FindAllStringSubmatch(s, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// A bastion killed mid-session loses at most the last second of the
// recording, and uploads the rest when it starts again.
func TestRecordingSurvivesABastionKill(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, _, _ := w.ssh(ctx, b, key, w.code("alice", 0), nil, "timeout", "30", "sh", "-c", `'i=0; while :; do i=$((i+1)); echo line $i; sleep 0.02; done'`)
	var stdout syncBuffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "two seconds of output", func() bool { return lastLine(stdout.String()) > 100 })
	b.kill()
	cmd.Wait()
	received := lastLine(stdout.String())
	b.restart()
	s, rec := w.recordingOf("alice")
	recorded := lastLine(string(recording.Output(rec)))
	// 20 ms a line: one second is 50 lines; allow for the sleep's slack.
	if recorded < received-60 {
		t.Fatalf("the recording ends at line %d, the client saw %d: more than a second lost", recorded, received)
	}
	if !strings.Contains(s.EndReason, "bastion stopped") {
		t.Fatalf("end reason %q", s.EndReason)
	}
	t.Logf("client saw line %d, recording kept line %d", received, recorded)
}

// If the recording cannot be written, the session ends (fail closed),
// telling the user why in words and the log in detail.
func TestRecordingFailureEndsTheSession(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	// Restart the bastion with a 64 KiB limit on the files it writes.
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Wait()
	b.restartWrapped("sh", "-c", `ulimit -f 128; exec "$0" "$@"`)
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	r := w.run(b, key, w.code("alice", 0), nil, "timeout", "30", "sh", "-c", `'while :; do seq 1 1000; sleep 0.01; done'`)
	// The user reads what happened in words, not the spool's path, and
	// the client exits with the status for a recording failure.
	want := "lockbox: session ended: the recording failed, so the session ends (the recording grew past the bastion's file size limit)"
	if r.code != 204 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, ".cast.gz") || strings.Contains(r.stderr, b.dir) {
		t.Fatalf("exit %d (want 204), stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(b.log.String(), ".cast.gz") {
		t.Fatalf("the bastion's log does not name the file that failed:\n%s", b.log.String())
	}
}
