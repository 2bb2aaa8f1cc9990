package recording

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// spoolExt names recording files in a spool.
const spoolExt = ".cast.gz"

var sessionIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// Spool is the bastion's directory of recordings waiting to be uploaded:
// one file, DIR/SESSION.cast.gz, per session. A recording stays in the spool
// until the CA has acknowledged its upload; files left by a crash are valid
// recordings up to their last complete line (see Read).
//
// A Spool is safe for concurrent use. Use one Spool per directory per
// process: it knows which of its files are still being written only through
// the Writers it created itself.
type Spool struct {
	dir string

	mu      sync.Mutex
	writing map[string]bool    // sessions with an open Writer from Create
	writers map[string]*Writer // those Writers, flushed by flushLoop
	every   time.Duration      // flushLoop's interval
	running bool               // flushLoop runs
}

// OpenSpool opens the spool directory dir, creating it with mode 0700 if
// needed. It refuses a directory that group or other may write, since
// anyone who can write there can plant or remove recordings.
func OpenSpool(dir string) (*Spool, error) {
	if dir == "" {
		return nil, fmt.Errorf("recording: empty spool directory name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recording: creating spool directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("recording: opening spool directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("recording: spool %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v", ErrSpoolMode, dir, fi.Mode().Perm())
	}
	return &Spool{dir: dir, writing: make(map[string]bool), writers: make(map[string]*Writer)}, nil
}

// Create starts the recording of a session: it creates DIR/SESSION.cast.gz
// with mode 0600, failing if it exists, and returns a Writer on it that has
// already written and synced the header. The caller must Close the Writer
// when the session ends.
func (s *Spool) Create(sessionID string, h Header, opts WriterOptions) (*Writer, error) {
	path, err := s.path(sessionID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.writing[sessionID] {
		s.mu.Unlock()
		return nil, fmt.Errorf("recording: creating spool file: %w", fs.ErrExist)
	}
	s.writing[sessionID] = true // from before the file exists, so Pending never lists it
	s.mu.Unlock()
	done := func() {
		s.mu.Lock()
		delete(s.writing, sessionID)
		delete(s.writers, sessionID)
		s.mu.Unlock()
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		done()
		return nil, fmt.Errorf("recording: creating spool file: %w", err)
	}
	w, err := newWriter(f, h, opts, done, true)
	if err == nil {
		err = syncDir(s.dir)
		if err != nil {
			w.Close()
		}
	} else {
		f.Close()
		done()
	}
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	s.manage(sessionID, w, opts.FlushEvery)
	return w, nil
}

// manage has the spool's flushing goroutine flush w. One goroutine serves
// every open recording (an idle session should cost little); it runs while
// there are any, at the shortest FlushEvery asked for.
func (s *Spool) manage(id string, w *Writer, every time.Duration) {
	if every <= 0 {
		every = DefaultFlushEvery
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writers[id] = w
	if s.every == 0 || every < s.every {
		s.every = every
	}
	if !s.running {
		s.running = true
		go s.flushLoop()
	}
}

func (s *Spool) flushLoop() {
	s.mu.Lock()
	t := time.NewTicker(s.every)
	s.mu.Unlock()
	defer t.Stop()
	var ws []*Writer
	for range t.C {
		s.mu.Lock()
		if len(s.writers) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		ws = ws[:0]
		for _, w := range s.writers {
			ws = append(ws, w)
		}
		s.mu.Unlock()
		for _, w := range ws {
			w.flushAndSync()
		}
	}
}

// Pending returns the IDs of the sessions whose recordings are in the
// spool, finished or left by a crash, oldest (by modification time) first.
// Recordings still being written through this Spool are left out.
func (s *Spool) Pending() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("recording: listing spool: %w", err)
	}
	type pending struct {
		id  string
		mod time.Time
	}
	var found []pending
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), spoolExt)
		if !ok || !e.Type().IsRegular() || !sessionIDPattern.MatchString(id) || s.writing[id] {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		found = append(found, pending{id, fi.ModTime()})
	}
	slices.SortFunc(found, func(a, b pending) int {
		return cmp.Or(a.mod.Compare(b.mod), strings.Compare(a.id, b.id))
	})
	ids := make([]string, len(found))
	for i, p := range found {
		ids[i] = p.id
	}
	return ids, nil
}

// Open opens a spooled recording for reading (for upload or Read). The
// caller must close it.
func (s *Spool) Open(sessionID string) (*os.File, error) {
	path, err := s.path(sessionID)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recording: opening spooled recording: %w", err)
	}
	return f, nil
}

// Remove deletes a spooled recording and the session's end and
// break-glass note kept beside it (WriteEnd, WriteBreakGlass). Call it only after the CA has acknowledged the upload and
// the end; it refuses a recording still being written.
func (s *Spool) Remove(sessionID string) error {
	path, err := s.path(sessionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	writing := s.writing[sessionID]
	s.mu.Unlock()
	if writing {
		return fmt.Errorf("%w: %s", ErrSessionOpen, sessionID)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("recording: removing spooled recording: %w", err)
	}
	if err := s.RemoveBreakGlass(sessionID); err != nil {
		return err
	}
	return s.RemoveEnd(sessionID)
}

func (s *Spool) path(sessionID string) (string, error) {
	if !sessionIDPattern.MatchString(sessionID) {
		return "", fmt.Errorf("%w: %q", ErrBadSessionID, sessionID)
	}
	return filepath.Join(s.dir, sessionID+spoolExt), nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("recording: syncing spool directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("recording: syncing spool directory: %w", err)
	}
	return nil
}
