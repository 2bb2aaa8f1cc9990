package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Notifications is what the API needs to list the notification outbox
// (a *workflow.Service).
type Notifications interface {
	Notifications(ctx context.Context, actor workflow.Actor, dead bool) (*workflow.Notifications, error)
}

// notificationRoutes adds GET /v1/notifications when Notifications is set.
func (s *Server) notificationRoutes() {
	if s.cfg.Notifications == nil {
		return
	}
	s.mux.Handle("GET /v1/notifications", s.auth(s.listNotifications))
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	dead := r.URL.Query().Get("dead")
	if dead != "" && dead != "1" && dead != "true" {
		s.writeError(w, r, fmt.Errorf("%w: dead=%q: give dead=1 or leave it out", workflow.ErrBadInput, clip.Runes(dead, 40)))
		return
	}
	n, err := s.cfg.Notifications.Notifications(r.Context(), actor, dead != "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWireNotifications(n))
}

func toWireNotifications(n *workflow.Notifications) wire.Notifications {
	out := wire.Notifications{Queued: n.Counts[store.OutboxQueued], Delivered: n.Counts[store.OutboxDelivered],
		Dead: n.Counts[store.OutboxDead], Messages: []wire.NotificationMessage{}}
	for _, m := range n.Messages {
		wm := wire.NotificationMessage{Key: m.Key, Endpoint: m.Endpoint, Event: m.Kind, Subject: m.Subject, State: string(m.State),
			Attempts: m.Attempts, CreatedAt: m.CreatedAt, LastError: m.LastError}
		if m.State == store.OutboxQueued && !m.DueAt.IsZero() {
			due := m.DueAt
			wm.DueAt = &due
		}
		if !m.DoneAt.IsZero() {
			done := m.DoneAt
			wm.DoneAt = &done
		}
		out.Messages = append(out.Messages, wm)
	}
	return out
}
