package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/review"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Reviews is what the API needs for access reviews (a *workflow.Service).
type Reviews interface {
	Review(ctx context.Context, actor workflow.Actor, f workflow.ReviewFilter) (*review.Report, error)
	DecideReview(ctx context.Context, actor workflow.Actor, in workflow.ReviewDecision) (*store.ReviewDecision, error)
	ReviewExport(ctx context.Context, actor workflow.Actor, team string) (*review.Export, error)
}

// reviewRoutes adds the access review routes when a Reviews is set.
func (s *Server) reviewRoutes() {
	if s.cfg.Reviews == nil {
		return
	}
	s.mux.Handle("GET /v1/review", s.auth(s.getReview))
	s.mux.Handle("POST /v1/review/decisions", s.auth(s.idempotent(s.decideReview)))
	s.mux.Handle("GET /v1/review/export", s.auth(s.exportReview))
}

// maxUnused bounds the unused period a review may ask for.
const maxUnused = 10 * 366 * 24 * time.Hour

func (s *Server) getReview(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	q := r.URL.Query()
	f := workflow.ReviewFilter{Team: q.Get("team")}
	if u := q.Get("unused"); u != "" {
		d, err := time.ParseDuration(u)
		if err != nil || d <= 0 || d > maxUnused {
			s.writeError(w, r, fmt.Errorf("%w: unused %q: give a positive Go duration such as 720h", workflow.ErrBadInput, clip.Runes(u, 40)))
			return
		}
		f.Unused, f.OnlyUnused = d, true
	}
	rep, err := s.cfg.Reviews.Review(r.Context(), actor, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWireReview(rep))
}

func (s *Server) decideReview(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.ReviewDecide
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	d, err := s.cfg.Reviews.DecideReview(r.Context(), actor, workflow.ReviewDecision{Team: in.Team, User: in.User, Decision: in.Decision, Reason: in.Reason})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWireVerdict(*d))
}

func (s *Server) exportReview(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	x, err := s.cfg.Reviews.ReviewExport(r.Context(), actor, r.URL.Query().Get("team"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.ReviewExport{At: x.At, Decisions: []wire.ReviewVerdict{}, Removed: []wire.ReviewMembership{}, Patch: x.Patch}
	for _, d := range x.Decisions {
		in := d.InPolicy
		out.Decisions = append(out.Decisions, wire.ReviewVerdict{User: d.User, Team: d.Team, Decision: d.Decision,
			Reason: d.Reason, Reviewer: d.Reviewer, At: d.At, InPolicy: &in})
	}
	for _, m := range x.Removed {
		out.Removed = append(out.Removed, wire.ReviewMembership{Team: m.Team, User: m.User})
	}
	writeJSON(w, http.StatusOK, out)
}

// reviewDecisionAnswer renders a decision as decideReview does, for a
// kept answer.
func reviewDecisionAnswer(v any) (int, any, error) {
	d, ok := v.(*store.ReviewDecision)
	if !ok {
		return 0, nil, resultType(ok, v)
	}
	return http.StatusOK, toWireVerdict(*d), nil
}

func toWireVerdict(d store.ReviewDecision) wire.ReviewVerdict {
	return wire.ReviewVerdict{User: d.User, Team: d.Team, Decision: d.Decision, Reason: d.Reason, Reviewer: d.Reviewer, At: d.At}
}

func toWireReview(rep *review.Report) wire.Review {
	out := wire.Review{At: rep.At, Unused: rep.Unused.String(), Entries: []wire.ReviewEntry{}, Endings: []wire.ReviewEnding{}, Stale: []wire.ReviewVerdict{}}
	for _, e := range rep.Entries {
		we := wire.ReviewEntry{User: e.User, Team: e.Team, From: e.Dates.FromText, Until: e.Dates.UntilText,
			Managers: nonNil(e.Managers), LastRequested: timePtr(e.LastRequested), LastUsed: timePtr(e.LastUsed),
			Unused: e.Unused, Grants: []wire.ReviewGrant{}}
		for _, g := range e.Grants {
			we.Grants = append(we.Grants, wire.ReviewGrant{Role: g.Role, Resource: g.Resource, From: g.Dates.FromText,
				Until: g.Dates.UntilText, InEffect: g.InEffect, LastRequested: timePtr(g.LastRequested),
				LastUsed: timePtr(g.LastUsed), Unused: g.Unused})
		}
		if e.Decision != nil {
			v := toWireVerdict(*e.Decision)
			we.Decision = &v
		}
		out.Entries = append(out.Entries, we)
	}
	for _, e := range rep.Endings {
		out.Endings = append(out.Endings, wire.ReviewEnding{Team: e.Team, Member: e.Member, Roles: nonNil(e.Roles),
			Resources: nonNil(e.Resources), Until: e.Dates.Until, Ends: e.Dates.EndsText(), People: nonNil(e.People), Managers: nonNil(e.Managers)})
	}
	for _, d := range rep.Stale {
		out.Stale = append(out.Stale, toWireVerdict(d))
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
