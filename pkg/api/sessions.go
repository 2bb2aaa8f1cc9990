package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// sessionIDPattern: the CA's session IDs, and those bastions make for
// break-glass sessions (workflow.ValidBreakGlassSessionID).
var sessionIDPattern = regexp.MustCompile(`^(sess-[a-z2-7]{16}|bg-[0-9a-f]{24})$`)

func (s *Server) sessionID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !sessionIDPattern.MatchString(id) {
		s.writeError(w, r, fmt.Errorf("%w: %q is not a session ID", workflow.ErrBadInput, clip.Runes(id, 40)))
		return "", false
	}
	return id, true
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.SessionStart
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	g, err := s.wf.StartSession(r.Context(), actor, workflow.SessionStart{RequestID: in.RequestID, Resource: in.Resource,
		User: in.User, ClientAddr: in.ClientAddr, Command: in.Command})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toWireGrant(g))
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.Heartbeat
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	if len(in.Sessions) > 10000 {
		s.writeError(w, r, fmt.Errorf("%w: at most 10000 sessions per heartbeat", workflow.ErrBadInput))
		return
	}
	st, err := s.wf.Heartbeat(r.Context(), actor, in.Sessions)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWireHeartbeat(st))
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	var in wire.SessionEnd
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	end := workflow.SessionEnd{Reason: in.Reason, ExitStatus: in.ExitStatus}
	if in.EndedAt != nil {
		end.At = *in.EndedAt
	}
	if err := s.wf.ReportSessionEnd(r.Context(), actor, id, end); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) checkMFA(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in wire.MFACheck
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	if actor.Bastion() == "" {
		s.writeError(w, r, fmt.Errorf("%w: only bastions check codes for others", workflow.ErrNotBastion))
		return
	}
	if err := s.wf.CheckMFA(r.Context(), actor, in.User, in.Code, in.ClientAddr); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// uploadRecording authenticates the upload from its headers alone (the
// signature covers the body's declared length and digest), reserves room
// for it, and only then streams the body into the recording store through
// a check that ends in apiauth.ErrBodyMismatch unless the body is the
// declared one, so that nothing is stored for a caller nobody
// authenticated, and nothing is kept that does not match.
func (s *Server) uploadRecording(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	principal, d, err := s.signed.VerifyStream(r.Context(), r)
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	actor := workflow.Actor(principal)
	if d.Length > workflow.MaxRecording || d.Length > s.cfg.MaxUploadBytes {
		s.refuseInput(w, r, actor, fmt.Errorf("%w: a recording of %d bytes is over the limit of %d", errTooLarge, d.Length, min(workflow.MaxRecording, s.cfg.MaxUploadBytes)))
		return
	}
	release, err := s.uploads.acquire(d.Length)
	if err != nil {
		s.log.Warn("refused an upload: the CA is receiving as much as it allows", "session", id, "bastion", principal, "bytes", d.Length)
		w.Header().Set("Retry-After", "60")
		s.writeError(w, r, err)
		return
	}
	defer release()
	err = s.wf.StoreRecording(r.Context(), actor, id, d.Check(r.Body))
	if errors.Is(err, apiauth.ErrBodyMismatch) {
		s.refuseInput(w, r, actor, fmt.Errorf("%w: %w", workflow.ErrBadInput, err))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	metrics.RecordingBytesStored.Add(float64(d.Length))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	q := r.URL.Query()
	f := store.SessionFilter{User: q.Get("user"), Resource: q.Get("resource"), EndReason: q.Get("ended"), Open: q.Get("open") == "1"}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				s.writeError(w, r, fmt.Errorf("%w: %s must be an RFC 3339 time", workflow.ErrBadInput, p.name))
				return
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			s.writeError(w, r, fmt.Errorf("%w: limit must be 1..10000", workflow.ErrBadInput))
			return
		}
		f.Limit = n
	}
	list, err := s.wf.Sessions(r.Context(), actor, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.Sessions{Sessions: make([]wire.Session, 0, len(list))}
	for _, x := range list {
		out.Sessions = append(out.Sessions, wire.Session{ID: x.ID, User: x.User, RequestID: x.RequestID, Resource: x.Resource,
			Role: x.Role, Bastion: x.Bastion, ClientAddr: x.ClientAddr, Command: x.Command, StartedAt: x.StartedAt,
			EndedAt: optTime(x.EndedAt), EndReason: x.EndReason, RecordingSize: x.RecordingSize, RecordingSHA256: x.RecordingSHA256})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
	id, ok := s.sessionID(w, r)
	if !ok {
		return
	}
	rc, sess, err := s.wf.Recording(r.Context(), actor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	head, _ := br.Peek(2)
	w.Header().Set("Content-Type", recording.ContentType(head))
	w.Header().Set("Content-Length", strconv.FormatInt(sess.RecordingSize, 10))
	if _, err := io.Copy(w, br); err != nil && r.Context().Err() == nil {
		// The store failed, or the recording is not the one stored: the
		// client must not take what it got for the whole, so the
		// connection is cut short of the declared length.
		s.log.Error("serving a recording failed part way; the response is cut short", "session", id, "err", err)
		panic(http.ErrAbortHandler)
	}
}
