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
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("recording: encoding the end of %s: %w", sessionID, err)
	}
	f, err := os.CreateTemp(s.dir, ".end-*")
	if err != nil {
		return fmt.Errorf("recording: keeping the end of %s: %w", sessionID, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("recording: keeping the end of %s: %w", sessionID, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("recording: keeping the end of %s: %w", sessionID, err)
	}
	return syncDir(s.dir)
}

// ReadEnd returns the end kept for session; ok is false if none is.
func (s *Spool) ReadEnd(sessionID string) (e End, ok bool, err error) {
	path, err := s.endPath(sessionID)
	if err != nil {
		return End{}, false, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return End{}, false, nil
	}
	if err != nil {
		return End{}, false, fmt.Errorf("recording: reading the end of %s: %w", sessionID, err)
	}
	defer f.Close()
	dec := json.NewDecoder(&limitedReader{f: f, left: maxEndFile})
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return End{}, false, fmt.Errorf("recording: reading the end of %s: %w", sessionID, err)
	}
	return e, true, nil
}

// Ended lists the sessions whose end is kept in the spool.
func (s *Spool) Ended() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("recording: listing spool: %w", err)
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), endExt)
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
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recording: removing the end of %s: %w", sessionID, err)
	}
	return nil
}

func (s *Spool) endPath(sessionID string) (string, error) {
	if !sessionIDPattern.MatchString(sessionID) {
		return "", fmt.Errorf("%w: %q", ErrBadSessionID, sessionID)
	}
	return filepath.Join(s.dir, sessionID+endExt), nil
}

// limitedReader fails, rather than stopping quietly, past its limit.
type limitedReader struct {
	f    *os.File
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxEndFile)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.f.Read(p)
	l.left -= int64(n)
	return n, err
}
