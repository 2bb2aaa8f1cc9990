package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/review"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Reviews is what the access review page needs (a *workflow.Service).
type Reviews interface {
	MayReview(actor workflow.Actor) bool
	Review(ctx context.Context, actor workflow.Actor, f workflow.ReviewFilter) (*review.Report, error)
	DecideReview(ctx context.Context, actor workflow.Actor, in workflow.ReviewDecision) (*store.ReviewDecision, error)
	ReviewExport(ctx context.Context, actor workflow.Actor, team string) (*review.Export, error)
}

func (s *Server) reviewRoutes(mux *http.ServeMux) {
	if s.cfg.Reviews == nil {
		return
	}
	mux.Handle("GET /ui/review", s.authed(s.reviewPage))
	mux.Handle("POST /ui/review/decide", s.authed(s.reviewDecide))
	mux.Handle("GET /ui/review/export.json", s.authed(s.reviewExportJSON))
	mux.Handle("GET /ui/review/export.patch", s.authed(s.reviewExportPatch))
}

// mayReview tells the navigation whether to offer the review page.
func (s *Server) mayReview(v *viewer) bool {
	return s.cfg.Reviews != nil && s.cfg.Reviews.MayReview(v.Actor)
}

type reviewData struct {
	Team, Unused string // the filter as given
	*review.Report
}

// reviewFilterOf reads ?team= and ?unused= (days, 30d or 30, or a Go
// duration); with unused, only memberships with nothing used within it.
func reviewFilterOf(r *http.Request) (workflow.ReviewFilter, reviewData, error) {
	q := r.URL.Query()
	d := reviewData{Team: q.Get("team"), Unused: strings.TrimSpace(q.Get("unused"))}
	f := workflow.ReviewFilter{Team: d.Team}
	if len(d.Team) > 63 {
		return f, d, fmt.Errorf("%w: no such team", workflow.ErrBadInput)
	}
	if d.Unused != "" {
		days, err := strconv.Atoi(strings.TrimSuffix(d.Unused, "d"))
		if err == nil && days > 0 && days <= 3660 {
			f.Unused = time.Duration(days) * 24 * time.Hour
		} else if f.Unused, err = time.ParseDuration(d.Unused); err != nil || f.Unused <= 0 {
			return f, d, fmt.Errorf("%w: unused: give a number of days such as 30d", workflow.ErrBadInput)
		}
		f.OnlyUnused = true
	}
	return f, d, nil
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.showReview(w, r, v, http.StatusOK, reviewFlash(r.URL.Query().Get("done")), "")
}

func (s *Server) showReview(w http.ResponseWriter, r *http.Request, v *viewer, status int, flash, errMsg string) {
	f, d, err := reviewFilterOf(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Report, err = s.cfg.Reviews.Review(r.Context(), v.Actor, f); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, status, "review", page{Title: "Access review", Nav: "review", Viewer: v, Flash: flash, Error: errMsg, Data: d})
}

func reviewFlash(code string) string {
	switch code {
	case "keep":
		return "Recorded: the membership stays."
	case "remove":
		return "Recorded: the membership is marked for removal. The export's patch removes it."
	}
	return ""
}

// reviewDecide records keep or remove; the workflow checks who may, and
// audits both the decision and a refusal.
func (s *Server) reviewDecide(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := r.PostForm
	in := workflow.ReviewDecision{Team: f.Get("team"), User: f.Get("user"), Decision: f.Get("decision"), Reason: strings.TrimSpace(f.Get("reason"))}
	back := "/ui/review?team=" + url.QueryEscape(f.Get("back"))
	if _, err := s.cfg.Reviews.DecideReview(r.Context(), v.Actor, in); err != nil {
		status, msg := describe(err)
		if status >= 500 {
			s.fail(w, r, v, err)
			return
		}
		r.URL.RawQuery = "team=" + url.QueryEscape(f.Get("back"))
		s.showReview(w, r, v, status, "", msg)
		return
	}
	http.Redirect(w, r, back+"&done="+url.QueryEscape(in.Decision), http.StatusSeeOther)
}

func (s *Server) reviewExport(w http.ResponseWriter, r *http.Request, v *viewer) (*review.Export, bool) {
	x, err := s.cfg.Reviews.ReviewExport(r.Context(), v.Actor, r.URL.Query().Get("team"))
	if err != nil {
		s.fail(w, r, v, err)
		return nil, false
	}
	return x, true
}

// reviewExportJSON downloads the standing decisions.
func (s *Server) reviewExportJSON(w http.ResponseWriter, r *http.Request, v *viewer) {
	x, ok := s.reviewExport(w, r, v)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="lockbox-review.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(x) //nolint:errcheck // the client went away
}

// reviewExportPatch downloads the patch of the policy files.
func (s *Server) reviewExportPatch(w http.ResponseWriter, r *http.Request, v *viewer) {
	x, ok := s.reviewExport(w, r, v)
	if !ok {
		return
	}
	if x.Patch == "" {
		s.errorPage(w, r, v, http.StatusNotFound, "No membership is marked remove, so there is no patch.")
		return
	}
	w.Header().Set("Content-Type", "text/x-diff; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="lockbox-review.patch"`)
	w.Write([]byte(x.Patch)) //nolint:errcheck // the client went away
}

// reviewDays writes the report's period in days when whole.
func reviewDays(d time.Duration) string {
	if day := 24 * time.Hour; d > 0 && d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}
