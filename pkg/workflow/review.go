package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/review"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Access reviews: managers review their teams' memberships, auditors
// every team's (see package review, which computes them from what is
// read here).

// ReviewFilter selects what a review covers.
type ReviewFilter struct {
	Team string // "" for every team the reviewer may review
	// Unused is the period (review.DefaultUnused if zero); OnlyUnused
	// keeps only memberships with nothing used within it.
	Unused     time.Duration
	OnlyUnused bool
}

// reviewTeams is the teams actor's review of f covers, or why none.
func (s *Service) reviewTeams(p *policy.Policy, actor Actor, team string) ([]string, error) {
	if !actor.IsUser() {
		return nil, fmt.Errorf("%w: access reviews are for people", ErrForbidden)
	}
	teams := review.ReviewableTeams(p, actor.User())
	switch {
	case team != "" && p.Teams[team] == nil:
		return nil, fmt.Errorf("%w: there is no team %q", ErrBadInput, clip.Runes(team, 64))
	case team != "" && !slices.Contains(teams, team):
		return nil, fmt.Errorf("%w: %s neither manages team %s nor is an auditor", ErrForbidden, actor.User(), team)
	case team != "":
		return []string{team}, nil
	case len(teams) == 0:
		return nil, fmt.Errorf("%w: access reviews are for the managers of a team and for auditors", ErrForbidden)
	}
	return teams, nil
}

// Review returns actor's access review: each membership of the teams they
// may review, what it allows, its use, and the standing decisions; and
// the dated eligibilities that end within the notice time. Someone who
// reviews no team gets only the endings of their own eligibilities.
func (s *Service) Review(ctx context.Context, actor Actor, f ReviewFilter) (*review.Report, error) {
	if f.Unused < 0 {
		return nil, fmt.Errorf("%w: the unused period must be positive", ErrBadInput)
	}
	p := s.policy()
	teams, err := s.reviewTeams(p, actor, f.Team)
	if err != nil && f.Team == "" && actor.IsUser() && p.Users[actor.User()] != nil {
		return s.ownEndings(p, actor.User()), nil
	}
	if err != nil {
		return nil, err
	}
	var usage []store.Usage
	var decisions []store.ReviewDecision
	err = s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if usage, err = tx.Usage(); err != nil {
			return err
		}
		decisions, err = tx.ReviewDecisions()
		return err
	})
	if err != nil {
		return nil, err
	}
	return review.Build(p, usage, decisions, review.Input{Now: s.now(), Unused: f.Unused, OnlyUnused: f.OnlyUnused,
		Teams: teams, Notice: s.cfg.EligibilityNotice}), nil
}

// ownEndings is the review of someone who reviews no team: the dated
// eligibilities of their own that end within the notice time.
func (s *Service) ownEndings(p *policy.Policy, user string) *review.Report {
	now := s.now()
	rep := &review.Report{At: now, Unused: review.DefaultUnused}
	for _, e := range p.Endings(now, s.cfg.EligibilityNotice) {
		if slices.Contains(e.People, user) {
			rep.Endings = append(rep.Endings, e)
		}
	}
	return rep
}

// ReviewDecision is a reviewer's keep or remove on one membership.
type ReviewDecision struct {
	Team, User string
	Decision   string // review.Keep or review.Remove
	Reason     string
}

// DecideReview records actor's decision on a membership, replacing the
// standing one, and audits it (review.decided); a refusal is audited too
// (review.refused): only a manager of the team or an auditor decides,
// never on their own membership, always with a reason.
func (s *Service) DecideReview(ctx context.Context, actor Actor, in ReviewDecision) (*store.ReviewDecision, error) {
	subject := "team:?"
	if policy.ValidName(in.Team) && policy.ValidName(in.User) {
		subject = "team:" + in.Team + "/" + in.User
	}
	var out *store.ReviewDecision
	err := s.update(ctx, func(tx store.Tx) error {
		out = nil
		if !actor.IsUser() {
			return s.refuse(tx, actor, "review.refused", subject, fmt.Errorf("%w: access reviews are for people", ErrForbidden), nil)
		}
		m := policy.Membership{Team: in.Team, User: in.User}
		if err := review.CheckDecision(s.policy(), actor.User(), m, in.Decision, in.Reason); err != nil {
			return s.refuse(tx, actor, "review.refused", subject, reviewRefusal(err), nil)
		}
		d := store.ReviewDecision{User: in.User, Team: in.Team, Decision: in.Decision, Reason: in.Reason,
			Reviewer: actor.User(), At: s.now()}
		if err := tx.PutReviewDecision(d); err != nil {
			return err
		}
		out = &d
		setResult(ctx, &d)
		return record(tx, audit.Event{Time: d.At, Actor: string(actor), Action: "review.decided", Subject: subject,
			Detail: map[string]any{"team": d.Team, "user": d.User, "decision": d.Decision, "reason": d.Reason}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReviewExport returns the standing decisions on the teams actor may
// review (or team alone) and the patch of the policy files that removes
// the memberships marked remove.
func (s *Service) ReviewExport(ctx context.Context, actor Actor, team string) (*review.Export, error) {
	p := s.policy()
	teams, err := s.reviewTeams(p, actor, team)
	if err != nil {
		return nil, err
	}
	var decisions []store.ReviewDecision
	if err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { decisions, err = tx.ReviewDecisions(); return err }); err != nil {
		return nil, err
	}
	return review.MakeExport(p, decisions, teams, s.now())
}

// reviewRefusal puts review's reasons under the workflow's kinds.
func reviewRefusal(err error) error {
	switch {
	case errors.Is(err, review.ErrSelfReview), errors.Is(err, review.ErrNotReviewer):
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	default:
		return fmt.Errorf("%w: %w", ErrBadInput, err)
	}
}

// MayReview reports whether actor may review some team: a manager of
// one, or an auditor.
func (s *Service) MayReview(actor Actor) bool {
	return actor.IsUser() && len(review.ReviewableTeams(s.policy(), actor.User())) > 0
}
