package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Live is what the API needs for live view (a *workflow.Service).
type Live interface {
	ReportLive(ctx context.Context, actor workflow.Actor, reports []workflow.LiveReport) (map[string]workflow.LiveAnswer, error)
	LiveSessions(ctx context.Context, actor workflow.Actor) ([]workflow.LiveSession, error)
	StartWatch(ctx context.Context, actor workflow.Actor, id, via string) (*store.LiveWatch, error)
	ReadLive(ctx context.Context, actor workflow.Actor, id, watch string, after int64) (*workflow.LiveRead, error)
	ReadLiveWaiting(ctx context.Context, actor workflow.Actor, id, watch string, after int64, wait time.Duration) (*workflow.LiveRead, error)
	StopWatch(ctx context.Context, actor workflow.Actor, id, watch string) error
	EndWatched(ctx context.Context, actor workflow.Actor, id, reason string) error
}

// Bounds of live view calls.
const (
	// maxLiveReportBody bounds a bastion's live report (its sessions'
	// output since the last one, in base64).
	maxLiveReportBody = 2 << 20
	// MaxLiveWait is the longest a read waits for output.
	MaxLiveWait = 2 * time.Second
)

var watchIDPattern = regexp.MustCompile(`^watch-[a-z2-7]{16}$`)

// liveRoutes adds the live view routes when a Live is set.
func (s *Server) liveRoutes() {
	if s.cfg.Live == nil {
		return
	}
	s.mux.Handle("POST /v1/bastion/live", s.authLimit(s.reportLive, maxLiveReportBody))
	s.mux.Handle("GET /v1/live", s.auth(s.liveSessions))
	s.mux.Handle("POST /v1/sessions/{id}/watch", s.auth(s.startWatch))
	s.mux.Handle("GET /v1/sessions/{id}/live", s.auth(s.readLive))
	s.mux.Handle("POST /v1/sessions/{id}/watch/{watch}/stop", s.auth(s.stopWatch))
	s.mux.Handle("POST /v1/sessions/{id}/live/end", s.auth(s.idempotent(s.endWatched)))
}

func (s *Server) reportLive(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.LiveReport
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	reports := make([]workflow.LiveReport, len(in.Sessions))
	for i, f := range in.Sessions {
		if !sessionIDPattern.MatchString(f.Session) {
			s.refuseInput(w, r, actor, fmt.Errorf("%w: %q is not a session ID", workflow.ErrBadInput, clip.Runes(f.Session, 40)))
			return
		}
		reports[i] = workflow.LiveReport{SessionID: f.Session, Offset: f.Offset, Data: f.Data, LastInput: f.LastInput}
	}
	got, err := s.cfg.Live.ReportLive(r.Context(), actor, reports)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.LiveReportResult{Sessions: make(map[string]wire.LiveFeedAnswer, len(got))}
	for id, a := range got {
		out.Sessions[id] = wire.LiveFeedAnswer{Watchers: a.Watchers, Stop: a.Stop}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) liveSessions(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	list, err := s.cfg.Live.LiveSessions(r.Context(), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.LiveSessions{Sessions: make([]wire.LiveSession, 0, len(list))}
	for _, l := range list {
		x := l.Session
		out.Sessions = append(out.Sessions, wire.LiveSession{Session: wire.Session{ID: x.ID, User: x.User, RequestID: x.RequestID,
			Resource: x.Resource, Role: x.Role, Bastion: x.Bastion, ClientAddr: x.ClientAddr, Command: x.Command, StartedAt: x.StartedAt},
			LastInput: optTime(l.LastInput), Reported: l.Updated, Watchers: l.Watchers})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) startWatch(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	var in wire.WatchStart
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	watch, err := s.cfg.Live.StartWatch(r.Context(), actor, id, in.Via)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wire.Watch{ID: watch.ID, Session: watch.SessionID, Started: watch.Started})
}

func (s *Server) watchID(w http.ResponseWriter, r *http.Request, v string) (string, bool) {
	if !watchIDPattern.MatchString(v) {
		s.writeError(w, r, fmt.Errorf("%w: %q is not a watch ID", workflow.ErrBadInput, clip.Runes(v, 40)))
		return "", false
	}
	return v, true
}

// readLive answers with the session's output after the offset asked for,
// waiting up to wait (at most MaxLiveWait) for some to arrive.
func (s *Server) readLive(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	watch, ok := s.watchID(w, r, q.Get("watch"))
	if !ok {
		return
	}
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil || after < -1 {
		s.writeError(w, r, fmt.Errorf("%w: after must be an offset (or -1 for the oldest kept)", workflow.ErrBadInput))
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			s.writeError(w, r, fmt.Errorf("%w: wait must be a duration such as 1s", workflow.ErrBadInput))
			return
		}
	}
	out, err := s.cfg.Live.ReadLiveWaiting(r.Context(), actor, id, watch, after, min(wait, MaxLiveWait))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeLive(w, id, &wire.LiveOutput{Offset: out.Offset, Data: out.Data, Next: out.Next, Skipped: out.Skipped,
		Ended: out.Ended, EndReason: out.EndReason, Watchers: out.Watchers})
}

func (s *Server) stopWatch(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	watch, ok := s.watchID(w, r, r.PathValue("watch"))
	if !ok {
		return
	}
	if err := s.cfg.Live.StopWatch(r.Context(), actor, id, watch); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) endWatched(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	var in wire.LiveEnd
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	if err := s.cfg.Live.EndWatched(r.Context(), actor, id, in.Reason); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
