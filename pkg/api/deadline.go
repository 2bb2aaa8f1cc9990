package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Defaults of Config.StoreTimeout and Config.HealthTimeout.
const (
	DefaultStoreTimeout  = 5 * time.Second
	DefaultHealthTimeout = 500 * time.Millisecond
)

// withStoreDeadline gives each call one deadline for all its store work,
// so that a database that stops answering costs a caller StoreTimeout and
// a 503, never a hang. It starts once the request has been routed; a
// recording upload starts its own once the body is in (see
// uploadRecording), and /healthz has its own, shorter one.
// pattern is the route that serves the call.
func (s *Server) withStoreDeadline(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch pattern {
		case "PUT /v1/sessions/{id}/recording", "GET /healthz":
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// health answers within HealthTimeout whatever the database does, and
// says what it did.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ping == nil {
		writeJSON(w, http.StatusOK, wire.Health{Status: "ok", Database: "not checked"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HealthTimeout)
	defer cancel()
	began := time.Now()
	err := s.cfg.Ping(ctx)
	took := time.Since(began)
	if err == nil {
		writeJSON(w, http.StatusOK, wire.Health{Status: "ok", Database: fmt.Sprintf("answered in %v", took.Round(time.Millisecond))})
		return
	}
	s.log.Error("health check: the database did not answer", "err", err, "after", took)
	writeJSON(w, http.StatusServiceUnavailable, wire.Health{Status: "unavailable", Database: healthProblem(err, s.cfg.HealthTimeout)})
}

// healthProblem says in a few words what went wrong; detail is logged.
func healthProblem(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %v (the database is stalled, overloaded or unreachable)", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (the database is not running)"
	default:
		return "cannot be reached; the CA's log has the error"
	}
}
