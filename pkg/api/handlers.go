package api

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func (s *Server) caKeys(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Authorities == nil {
		writeJSON(w, http.StatusOK, wire.CAKeys{UserCA: authorizedKey(s.cfg.UserCA), HopCA: authorizedKey(s.cfg.HopCA), HostCA: authorizedKey(s.cfg.HostCA),
			UserCAs: authorizedKeys(s.cfg.UserCA), HopCAs: authorizedKeys(s.cfg.HopCA), HostCAs: authorizedKeys(s.cfg.HostCA),
			Audit: authorizedKey(s.cfg.AuditKey)})
		return
	}
	a := s.cfg.Authorities()
	user, hop, host := a.UserKeys(), a.HopKeys(), a.HostKeys()
	writeJSON(w, http.StatusOK, wire.CAKeys{UserCA: authorizedKey(first(user)), HopCA: authorizedKey(first(hop)), HostCA: authorizedKey(first(host)),
		UserCAs: authorizedKeys(user...), HopCAs: authorizedKeys(hop...), HostCAs: authorizedKeys(host...), Audit: authorizedKey(s.cfg.AuditKey)})
}

func first(keys []ssh.PublicKey) ssh.PublicKey {
	if len(keys) == 0 {
		return nil
	}
	return keys[0]
}

// authorizedKeys is each non-nil key as an authorized_keys line.
func authorizedKeys(keys ...ssh.PublicKey) []string {
	var out []string
	for _, k := range keys {
		if k != nil {
			out = append(out, authorizedKey(k))
		}
	}
	return out
}

func (s *Server) krl(w http.ResponseWriter, r *http.Request) {
	b, err := s.wf.KRL(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b) //nolint:errcheck // the client went away
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	writeJSON(w, http.StatusOK, wire.WhoAmI{Principal: string(actor)})
}

// requestID takes the {id} path value and refuses anything not shaped like
// a request ID before it goes further.
func (s *Server) requestID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !workflow.ValidRequestID(id) {
		s.writeError(w, r, fmt.Errorf("%w: %q is not a request ID", workflow.ErrBadInput, clip.Runes(id, 40)))
		return "", false
	}
	return id, true
}

