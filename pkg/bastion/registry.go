package bastion

import (
	"context"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
)

// registry holds the open sessions, so the heartbeat loop can check them
// with the CA and Shutdown can end them.
type registry struct {
	mu       sync.Mutex
	sessions map[string]context.CancelCauseFunc
	tells    map[string]func(string) // writes a line to the session's user
	changed  chan struct{}           // closed when a session is removed
}

func newRegistry() *registry {
	return &registry{sessions: map[string]context.CancelCauseFunc{}, tells: map[string]func(string){}}
}

// add registers an open session: cancel ends it, tell writes a notice to
// its user.
func (r *registry) add(id string, cancel context.CancelCauseFunc, tell func(string)) {
	r.mu.Lock()
	r.sessions[id], r.tells[id] = cancel, tell
	r.mu.Unlock()
	metrics.SessionsLive.Inc()
}

func (r *registry) remove(id string) {
	r.mu.Lock()
	delete(r.sessions, id)
	delete(r.tells, id)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.mu.Unlock()
	metrics.SessionsLive.Dec()
}

// tellAll writes msg to every open session's user.
func (r *registry) tellAll(msg string) {
	r.mu.Lock()
	tells := make([]func(string), 0, len(r.tells))
	for _, t := range r.tells {
		tells = append(tells, t)
	}
	r.mu.Unlock()
	for _, t := range tells {
		go t(msg) // a client that reads nothing must not hold up the others
	}
}

// waitEmpty waits until no session is open, or ctx ends; it reports
// whether none is.
func (r *registry) waitEmpty(ctx context.Context) bool {
	for {
		r.mu.Lock()
		if len(r.sessions) == 0 {
			r.mu.Unlock()
			return true
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (r *registry) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.sessions))
	for id := range r.sessions {
		out = append(out, id)
	}
	return out
}

// end ends session id with cause, the message the user reads and the
// exit status the client gets (endstatus.go).
func (r *registry) end(id string, cause error) {
	r.mu.Lock()
	cancel := r.sessions[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

func (r *registry) endAll(cause error) {
	for _, id := range r.ids() {
		r.end(id, cause)
	}
}

// heartbeats asks the CA about every open session each interval, which
// also renews their leases, and ends those whose grant was revoked or
// ended. When the CA cannot be reached, sessions keep their own deadlines
// (the grant's end, the cap, idleness): only new sessions need the CA.
func (s *Server) heartbeats(ctx context.Context) {
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.retryEnds(ctx)
		ids := s.reg.ids()
		if len(ids) == 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, s.cfg.HeartbeatInterval*2)
		st, err := s.cfg.CA.Heartbeat(cctx, ids)
		cancel()
		if err != nil {
			s.log.Warn("heartbeat failed; sessions keep their deadlines", "err", err)
			continue
		}
		for _, id := range ids {
			if v, ok := st[id]; ok && !v.Live {
				s.reg.end(id, endByCA(v.Ended, v.Reason))
			}
		}
	}
}
