package bastion

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// endReportTimeout bounds how long a session's end waits for the CA
// before the client is told: past it the end is kept in the spool and
// reported once the CA answers (the heartbeat loop tries again).
const endReportTimeout = 3 * time.Second

// reasonClientGone is the end of a session whose client went away.
const reasonClientGone = "the client disconnected"

// ending records one session's end, once, whoever sees it first: the
// relay, a limit, or the client going away while the session was still
// being opened. The end is kept in the spool beside the recording before
// the CA is told, so that it survives a CA outage (and a crash).
type ending struct {
	srv  *Server
	id   string
	once sync.Once
}

func (s *Server) newEnding(id string) *ending { return &ending{srv: s, id: id} }

// record keeps the end and tells the CA, which frees the user's lease.
// Calls after the first do nothing.
func (e *ending) record(reason string, status *int) {
	e.once.Do(func() {
		s := e.srv
		end := recording.End{Time: s.cfg.Clock().UTC(), Reason: reason, ExitStatus: status}
		if err := s.cfg.Spool.WriteEnd(e.id, end); err != nil {
			s.log.Error("keeping the end of a session in the spool", "session", e.id, "err", err)
		}
		if strings.HasPrefix(e.id, breakGlassPrefix) {
			return // the CA does not know break-glass sessions: reported with the spool's note (breakglass_report.go)
		}
		if !s.reportEnd(e.id, end, endReportTimeout) {
			s.ends.add(e.id, end)
		}
	})
}

// reportEnd tells the CA how a session ended, and reports whether it took
// it.
func (s *Server) reportEnd(id string, end recording.End, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	at := end.Time
	err := s.cfg.CA.EndSession(ctx, id, wire.SessionEnd{Reason: end.Reason, EndedAt: &at, ExitStatus: end.ExitStatus})
	if err != nil {
		s.log.Warn("could not report the end of a session; kept in the spool, reported when the CA answers", "session", id, "reason", end.Reason, "err", err)
		return false
	}
	return true
}

// unreported holds the ends the CA has not taken yet.
type unreported struct {
	mu   sync.Mutex
	ends map[string]recording.End
}

func (u *unreported) add(id string, e recording.End) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ends == nil {
		u.ends = map[string]recording.End{}
	}
	u.ends[id] = e
}

func (u *unreported) list() map[string]recording.End {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]recording.End, len(u.ends))
	for id, e := range u.ends {
		out[id] = e
	}
	return out
}

func (u *unreported) remove(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.ends, id)
}

// retryEnds reports the ends the CA did not take, and uploads their
// recordings once it has. The heartbeat loop runs it at every beat.
func (s *Server) retryEnds(ctx context.Context) {
	for id, end := range s.ends.list() {
		if ctx.Err() != nil || !s.reportEnd(id, end, s.cfg.HeartbeatInterval*2) {
			return // the CA still does not answer; try at the next beat
		}
		s.ends.remove(id)
		s.log.Info("reported the end of a session late", "session", id, "reason", end.Reason, "ended", end.Time)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.uploadEnded(s.ctx, id)
		}()
	}
}
