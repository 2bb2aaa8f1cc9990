package recording

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// exportHeader is the header of an exported file: standard asciicast v2
// fields only.
type exportHeader struct {
	Version   int               `json:"version"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	Timestamp int64             `json:"timestamp,omitempty"`
	Command   string            `json:"command,omitempty"`
	Title     string            `json:"title,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
}

// Export writes rec as a plain asciicast v2 file that any asciinema
// player plays as it is: uncompressed, with standard header fields only,
// and safe to show.
//
//   - Output ("o") goes through a Sanitizer, as Play writes it; bytes that
//     are not UTF-8 become U+FFFD. A recording made without a terminal has
//     each bare line feed written as CR LF, as the terminal that showed it
//     did, so a player shows each line from column 0.
//   - Resizes ("r") and markers ("m") are kept; Lockbox's own events become
//     markers: "exec: CMD", "signal INT sent", "exit status 0", "killed by
//     signal KILL". Players skip markers or show them as such.
//   - Input ("i") is left out: it holds whatever the user typed, passwords
//     at a prompt included.
//   - Header text and marker labels have control characters replaced by
//     U+FFFD, so that a player that shows them is not steered by them.
//
// Export returns the first error writing to w.
func Export(w io.Writer, rec *Recording) error {
	bw := bufio.NewWriter(w)
	h := exportHeader{Version: 2, Width: rec.Header.Width, Height: rec.Header.Height,
		Command: plainLabel(rec.Header.Command), Title: plainLabel(rec.Header.Title)}
	if !rec.Header.Timestamp.IsZero() {
		h.Timestamp = rec.Header.Timestamp.Unix()
	}
	if t := plainLabel(rec.Header.Term); t != "" {
		h.Env = map[string]string{"TERM": t}
	}
	line, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("recording: exporting: %w", err)
	}
	bw.Write(append(line, '\n')) //nolint:errcheck // Flush returns it
	var clean bytes.Buffer
	san := NewSanitizer(&clean)
	lf := lineFeeds{terminal: rec.Header.Terminal}
	for _, ev := range rec.Events {
		var kind, data string
		switch ev.Kind {
		case 'o':
			clean.Reset()
			san.Write(ev.Data) //nolint:errcheck // a bytes.Buffer does not fail
			if clean.Len() == 0 {
				continue
			}
			kind, data = "o", lf.convert(strings.ToValidUTF8(clean.String(), "\uFFFD"))
		case 'r':
			kind, data = "r", string(ev.Data)
		case 'm':
			kind, data = "m", plainLabel(string(ev.Data))
		default:
			label, ok := describeEvent(ev)
			if !ok {
				continue
			}
			kind, data = "m", plainLabel(label)
		}
		if err := writeExportEvent(bw, ev, kind, data); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("recording: exporting: %w", err)
	}
	return nil
}

func writeExportEvent(bw *bufio.Writer, ev Event, kind, data string) error {
	d, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("recording: exporting: %w", err)
	}
	line := appendSeconds(append(make([]byte, 0, len(d)+24), '['), ev.Time)
	line = append(line, ", "...)
	line = strconv.AppendQuote(line, kind)
	line = append(line, ", "...)
	line = append(line, d...)
	line = append(line, "]\n"...)
	_, err = bw.Write(line)
	return err
}

// lineFeeds writes bare line feeds as CR LF for output recorded without a
// terminal, remembering whether the last byte written was a CR.
type lineFeeds struct {
	terminal bool
	afterCR  bool
}

func (l *lineFeeds) convert(s string) string {
	if l.terminal || s == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && !l.afterCR {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
		l.afterCR = s[i] == '\r'
	}
	return b.String()
}

// plainLabel returns s with control characters (C0, DEL, C1) and invalid
// UTF-8 replaced by U+FFFD.
func plainLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return utf8.RuneError
		}
		return r
	}, s)
}
