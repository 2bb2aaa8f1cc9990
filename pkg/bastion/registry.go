package bastion

import (
	"context"
	"sync"
	"time"
)

// registry holds the open sessions, so the heartbeat loop can check them
// with the CA and Shutdown can end them.
type registry struct {
	mu       sync.Mutex
	sessions map[string]context.CancelCauseFunc
}

func newRegistry() *registry { return &registry{sessions: map[string]context.CancelCauseFunc{}} }

func (r *registry) add(id string, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	r.sessions[id] = cancel
	r.mu.Unlock()
}

func (r *registry) remove(id string) {
	r.mu.Lock()
	delete(r.sessions, id)
	r.mu.Unlock()
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
