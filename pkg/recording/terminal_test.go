package recording

import (
	"bytes"
	"testing"
	"time"
)

// A recording says whether its session ran on a terminal: output without
// one holds bare line feeds, which a viewer must show as a terminal's
// line discipline would (each line from column 0).
func TestHeaderRecordsWhetherTheSessionHadATerminal(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		f := newMemFile()
		w, err := NewWriter(f, Header{Width: 80, Height: 24, Timestamp: t0, Terminal: terminal}, WriterOptions{FlushEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rec, err := Read(bytes.NewReader(f.bytes()), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Header.Terminal != terminal {
			t.Errorf("written with Terminal %v, read back %v", terminal, rec.Header.Terminal)
		}
	}
}

// Recordings made before the header said so: the bastion wrote env.TERM
// only for sessions on a terminal.
func TestHeaderWithoutTheTerminalFieldFallsBackToTERM(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{`{"version":2,"width":80,"height":24,"env":{"TERM":"xterm"},"lockbox":{"session":"s"}}`, true},
		{`{"version":2,"width":80,"height":24,"lockbox":{"session":"s"}}`, false},
		{`{"version":2,"width":80,"height":24}`, false},
		{`{"version":2,"width":80,"height":24,"env":{"TERM":"xterm"},"lockbox":{"terminal":false}}`, false},
	} {
		rec, err := Read(bytes.NewReader([]byte(tc.header+"\n")), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Header.Terminal != tc.want {
			t.Errorf("%s: Terminal %v, want %v", tc.header, rec.Header.Terminal, tc.want)
		}
	}
}
