package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// endExt names the file that keeps a session's end beside its recording.
const endExt = ".end.json"

// End is how a session ended, kept in the spool beside its recording
// until the CA has both: a bastion that cannot reach the CA when a session
// ends reports the true end (time, reason, exit status) once the CA
// answers again, instead of "the bastion stopped during the session".
type End struct {
	Time       time.Time `json:"time"`
	Reason     string    `json:"reason"`
	ExitStatus *int      `json:"exit_status,omitempty"` // nil: none (the client left, or a signal)
}

// maxEndFile bounds what ReadEnd reads.
const maxEndFile = 16 << 10

// WriteEnd keeps e as session's end, durably (written to a temporary
// file, synced, renamed, directory synced). Writing it again replaces it.
func (s *Spool) WriteEnd(sessionID string, e End) error {
	path, err := s.endPath(sessionID)
	if err != nil {
		return err
	}
	if err := s.writeNote(path, e); err != nil {
		return fmt.Errorf("recording: keeping the end of %s: %w", sessionID, err)
	}
	return nil
}

// writeNote writes v as JSON to path durably: to a temporary file,
// synced, renamed, the directory synced.
func (s *Spool) writeNote(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".note-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(s.dir)
}

// ReadEnd returns the end kept for session; ok is false if none is.
func (s *Spool) ReadEnd(sessionID string) (e End, ok bool, err error) {
	path, err := s.endPath(sessionID)
	if err != nil {
		return End{}, false, err
	}
	ok, err = readNote(path, maxEndFile, &e)
	if err != nil {
		return End{}, false, fmt.Errorf("recording: reading the end of %s: %w", sessionID, err)
	}
	return e, ok, nil
}

// readNote reads the JSON at path into v, strictly and at most max
// bytes; ok is false if there is no file.
func readNote(path string, max int64, v any) (ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	dec := json.NewDecoder(&limitedReader{f: f, left: max, max: max})
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false, err
	}
	return true, nil
}

// Ended lists the sessions whose end is kept in the spool.
func (s *Spool) Ended() ([]string, error) { return s.withExt(endExt) }

// withExt lists the sessions that have a file NAME+ext in the spool.
func (s *Spool) withExt(ext string) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("recording: listing spool: %w", err)
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ext)
		if ok && e.Type().IsRegular() && sessionIDPattern.MatchString(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// RemoveEnd forgets a session's end (Remove also does, with the
// recording).
func (s *Spool) RemoveEnd(sessionID string) error {
	path, err := s.endPath(sessionID)
	if err != nil {
		return err
	}
	if err := removeNote(path); err != nil {
		return fmt.Errorf("recording: removing the end of %s: %w", sessionID, err)
	}
	return nil
}

func removeNote(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *Spool) endPath(sessionID string) (string, error) { return s.notePath(sessionID, endExt) }

// notePath is the path of session's note with extension ext, for a
// well-formed session ID.
func (s *Spool) notePath(sessionID, ext string) (string, error) {
	if !sessionIDPattern.MatchString(sessionID) {
		return "", fmt.Errorf("%w: %q", ErrBadSessionID, sessionID)
	}
	return filepath.Join(s.dir, sessionID+ext), nil
}

// limitedReader fails, rather than stopping quietly, past its limit.
type limitedReader struct {
	f         *os.File
	left, max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.max)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.f.Read(p)
	l.left -= int64(n)
	return n, err
}
