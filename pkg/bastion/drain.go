package bastion

import (
	"context"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
)

// reasonDraining is what a user is told who asks for a session while the
// bastion drains.
const reasonDraining = "this bastion is shutting down and opens no new sessions; connect again to reach another bastion"

// Drain ends the bastion the way an operator's restart should: it stops
// accepting connections and new sessions at once, tells every user with
// a session open how long they have, waits up to timeout for the sessions
// to end, ends the rest with that reason, and waits until every
// recording was uploaded (or, when the CA cannot take one, left in the
// spool for the next start) before it returns. ctx bounds the whole
// drain, uploads included; when it ends first, Drain returns its error.
func (s *Server) Drain(ctx context.Context, timeout time.Duration) error {
	s.draining.Store(true)
	metrics.Draining.Set(1)
	defer metrics.Draining.Set(0)
	deadline := s.cfg.Clock().Add(timeout)
	stopped := make(chan error, 1)
	go func() { stopped <- s.ssh.Shutdown(ctx) }() // closes the listeners; waits for connections
	s.conns.closeUnauthenticated()
	n := len(s.reg.ids())
	s.log.Info("draining", "sessions", n, "timeout", timeout.String())
	notice := fmt.Sprintf("this bastion is shutting down: this session ends in %v (at %s) unless it ends before; connect again to reach another bastion",
		timeout, deadline.UTC().Format("15:04:05 UTC"))
	s.drainNotice.Store(&notice) // for a session that was being opened just now
	s.reg.tellAll(notice)
	wait, cancel := context.WithTimeout(ctx, timeout)
	ended := s.reg.waitEmpty(wait)
	cancel()
	if !ended {
		left := s.reg.ids()
		s.log.Info("drain timeout reached; ending the sessions left", "sessions", len(left))
		s.reg.endAll(endShutdown(fmt.Sprintf("the bastion shut down after a drain of %v", timeout)))
	}
	// Each session's handler uploads its recording after it ended.
	handled := make(chan struct{})
	go func() { s.handlers.Wait(); close(handled) }()
	defer func() { s.stop(); s.wg.Wait() }() // the heartbeats, the last refusal report
	select {
	case <-handled:
	case <-ctx.Done():
		return fmt.Errorf("bastion: drain: %w (recordings not uploaded stay in the spool)", ctx.Err())
	}
	s.UploadPending(ctx) // earlier failed uploads, ends the CA had not taken
	select {
	case err := <-stopped:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
