package api

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// maxBody bounds every request body; nothing in the API needs more.
const maxBody = 64 << 10

var errTooLarge = errors.New("request body too large")

// handler is an authenticated handler: it gets the caller and the body
// whose hash the signature covered.
type handler func(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte)

// auth reads the body (bounded), verifies the request's signature, and
// calls h with the authenticated actor. A refusal is audited under the
// principal the caller claimed, which is all we know of them.
func (s *Server) auth(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			s.writeError(w, r, errTooLarge)
			return
		}
		v := s.signed
		if r.Method == http.MethodGet {
			v = s.reading
		}
		principal, err := v.Verify(r.Context(), r, body)
		if err != nil {
			claimed := workflow.Actor(claimedPrincipal(r))
			s.writeError(w, r, s.wf.RecordRefusal(r.Context(), claimed, "auth.refused", r.Method+" "+r.URL.Path, err))
			return
		}
		h(w, r, workflow.Actor(principal), body)
	})
}

// claimedPrincipal pulls principal=... out of the Authorization header for
// the audit record of a refused call, or "anonymous".
func claimedPrincipal(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Authorization"), ",") {
		part = strings.TrimSpace(part)
		if i := strings.Index(part, "principal="); i >= 0 {
			p := part[i+len("principal="):]
			if len(p) > 0 && len(p) <= 80 && !strings.ContainsFunc(p, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
				return "claimed:" + p
			}
		}
	}
	return "anonymous"
}
