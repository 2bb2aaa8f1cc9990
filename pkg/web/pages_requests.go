package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

type homeData struct {
	ToDecide []pendingRow // pending, the viewer's approval would count
	Waiting  []pendingRow // pending, the viewer may only watch (their own, approved by them already, or not theirs to fill)
}

// pendingRow is a request in the pending list with its approval loop.
type pendingRow struct {
	*workflow.RequestView
	Loop loop
}

// home lists pending requests: those the viewer can decide first.
func (s *Server) home(w http.ResponseWriter, r *http.Request, v *viewer) {
	views, err := s.wf.List(r.Context(), v.Actor, workflow.ListFilter{Pending: true, Limit: 500})
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	var d homeData
	for _, rv := range views {
		row := pendingRow{rv, loopOf(rv, v.Name)}
		if rv.CanApprove && rv.User != v.Name {
			d.ToDecide = append(d.ToDecide, row)
		} else {
			d.Waiting = append(d.Waiting, row)
		}
	}
	s.render(w, r, http.StatusOK, "home", page{Title: "Pending requests", Nav: "pending", Viewer: v, Data: d})
}

type requestData struct {
	*workflow.RequestView
	Digest    string
	Decide    bool // approve and deny forms are shown
	Own       bool // the viewer is the requester
	Revocable bool
	Scheduled bool // approved, the window opens later
	History   []*store.Request
	Loop      loop
}

// requestDigest binds a decision to the request as it was shown: every
// field the approver read. A POST whose digest differs is refused.
func requestDigest(r *store.Request) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(r.ID)
	field(r.User)
	field(r.Role)
	field(fmt.Sprint(len(r.Resources)))
	for _, x := range r.Resources {
		field(x)
	}
	field(r.Duration.String())
	field(r.Reason)
	field(r.Ticket)
	field(fmt.Sprint(r.CreatedAt.UnixMicro()))
	field(fmt.Sprint(r.Start.UnixMicro()))
	return hex.EncodeToString(h.Sum(nil))
}

const historyLen = 10

func (s *Server) requestData(r *http.Request, v *viewer, rv *workflow.RequestView) (*requestData, error) {
	d := &requestData{RequestView: rv, Digest: requestDigest(rv.Request), Own: rv.User == v.Name, Loop: loopOf(rv, v.Name)}
	d.Decide = rv.State == store.Pending && rv.CanApprove && !d.Own
	now := s.cfg.Clock()
	d.Revocable, d.Scheduled = rv.Granted(now), rv.Scheduled(now)
	hist, err := s.wf.History(r.Context(), v.Actor, rv.User, historyLen+1)
	if err != nil {
		return nil, err
	}
	hist = slices.DeleteFunc(hist, func(h *store.Request) bool { return h.ID == rv.ID })
	if len(hist) > historyLen {
		hist = hist[:historyLen]
	}
	d.History = hist
	return d, nil
}

func (s *Server) requestPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.showRequest(w, r, v, http.StatusOK, flashText(r.URL.Query().Get("done")), "")
}

// showRequest renders request {id} with a flash message or an error.
func (s *Server) showRequest(w http.ResponseWriter, r *http.Request, v *viewer, status int, flash, errMsg string) {
	id := r.PathValue("id")
	if !workflow.ValidRequestID(id) {
		s.errorPage(w, r, v, http.StatusNotFound, "There is no such request.")
		return
	}
	rv, err := s.wf.Get(r.Context(), v.Actor, id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d, err := s.requestData(r, v, rv)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, status, "request", page{Title: "Request " + id, Nav: "pending", Viewer: v, Flash: flash, Error: errMsg, Data: d})
}

// flashText turns the ?done= code of a redirect after a POST into its
// message: only fixed texts, never text from the query.
func flashText(code string) string {
	switch code {
	case "approved":
		return "Your approval is recorded."
	case "denied":
		return "The request is denied."
	case "revoked":
		return "The grant is revoked; the bastion ends its sessions within seconds."
	}
	return ""
}

type decision func(v *viewer, r *http.Request, id, reason string) error

// approve takes the form's reason, its optional duration (the grant lasts
// at most that long) and, for roles with step_up_mfa, a fresh code.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.decide(w, r, v, "approved", func(v *viewer, r *http.Request, id, reason string) error {
		in := workflow.ApprovalInput{Reason: reason,
			StepUp: workflow.StepUp{Code: strings.TrimSpace(r.PostForm.Get("code")), Addr: clientIP(r)}}
		if d := strings.TrimSpace(r.PostForm.Get("duration")); d != "" {
			var err error
			if in.Duration, err = time.ParseDuration(d); err != nil || in.Duration <= 0 {
				return s.wf.RecordRefusal(r.Context(), v.Actor, "approval.refused", id,
					fmt.Errorf("%w: %q is not a positive duration; write one such as 30m or 1h30m, or leave it empty for the duration asked", workflow.ErrGrantDuration, clip.Runes(d, 20)))
			}
		}
		_, err := s.wf.ApproveWith(r.Context(), v.Actor, id, in)
		return err
	})
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.decide(w, r, v, "denied", func(v *viewer, r *http.Request, id, reason string) error {
		_, err := s.wf.Deny(r.Context(), v.Actor, id, reason)
		return err
	})
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.decide(w, r, v, "revoked", func(v *viewer, r *http.Request, id, reason string) error {
		_, err := s.wf.Revoke(r.Context(), v.Actor, id, reason)
		return err
	})
}

// decide checks that the form describes the request as it is now (the
// digest), then lets the workflow decide; it refuses self-approval and
// anyone who may not decide, inside the transaction. Success redirects
// (303) to the request page; a refusal shows the page with the reason.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, v *viewer, done string, fn decision) {
	id := r.PathValue("id")
	if !workflow.ValidRequestID(id) {
		s.errorPage(w, r, v, http.StatusNotFound, "There is no such request.")
		return
	}
	rv, err := s.wf.Get(r.Context(), v.Actor, id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	got := r.PostForm.Get("digest")
	if subtle.ConstantTimeCompare([]byte(got), []byte(requestDigest(rv.Request))) != 1 {
		err := fmt.Errorf("%w: the form does not match request %s as it is now", workflow.ErrBadInput, id)
		if aerr := s.wf.RecordRefusal(r.Context(), v.Actor, "web.decision.refused", id, err); aerr != nil && aerr != err {
			s.log.Error("auditing a refused decision", "err", aerr)
		}
		s.showRequest(w, r, v, http.StatusConflict, "", "This request is not the one your form was made for, so nothing was decided. Review it below and decide again.")
		return
	}
	if err := fn(v, r, id, r.PostForm.Get("reason")); err != nil {
		status, msg := describe(err)
		if status >= 500 {
			s.fail(w, r, v, err)
			return
		}
		s.showRequest(w, r, v, status, "", msg)
		return
	}
	target := "/ui/requests/" + url.PathEscape(id) + "?done=" + done
	if r.PostForm.Get("back") == "grants" {
		target = "/ui/grants?done=" + done
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) grantsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	grants, err := s.wf.ActiveGrants(r.Context(), v.Actor)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	type grant struct {
		*store.Request
		Digest    string
		Scheduled bool
	}
	out := make([]grant, len(grants))
	now := s.cfg.Clock()
	for i, g := range grants {
		out[i] = grant{g, requestDigest(g), g.Scheduled(now)}
	}
	s.render(w, r, http.StatusOK, "grants", page{Title: "Active grants", Nav: "grants", Viewer: v,
		Flash: flashText(r.URL.Query().Get("done")), Data: out})
}
