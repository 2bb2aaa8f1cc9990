package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Live is what the live view needs (a *workflow.Service).
type Live interface {
	MayWatch(ctx context.Context, actor workflow.Actor, id string) (bool, error)
	WatchableSession(ctx context.Context, actor workflow.Actor, id string) (*store.Session, error)
	WatchableLive(ctx context.Context, actor workflow.Actor) ([]workflow.LiveSession, error)
	StartWatch(ctx context.Context, actor workflow.Actor, id, via string) (*store.LiveWatch, error)
	ReadLive(ctx context.Context, actor workflow.Actor, id, watch string, after int64) (*workflow.LiveRead, error)
	ReadLiveWaiting(ctx context.Context, actor workflow.Actor, id, watch string, after int64, wait time.Duration) (*workflow.LiveRead, error)
	StopWatch(ctx context.Context, actor workflow.Actor, id, watch string) error
	EndWatched(ctx context.Context, actor workflow.Actor, id, reason string) error
}

// Bounds of the live page's reads.
const (
	liveWait = time.Second
)

var watchIDPattern = regexp.MustCompile(`^watch-[a-z2-7]{16}$`)

func (s *Server) liveRoutes(mux *http.ServeMux) {
	if s.cfg.Live == nil {
		return
	}
	mux.Handle("POST /ui/sessions/{id}/watch", s.authed(s.startWatch))
	mux.Handle("GET /ui/sessions/{id}/live", s.authed(s.readLive))
	mux.Handle("POST /ui/sessions/{id}/watch/{watch}/stop", s.authed(s.stopWatch))
	mux.Handle("POST /ui/sessions/{id}/end", s.authed(s.endWatched))
}

// liveView says what the session page shows of a running session: the
// live terminal, for those who may watch it.
type liveView struct {
	Open     bool // the session runs
	Watch    bool // the viewer may watch it (and end it)
	Terminal bool // probably on a terminal: a shell
	Notice   string
	// OnlyWatch: the viewer sees the page as the grant's approver, who
	// may watch but not replay (the replay is the user's and auditors').
	OnlyWatch bool
}

// sessionView is the session page's data.
type sessionView struct {
	*store.Session
	Live liveView
}

// BreakGlass reports whether the session was made with a break-glass
// certificate (no grant: its request ID names the certificate).
func (v *sessionView) BreakGlass() bool {
	return strings.HasPrefix(v.RequestID, workflow.BreakGlassRequestPrefix)
}

// sessionFor returns the session for its page: one the viewer may see
// (their own, or as auditor) or watch (as the grant's approver).
func (s *Server) sessionFor(r *http.Request, v *viewer, id string) (*sessionView, error) {
	sess, err := s.wf.Session(r.Context(), v.Actor, id)
	onlyWatch := false
	if errors.Is(err, workflow.ErrNoSession) && s.cfg.Live != nil {
		sess, err = s.cfg.Live.WatchableSession(r.Context(), v.Actor, id)
		onlyWatch = true
	}
	if err != nil {
		return nil, err
	}
	view := &sessionView{Session: sess, Live: liveView{Open: sess.EndedAt.IsZero(), Terminal: sess.Command == "", OnlyWatch: onlyWatch}}
	if view.Live.Open && s.cfg.Live != nil {
		if view.Live.Watch, err = s.cfg.Live.MayWatch(r.Context(), v.Actor, id); err != nil {
			return nil, err
		}
	}
	switch r.URL.Query().Get("ended") {
	case "1":
		view.Live.Notice = "The session's bastion ends it within a second; the user is told why, and the audit log names you."
	}
	return view, nil
}

func (s *Server) liveSessionID(w http.ResponseWriter, r *http.Request, v *viewer) (string, bool) {
	id := r.PathValue("id")
	if !validSessionID(id) {
		s.errorPage(w, r, v, http.StatusNotFound, "There is no such session.")
		return "", false
	}
	return id, true
}

func (s *Server) startWatch(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := s.liveSessionID(w, r, v)
	if !ok {
		return
	}
	watch, err := s.cfg.Live.StartWatch(r.Context(), v.Actor, id, "web")
	if err != nil {
		s.liveError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"watch": watch.ID})
}

// readLive answers one read of the live terminal: the session's output
// after the offset asked for, sanitised as the replay is, waiting up to a
// second for some. Each read has a sanitiser of its own (the next read
// may reach another replica); a sequence cut at the end of a read is
// dropped, never passed on in part.
func (s *Server) readLive(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := s.liveSessionID(w, r, v)
	if !ok {
		return
	}
	q := r.URL.Query()
	watch := q.Get("watch")
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if !watchIDPattern.MatchString(watch) || err != nil || after < -1 {
		s.liveError(w, r, fmt.Errorf("%w: a read needs a watch and an offset", workflow.ErrBadInput))
		return
	}
	out, err := s.cfg.Live.ReadLiveWaiting(r.Context(), v.Actor, id, watch, after, liveWait)
	if err != nil {
		s.liveError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"offset": out.Offset, "data": recording.Sanitize(out.Data), "next": out.Next,
		"skipped": out.Skipped, "ended": out.Ended, "end_reason": out.EndReason, "watchers": out.Watchers})
}

func (s *Server) stopWatch(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := s.liveSessionID(w, r, v)
	if !ok {
		return
	}
	watch := r.PathValue("watch")
	if !watchIDPattern.MatchString(watch) {
		s.liveError(w, r, fmt.Errorf("%w: not a watch", workflow.ErrBadInput))
		return
	}
	if err := s.cfg.Live.StopWatch(r.Context(), v.Actor, id, watch); err != nil {
		s.liveError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endWatched ends the session from its page (the end button's form) and
// shows the page again.
func (s *Server) endWatched(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := s.liveSessionID(w, r, v)
	if !ok {
		return
	}
	if err := s.cfg.Live.EndWatched(r.Context(), v.Actor, id, r.PostForm.Get("reason")); err != nil {
		s.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/ui/sessions/"+id+"?ended=1", http.StatusSeeOther)
}

// liveError answers a script's call: the status of err's kind and a
// message for the page to show.
func (s *Server) liveError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "The live view failed; reload the page."
	switch {
	case errors.Is(err, workflow.ErrNoSession):
		status, msg = http.StatusNotFound, "There is no such session."
	case errors.Is(err, workflow.ErrWatchEnded):
		status, msg = http.StatusGone, "This watch ended; reload the page to watch again."
	case errors.Is(err, workflow.ErrNotRunning):
		status, msg = http.StatusConflict, "The session is not running."
	case errors.Is(err, workflow.ErrBadInput):
		status, msg = http.StatusBadRequest, "The page sent a bad read; reload it."
	case errors.Is(err, store.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "The CA cannot reach its database; the view tries again."
	default:
		s.log.Error("live view", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

// liveRow is a running session in the sessions list.
type liveRow struct {
	workflow.LiveSession
	Idle time.Duration
}

// liveRows lists the running sessions the viewer may watch.
func (s *Server) liveRows(r *http.Request, v *viewer) ([]liveRow, error) {
	if s.cfg.Live == nil {
		return nil, nil
	}
	list, err := s.cfg.Live.WatchableLive(r.Context(), v.Actor)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock()
	out := make([]liveRow, len(list))
	for i, l := range list {
		last := l.Session.StartedAt
		if l.LastInput.After(last) {
			last = l.LastInput
		}
		out[i] = liveRow{LiveSession: l, Idle: max(0, now.Sub(last)).Round(time.Second)}
	}
	return out, nil
}