// refuseInput audits bad input and answers it.
func (s *Server) refuseInput(w http.ResponseWriter, r *http.Request, actor workflow.Actor, err error) {
	s.writeError(w, r, s.wf.RecordRefusal(r.Context(), actor, "input.refused", r.Method+" "+r.URL.Path, err))
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.SubmitRequest
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	d, err := time.ParseDuration(in.Duration)
	if err != nil {
		s.refuseInput(w, r, actor, fmt.Errorf("%w: duration %q: use Go syntax such as 30m or 2h", workflow.ErrBadInput, clip.Runes(in.Duration, 40)))
		return
	}
	start, err := workflow.ParseStart(in.Start)
	if err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	req, err := s.wf.Submit(r.Context(), actor, workflow.Submission{Role: in.Role, Resources: in.Resources, Duration: d, Reason: in.Reason, Ticket: in.Ticket,
		Start: start})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toWireRequest(req))
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	q := r.URL.Query()
	f := workflow.ListFilter{Mine: q.Get("mine") == "1", Pending: q.Get("pending") == "1"}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, fmt.Errorf("%w: limit must be 1..1000", workflow.ErrBadInput))
			return
		}
		f.Limit = n
	}
	views, err := s.wf.List(r.Context(), actor, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.Requests{Requests: make([]wire.Request, 0, len(views))}
	for _, v := range views {
		out.Requests = append(out.Requests, toWireView(v))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	id, ok := s.requestID(w, r)
	if !ok {
		return
	}
	v, err := s.wf.Get(r.Context(), actor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWireView(v))
}

// decision handles approve, deny and revoke, which share their shape.
func (s *Server) decision(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte,
	act func(id, reason string) (any, error)) {
	id, ok := s.requestID(w, r)
	if !ok {
		return
	}
	var in wire.Decision
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	out, err := act(id, in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// approve takes a reason, a duration that shortens the grant, and a
// step-up code, and answers with the request as the approver now sees it.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	id, ok := s.requestID(w, r)
	if !ok {
		return
	}
	var in wire.ApproveRequest
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	var d time.Duration
	if in.Duration != "" {
		var err error
		if d, err = time.ParseDuration(in.Duration); err != nil || d <= 0 {
			s.refuseInput(w, r, actor, fmt.Errorf("%w: %w: duration %q: give a positive Go duration such as 30m", workflow.ErrBadInput, workflow.ErrGrantDuration, clip.Runes(in.Duration, 40)))
			return
		}
	}
	req, err := s.wf.ApproveWith(r.Context(), actor, id, workflow.ApprovalInput{Reason: in.Reason, Duration: d,
		StepUp: workflow.StepUp{Code: in.Code, Addr: remoteIP(r)}})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.viewOf(r, actor, req.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// remoteIP is the address step-up code failures are counted under: the
// peer's IP. (Behind a reverse proxy every caller shares the proxy's.)
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	s.decision(w, r, actor, body, func(id, reason string) (any, error) {
		req, err := s.wf.Deny(r.Context(), actor, id, reason)
		if err != nil {
			return nil, err
		}
		return toWireRequest(req), nil
	})
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	s.decision(w, r, actor, body, func(id, reason string) (any, error) {
		req, err := s.wf.Revoke(r.Context(), actor, id, reason)
		if err != nil {
			return nil, err
		}
		return toWireRequest(req), nil
	})
}

// viewOf answers an approval with the request as the approver now sees it
// (what is still outstanding).
func (s *Server) viewOf(r *http.Request, actor workflow.Actor, id string) (any, error) {
	v, err := s.wf.Get(r.Context(), actor, id)
	if err != nil {
		return nil, err
	}
	return toWireView(v), nil
}

// parseKey reads one authorized_keys line: a public key, never a
// certificate, with no options before it.
func parseKey(line string) (ssh.PublicKey, error) {
	if len(line) > 16<<10 {
		return nil, fmt.Errorf("%w: public key too long", workflow.ErrBadInput)
	}
	pub, _, opts, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("%w: public_key is not an OpenSSH public key", workflow.ErrBadInput)
	}
	if len(opts) > 0 || len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fmt.Errorf("%w: public_key must be exactly one key, without options", workflow.ErrBadInput)
	}
	return pub, nil
}

func (s *Server) certificate(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.CertificateRequest
	s.issue(w, r, actor, body, &in, &in.PublicKey, func(id string, pub ssh.PublicKey) (*ssh.Certificate, error) {
		return s.wf.IssueUserCert(r.Context(), actor, id, pub, workflow.StepUp{Code: in.Code, Addr: remoteIP(r)})
	})
}

func (s *Server) hopCertificate(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.HopCertificateRequest
	s.issue(w, r, actor, body, &in, &in.PublicKey, func(id string, pub ssh.PublicKey) (*ssh.Certificate, error) {
		return s.wf.IssueHopCert(r.Context(), actor, id, in.Resource, pub)
	})
}

// issue handles both certificate endpoints: the request ID from the path,
// the body decoded into in, whose public key field is key, then sign.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte, in any, key *string,
	sign func(id string, pub ssh.PublicKey) (*ssh.Certificate, error)) {
	id, ok := s.requestID(w, r)
	if !ok {
		return
	}
	if err := decode(body, in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	pub, err := parseKey(*key)
	if err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	cert, err := sign(id, pub)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if workflow.AnswerKept(r.Context()) {
		// The idempotent wrapper gives the answer kept (and rendered) in
		// the transaction, and drops whatever the handler writes.
		return
	}
	writeJSON(w, http.StatusOK, toWireCert(cert))
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	after, limit, err := auditPage(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	recs, err := s.wf.AuditLog(r.Context(), actor, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.Audit{Records: make([]wire.AuditRecord, 0, len(recs))}
	for _, rec := range recs {
		out.Records = append(out.Records, toWireAudit(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	v, err := s.wf.VerifyAudit(r.Context(), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.AuditVerification{OK: v.Error == "", Rows: v.Rows, HeadSeq: v.HeadSeq,
		HeadHash: hex.EncodeToString(v.HeadHash), Error: v.Error})
}

func (s *Server) enrollMFA(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.MFAEnroll
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	uri, err := s.wf.EnrollMFA(r.Context(), actor, in.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.MFAEnrolled{URI: uri})
}
