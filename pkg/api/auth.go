package api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// maxBody bounds every request body; nothing in the API needs more.
const maxBody = 64 << 10

var errTooLarge = errors.New("request body too large")

// handler is an authenticated handler: it gets the caller and the body
// whose hash the signature covered.
type handler func(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte)

// auth reads the body (bounded), verifies the request's signature, and
// calls h with the authenticated actor.
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
			s.refuseAuth(w, r, err)
			return
		}
		h(w, r, workflow.Actor(principal), body)
	})
}

// refuseAuth answers a call whose authentication failed. A caller whose
// signature did not verify (or whose call is a replay, which anyone can
// send) is nobody we know: the refusal is counted per source address and
// audited once per interval with the count (workflow
// FlushAnonymousRefusals), and logged once per interval per source and
// reason, so that anonymous callers cannot flood the audit log or the
// store's writer. A caller whose signature verified but who used up its
// share of read nonces is known, and audited one call at a time.
func (s *Server) refuseAuth(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, apiauth.ErrNonceStoreFull) {
		actor := workflow.Actor(strings.TrimPrefix(claimedPrincipal(r), "claimed:"))
		s.writeError(w, r, s.wf.RecordRefusal(r.Context(), actor, "auth.refused", r.Method+" "+r.URL.Path, err))
		return
	}
	source, code := sourceAddr(r), kindOf(err).code
	if s.wf.CountAnonymousRefusal(source, code) {
		s.log.Warn("refused a call nobody authenticated; more from this source are counted and audited once per interval",
			"source", source, "reason", code, "claimed", claimedPrincipal(r), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.writeError(w, r, err)
}

// sourceAddr is the IP address anonymous refusals are counted under: the
// peer's. (Behind a reverse proxy every caller shares the proxy's.)
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// claimedPrincipal pulls principal=... out of the Authorization header for
// the log of a refused call, or "anonymous".
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
