package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWriterRecordsExecSignalsAndExitAsEventsOfTheirOwn(t *testing.T) {
	clock := newFakeClock()
	w, f := newTestWriter(t, WriterOptions{Clock: clock.Now})
	mustNil(t, w.Exec("tail -f /var/log/syslog"))
	clock.Advance(time.Second)
	mustNil(t, w.Signal("INT"))
	mustNil(t, w.ExitStatus(130))
	mustNil(t, w.ExitSignal("KILL"))
	if err := w.Signal("SIG INT"); !errors.Is(err, ErrBadValue) {
		t.Fatalf("a bad signal name: %v, want ErrBadValue", err)
	}
	if err := w.ExitSignal(""); !errors.Is(err, ErrBadValue) {
		t.Fatalf("an empty exit signal: %v, want ErrBadValue", err)
	}
	mustNil(t, w.Err()) // refusals are not sticky
	mustNil(t, w.Close())
	rec := readBytes(t, f.bytes())
	want := []Event{
		{Kind: 'c', Data: []byte("tail -f /var/log/syslog")},
		{Time: time.Second, Kind: 's', Data: []byte("INT")},
		{Time: time.Second, Kind: 'x', Data: []byte("130")},
		{Time: time.Second, Kind: 'x', Data: []byte("signal KILL")},
	}
	if diff := cmp.Diff(want, rec.Events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

func TestReadRefusesBadSignalAndExitData(t *testing.T) {
	for _, line := range []string{
		`[0, "s", ""]`, `[0, "s", "SIG INT"]`, `[0, "s", "\u001b[2J"]`,
		`[0, "x", ""]`, `[0, "x", "-1"]`, `[0, "x", "007"]`, `[0, "x", "4294967296"]`, `[0, "x", "signal "]`, `[0, "x", "signal a b"]`,
		`[0, "q", "x"]`,
	} {
		in := validHeader + "\n" + line + "\n" + `[1, "o", "after"]` + "\n"
		if _, err := Read(strings.NewReader(in), 1<<20); !errors.Is(err, ErrBadEvent) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: %v, want ErrBadEvent at line 2", line, err)
		}
	}
}

func TestReadKeepsRecordingsMadeBeforeLockboxEvents(t *testing.T) {
	// What the bastion wrote before exec, signal and exit events: only
	// asciicast's own kinds. It reads as it always did.
	in := validHeader + "\n" + `[0.5, "o", "hi"]` + "\n" + `[1, "r", "100x40"]` + "\n" + `[2, "m", "session ended: logged out"]` + "\n"
	rec, err := Read(strings.NewReader(in), 1<<20)
	mustNil(t, err)
	if len(rec.Events) != 3 || rec.Truncated || string(Output(rec)) != "hi" {
		t.Fatalf("got %+v", rec)
	}
}

func newHeaderWriter(t *testing.T, clock *fakeClock, h Header) (*Writer, *memFile) {
	t.Helper()
	f := newMemFile()
	w, err := NewWriter(f, h, WriterOptions{Clock: clock.Now, FlushEvery: time.Hour})
	mustNil(t, err)
	return w, f
}

// exportLines parses an exported file: its header as a map and its events.
func exportLines(t *testing.T, cast []byte) (map[string]any, [][3]any) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(cast), "\n"), "\n")
	var h map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
		t.Fatalf("header %s: %v", lines[0], err)
	}
	var evs [][3]any
	for _, l := range lines[1:] {
		var ev [3]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("event %s: %v", l, err)
		}
		evs = append(evs, ev)
	}
	return h, evs
}

func TestExportWritesPlainSanitisedAsciicast(t *testing.T) {
	clock := newFakeClock()
	h := testHeader()
	h.Command, h.Title, h.Terminal = "echo \x1b]0;pwned\x07", "t\u009bitle", true
	w, f := newHeaderWriter(t, clock, h)
	mustNil(t, w.Exec(h.Command))
	clock.Advance(time.Second)
	mustNil(t, w.Output([]byte("a\x1b]52;c;Y2xpcA==\x07b \x1b[31mred\x1b[0m \xff")))
	mustNil(t, w.Input([]byte("secret\r")))
	mustNil(t, w.Resize(100, 40))
	mustNil(t, w.Signal("INT"))
	mustNil(t, w.ExitStatus(130))
	mustNil(t, w.Marker("session ended: exited with status 130"))
	mustNil(t, w.Close())
	rec := readBytes(t, f.bytes())

	var cast bytes.Buffer
	mustNil(t, Export(&cast, rec))
	if isGzip(cast.Bytes()) {
		t.Fatal("the export is compressed")
	}
	hdr, evs := exportLines(t, cast.Bytes())
	wantHeader := map[string]any{"version": 2.0, "width": 80.0, "height": 24.0, "timestamp": float64(t0.Unix()),
		"command": "echo \uFFFD]0;pwned\uFFFD", "title": "t\uFFFDitle", "env": map[string]any{"TERM": "xterm-256color"}}
	if diff := cmp.Diff(wantHeader, hdr); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	want := [][3]any{
		{0.0, "m", "exec: echo \uFFFD]0;pwned\uFFFD"},
		{1.0, "o", "ab \x1b[31mred\x1b[0m \uFFFD"},
		{1.0, "r", "100x40"},
		{1.0, "m", "signal INT sent"},
		{1.0, "m", "exit status 130"},
		{1.0, "m", "session ended: exited with status 130"},
	}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Lockbox reads its own export back.
	if _, err := Read(bytes.NewReader(cast.Bytes()), 1<<20); err != nil {
		t.Fatal(err)
	}
}

func TestExportOfSessionWithoutTerminalEndsLinesWithCRLF(t *testing.T) {
	h := testHeader()
	h.Terminal, h.Term = false, ""
	w, f := newHeaderWriter(t, newFakeClock(), h)
	mustNil(t, w.Output([]byte("one\ntwo\r")))
	mustNil(t, w.Output([]byte("\nthree\n")))
	mustNil(t, w.Close())
	var cast bytes.Buffer
	mustNil(t, Export(&cast, readBytes(t, f.bytes())))
	_, evs := exportLines(t, cast.Bytes())
	var out string
	for _, ev := range evs {
		out += ev[2].(string)
	}
	if out != "one\r\ntwo\r\nthree\r\n" {
		t.Fatalf("output %q", out)
	}
}
