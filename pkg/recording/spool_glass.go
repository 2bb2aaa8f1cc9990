package recording

import (
	"fmt"
	"time"
)

// glassExt names the file that keeps, beside a break-glass session's
// recording, what the CA needs to hear of the session once it answers.
const glassExt = ".glass.json"

// maxGlassFile bounds what ReadBreakGlass reads: the certificate carries
// a hop certificate in its extension.
const maxGlassFile = 64 << 10

// BreakGlass is what a bastion keeps in the spool at the start of a
// session opened with a break-glass certificate, while the CA is down:
// the certificate (an authorized_keys line), the client's address, the
// command (empty for a shell) and the start. With the session's End it is
// the report the CA takes once it answers.
type BreakGlass struct {
	Certificate string    `json:"certificate"`
	ClientAddr  string    `json:"client_addr"`
	Command     string    `json:"command"`
	Start       time.Time `json:"start"`
}

// WriteBreakGlass keeps b for session, durably, as WriteEnd keeps an end.
func (s *Spool) WriteBreakGlass(sessionID string, b BreakGlass) error {
	path, err := s.glassPath(sessionID)
	if err != nil {
		return err
	}
	if err := s.writeNote(path, b); err != nil {
		return fmt.Errorf("recording: keeping the break-glass session %s: %w", sessionID, err)
	}
	return nil
}

// ReadBreakGlass returns what was kept for session; ok is false if
// nothing was.
func (s *Spool) ReadBreakGlass(sessionID string) (b BreakGlass, ok bool, err error) {
	path, err := s.glassPath(sessionID)
	if err != nil {
		return BreakGlass{}, false, err
	}
	ok, err = readNote(path, maxGlassFile, &b)
	if err != nil {
		return BreakGlass{}, false, fmt.Errorf("recording: reading the break-glass session %s: %w", sessionID, err)
	}
	return b, ok, nil
}

// BreakGlassSessions lists the sessions that have a BreakGlass kept.
func (s *Spool) BreakGlassSessions() ([]string, error) { return s.withExt(glassExt) }

// RemoveBreakGlass forgets what was kept for session (Remove also does).
func (s *Spool) RemoveBreakGlass(sessionID string) error {
	path, err := s.glassPath(sessionID)
	if err != nil {
		return err
	}
	if err := removeNote(path); err != nil {
		return fmt.Errorf("recording: removing the break-glass session %s: %w", sessionID, err)
	}
	return nil
}

func (s *Spool) glassPath(sessionID string) (string, error) { return s.notePath(sessionID, glassExt) }
