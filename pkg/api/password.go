package api

import (
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// passwordBody is the body of POST /v1/password. (Its twin is in
// pkg/client/password.go.)
type passwordBody struct {
	Password string `json:"password"`
}

// setPassword sets the caller's web form password. The call is signed
// with the caller's SSH identity key like every other; the password is
// never logged or audited.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
	var in passwordBody
	if err := decode(body, &in); err != nil {
		s.refuseInput(w, r, actor, err)
		return
	}
	if err := s.wf.SetPassword(r.Context(), actor, in.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "password set"})
}
