package bastion

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// reasonCrash is the end of a session whose bastion stopped before it could
// keep the end (killed, crashed).
const reasonCrash = "the bastion stopped during the session"

// uploads keeps one upload per session at a time.
type uploads struct {
	mu      sync.Mutex
	running map[string]bool
}

func (u *uploads) start(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.running == nil {
		u.running = map[string]bool{}
	}
	if u.running[id] {
		return false
	}
	u.running[id] = true
	return true
}

func (u *uploads) done(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.running, id)
}

// upload sends a finished (or crash-left) recording to the CA and deletes
// it, and the session's end kept beside it, from the spool only once the
// CA acknowledged it. A failed upload stays in the spool for
// UploadPending.
func (s *Server) upload(ctx context.Context, id string) {
	if !s.uploads.start(id) {
		return
	}
	defer s.uploads.done(id)
	f, err := s.cfg.Spool.Open(id)
	if errors.Is(err, fs.ErrNotExist) {
		// The session ended before its recording began (the client left,
		// the target could not be reached): only its end was kept.
		if err := s.cfg.Spool.RemoveEnd(id); err != nil {
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
	open := map[string]bool{}
	for _, id := range s.reg.ids() {
		open[id] = true
	}
	seen := map[string]bool{}
	for _, id := range append(ids, ended...) {
		if open[id] || seen[id] {
			continue
		}
		seen[id] = true
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
