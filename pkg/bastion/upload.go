package bastion

import (
	"context"
	"time"
)

// upload sends a finished (or crash-left) recording to the CA and deletes
// it from the spool only once the CA acknowledged it. A failed upload
// stays in the spool for UploadPending.
func (s *Server) upload(ctx context.Context, id string) {
	f, err := s.cfg.Spool.Open(id)
	if err != nil {
		s.log.Error("opening a recording to upload", "session", id, "err", err)
		return
	}
	err = s.cfg.CA.UploadRecording(ctx, id, f)
	f.Close()
	if err != nil {
		s.log.Error("recording upload failed; it stays in the spool", "session", id, "err", err)
		return
	}
	if err := s.cfg.Spool.Remove(id); err != nil {
		s.log.Error("removing an uploaded recording from the spool", "session", id, "err", err)
	}
}

// UploadPending uploads every recording left in the spool: those of
// sessions a crash cut short (ended at the CA with the reason), and
// earlier failed uploads. The bastion runs it at start and every minute.
func (s *Server) UploadPending(ctx context.Context) {
	ids, err := s.cfg.Spool.Pending()
	if err != nil {
		s.log.Error("reading the spool", "err", err)
		return
	}
	open := map[string]bool{}
	for _, id := range s.reg.ids() {
		open[id] = true
	}
	for _, id := range ids {
		if open[id] {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := s.cfg.CA.EndSession(cctx, id, "the bastion stopped during the session"); err != nil {
			s.log.Warn("ending a session left by a crash", "session", id, "err", err)
		}
		s.upload(cctx, id)
		cancel()
	}
}
