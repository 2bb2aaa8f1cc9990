package recording

import (
	"fmt"
	"strconv"
	"strings"
)

// eventKinds are the kinds Read accepts: asciicast v2's output, input,
// resize and marker, then Lockbox's own (exec command, signal, exit).
const eventKinds = "oirmcsx"

// byteKinds are the kinds of output and input written as base64 bytes
// (see Writer.stream), in eventKinds' order: "O" is output, "I" input.
const byteKinds = "OI"

// maxSignalName bounds a signal name; SSH's are short ("INT", "USR1"), and
// RFC 4254 allows "name@domain" for others.
const maxSignalName = 64

// validSignal reports whether s can be a signal name as SSH sends it
// (without "SIG"): letters, digits and "@._+-", at most maxSignalName.
func validSignal(s string) bool {
	if s == "" || len(s) > maxSignalName {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', strings.IndexByte("@._+-", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// validExit reports whether s is exit data: a decimal exit status (0 to
// 4294967295, without leading zeros) or "signal NAME".
func validExit(s string) bool {
	if name, ok := strings.CutPrefix(s, "signal "); ok {
		return validSignal(name)
	}
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// Exec records the command the session runs ("c"), when the target is
// asked to run it.
func (w *Writer) Exec(command string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event('c', []byte(command))
}

// Signal records a signal the client sent to the session's command ("s"),
// by its SSH name ("INT", "TERM"). A name that is not one is refused with
// ErrBadValue and not recorded; that error is not sticky.
func (w *Writer) Signal(name string) error {
	if !validSignal(name) {
		return fmt.Errorf("%w: signal name %q", ErrBadValue, name)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event('s', []byte(name))
}

// ExitStatus records the exit status the target reported ("x").
func (w *Writer) ExitStatus(status uint32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event('x', strconv.AppendUint(nil, uint64(status), 10))
}

// ExitSignal records that the target reported the command killed by a
// signal ("x", "signal NAME"). A name that is not a signal name is
// refused with ErrBadValue and not recorded; that error is not sticky.
func (w *Writer) ExitSignal(name string) error {
	if !validSignal(name) {
		return fmt.Errorf("%w: signal name %q", ErrBadValue, name)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event('x', []byte("signal "+name))
}

// describeEvent is how a player that shows markers should label one of
// Lockbox's own events, and whether ev is one.
func describeEvent(ev Event) (string, bool) {
	switch ev.Kind {
	case 'c':
		return "exec: " + string(ev.Data), true
	case 's':
		return "signal " + string(ev.Data) + " sent", true
	case 'x':
		if name, ok := strings.CutPrefix(string(ev.Data), "signal "); ok {
			return "killed by signal " + name, true
		}
		return "exit status " + string(ev.Data), true
	}
	return "", false
}
