package api

import (
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Routes only registered bastions may call, besides the session routes.

// bastionRefusals takes a bastion's report of what it refused, for the
// audit log.
func (s *Server) bastionRefusals(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.BastionRefusals
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	refusals := make([]workflow.BastionRefusal, len(in.Refusals))
	for i, f := range in.Refusals {
		refusals[i] = workflow.BastionRefusal{Kind: f.Kind, Time: f.Time, User: f.User, RequestID: f.RequestID, SessionID: f.SessionID,
			Login: f.Login, KeyID: f.KeyID, Serial: f.Serial, Fingerprint: f.Fingerprint, ClientAddr: f.ClientAddr, Type: f.Type,
			Target: f.Target, Reason: f.Reason}
	}
	counts := make([]workflow.RefusalCount, len(in.Counts))
	for i, c := range in.Counts {
		counts[i] = workflow.RefusalCount{Source: c.Source, Reason: c.Reason, Count: c.Count, First: c.First, Last: c.Last}
	}
	if err := s.wf.RecordBastionRefusals(r.Context(), actor, refusals, counts); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// breakGlassSession takes a bastion's report of a session it opened with
// a break-glass certificate while the CA was down.
func (s *Server) breakGlassSession(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.BreakGlassSession
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	err := s.wf.ReportBreakGlassSession(r.Context(), actor, workflow.BreakGlassReport{SessionID: in.SessionID,
		Certificate: in.Certificate, ClientAddr: in.ClientAddr, Command: in.Command, StartedAt: in.StartedAt,
		EndedAt: in.EndedAt, EndReason: in.EndReason, ExitStatus: in.ExitStatus})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkSession answers whether a session could start, before the bastion
// asks for the TOTP code; it takes nothing.
func (s *Server) checkSession(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.SessionCheck
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	err := s.wf.CheckSession(r.Context(), actor, workflow.SessionCheck{RequestID: in.RequestID, Resource: in.Resource, User: in.User, ClientAddr: in.ClientAddr})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
