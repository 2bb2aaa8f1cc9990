package bastion

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// reasonCrash is the end of a session whose bastion stopped before it could
// keep the end (killed, crashed).
const reasonCrash = "the bastion stopped during the session"

// idSet is a set of session IDs safe for concurrent use: the uploads
// running (one per session at a time), the break-glass sessions being
// opened, those held back until the next start.
type idSet struct {
	mu  sync.Mutex
	ids map[string]bool
}

// add adds id and reports whether it was not in the set yet.
func (u *idSet) add(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = map[string]bool{}
	}
	if u.ids[id] {
		return false
	}
	u.ids[id] = true
	return true
}

func (u *idSet) remove(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.ids, id)
}

func (u *idSet) has(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ids[id]
}

// upload sends a finished (or crash-left) recording to the CA and deletes
// it, and the session's end kept beside it, from the spool only once the
// CA acknowledged it. A failed upload stays in the spool for
// UploadPending.
func (s *Server) upload(ctx context.Context, id string) {
	if !s.uploads.add(id) {
		return
	}
	defer s.uploads.remove(id)
	f, err := s.cfg.Spool.Open(id)
	if errors.Is(err, fs.ErrNotExist) {
		// The session ended before its recording began (the client left,
		// the target could not be reached): only its end (and a
		// break-glass session's note) was kept.
		if err := errors.Join(s.cfg.Spool.RemoveEnd(id), s.cfg.Spool.RemoveBreakGlass(id)); err != nil {
			s.log.Error("removing a session's end from the spool", "session", id, "err", err)
		}
		return
	}
	if err != nil {
		s.log.Error("opening a recording to upload", "session", id, "err", err)
		return
	}
	err = s.cfg.CA.UploadRecording(ctx, id, f)
	f.Close()
	if err != nil {
		metrics.Uploads.WithLabelValues("failed").Inc()
		s.log.Error("recording upload failed; it stays in the spool", "session", id, "err", err)
		return
	}
	metrics.Uploads.WithLabelValues("ok").Inc()
	if err := s.cfg.Spool.Remove(id); err != nil {
		s.log.Error("removing an uploaded recording from the spool", "session", id, "err", err)
	}
}

// uploadEnded uploads the recording of a session whose end the CA has.
func (s *Server) uploadEnded(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	s.upload(ctx, id)
}

// UploadPending reports and uploads what is left in the spool: sessions
// whose end the CA has not taken yet (reported with the end kept in the
// spool: time, reason, exit status), sessions a crash cut short (ended at
// the CA as such), and earlier failed uploads. The bastion runs it at
// start and every upload_retry_interval (default a minute).
func (s *Server) UploadPending(ctx context.Context) {
	// Break-glass notes first, then the sessions being opened, then those
	// open: a note listed belongs to a session in one of the two, or to
	// one that ended (its end kept).
	glass, err := s.cfg.Spool.BreakGlassSessions()
	if err != nil {
		s.log.Error("reading the spool", "err", err)
		return
	}
	open := map[string]bool{}
	for _, id := range glass {
		open[id] = s.glassOpening.has(id)
	}
	for _, id := range s.reg.ids() {
		open[id] = true
	}
	ids, err := s.cfg.Spool.Pending()
	if err != nil {
		s.log.Error("reading the spool", "err", err)
		return
	}
	ended, err := s.cfg.Spool.Ended()
	if err != nil {
		s.log.Error("reading the spool", "err", err)
		return
	}
	seen := map[string]bool{}
	for _, id := range slices.Concat(ids, ended, glass) {
		if open[id] || seen[id] {
			continue
		}
		seen[id] = true
		if strings.HasPrefix(id, breakGlassPrefix) {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			s.reportBreakGlass(cctx, id)
			cancel()
			continue
		}
		end, ok, err := s.cfg.Spool.ReadEnd(id)
		if err != nil {
			s.log.Warn("reading a session's end from the spool", "session", id, "err", err)
		}
		if !ok {
			end = recording.End{Reason: reasonCrash}
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		var at *time.Time
		if ok {
			at = &end.Time
		}
		if err := s.cfg.CA.EndSession(cctx, id, wire.SessionEnd{Reason: end.Reason, EndedAt: at, ExitStatus: end.ExitStatus}); err != nil {
			s.log.Warn("reporting the end of a session left in the spool", "session", id, "err", err)
			cancel()
			continue
		}
		s.ends.remove(id)
		s.upload(cctx, id)
		cancel()
	}
}
