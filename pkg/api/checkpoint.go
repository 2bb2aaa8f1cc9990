package api

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Checkpoints is what the API needs to serve signed audit checkpoints
// (a *workflow.Checkpointer).
type Checkpoints interface {
	Latest() *audit.SignedCheckpoint
	SignNow(ctx context.Context, actor workflow.Actor) (*audit.SignedCheckpoint, error)
}

// checkpointRoutes adds the routes of the audit chain's outside anchor.
func (s *Server) checkpointRoutes() {
	// Public, as /v1/ca is: a checkpoint tells nothing but a row number
	// and a hash, and a witness without a Lockbox identity may keep them.
	s.mux.HandleFunc("GET /v1/audit/checkpoint", s.latestCheckpoint)
	s.mux.Handle("POST /v1/audit/checkpoint", s.auth(s.signCheckpoint))
	s.mux.Handle("GET /v1/audit/chain", s.auth(s.auditChain))
}

func (s *Server) latestCheckpoint(w http.ResponseWriter, r *http.Request) {
	var sc *audit.SignedCheckpoint
	if s.cfg.Checkpoints != nil {
		sc = s.cfg.Checkpoints.Latest()
	}
	if sc == nil {
		writeJSON(w, http.StatusNotFound, wire.Error{Error: wire.ErrorBody{Code: "no_checkpoint",
			Message: "this CA has not signed an audit checkpoint yet (it signs one at start and at its checkpoint interval; see its log)"}})
		return
	}
	writeJSON(w, http.StatusOK, toWireCheckpoint(sc))
}

func (s *Server) signCheckpoint(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	if len(body) > 0 {
		if err := decode(body, &struct{}{}); err != nil {
			s.refuseInput(w, r, actor, err)
			return
		}
	}
	if s.cfg.Checkpoints == nil {
		s.writeError(w, r, fmt.Errorf("api: no audit checkpointer configured"))
		return
	}
	sc, err := s.cfg.Checkpoints.SignNow(r.Context(), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWireCheckpoint(sc))
}

func toWireCheckpoint(sc *audit.SignedCheckpoint) wire.AuditCheckpoint {
	return wire.AuditCheckpoint{Seq: sc.Seq, Hash: hex.EncodeToString(sc.Hash), Time: sc.Time,
		Checkpoint: string(sc.Text), Signature: string(sc.Signature)}
}

// auditChain serves audit rows as stored, detail as the exact JSON that
// was hashed, for clients that check the chain themselves (auditors).
func (s *Server) auditChain(w http.ResponseWriter, r *http.Request, actor workflow.Actor, _ []byte) {
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
	out := wire.AuditChain{Records: make([]wire.AuditChainRecord, 0, len(recs))}
	for _, rec := range recs {
		out.Records = append(out.Records, wire.AuditChainRecord{Seq: rec.Seq, Time: rec.Time, Actor: rec.Actor,
			Action: rec.Action, Subject: rec.Subject, Detail: string(rec.Detail),
			PrevHash: hex.EncodeToString(rec.PrevHash), Hash: hex.EncodeToString(rec.Hash)})
	}
	writeJSON(w, http.StatusOK, out)
}

// auditPage reads the after and limit parameters of the audit listings.
func auditPage(q url.Values) (after int64, limit int, err error) {
	limit = 1000
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return 0, 0, fmt.Errorf("%w: after must be a row number", workflow.ErrBadInput)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			return 0, 0, fmt.Errorf("%w: limit must be 1..10000", workflow.ErrBadInput)
		}
	}
	return after, limit, nil
}
