package web

import (
	"context"
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Notifications is what the outbox page needs (a *workflow.Service).
type Notifications interface {
	Notifications(ctx context.Context, actor workflow.Actor, dead bool) (*workflow.Notifications, error)
}

func (s *Server) notificationRoutes(mux *http.ServeMux) {
	if s.cfg.Notifications == nil {
		return
	}
	mux.Handle("GET /ui/notifications", s.authed(s.notificationsPage))
}

type notificationsData struct {
	Dead                    bool
	Queued, Delivered, Gone int
	Messages                []*store.OutboxMessage
}

// notificationsPage lists the outbox's queued messages, or with ?dead=1
// its dead ones; auditors only (the workflow refuses others).
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	dead := r.URL.Query().Get("dead") == "1"
	n, err := s.cfg.Notifications.Notifications(r.Context(), v.Actor, dead)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := notificationsData{Dead: dead, Queued: n.Counts[store.OutboxQueued], Delivered: n.Counts[store.OutboxDelivered],
		Gone: n.Counts[store.OutboxDead], Messages: n.Messages}
	s.render(w, r, http.StatusOK, "notifications", page{Title: "Notifications", Nav: "notifications", Viewer: v, Data: d})
}
