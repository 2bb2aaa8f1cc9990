package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves one registry at /metrics on a listener of its own, apart
// from the API and SSH ports.
type Server struct {
	ln net.Listener
	hs *http.Server
}

// Listen starts serving reg at http://addr/metrics. A non-loopback addr
// is allowed (a scraper elsewhere) and logged as a warning: the metrics
// carry no secrets, but they tell who is busy when.
func Listen(addr string, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn("metrics served beyond loopback; restrict who can reach this port", "addr", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	s := &Server{ln: ln, hs: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}}
	go func() {
		if err := s.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	return s, nil
}

// Addr is where the metrics are served.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops serving, letting a scrape in progress finish (up to ctx).
func (s *Server) Close(ctx context.Context) error { return s.hs.Shutdown(ctx) }
