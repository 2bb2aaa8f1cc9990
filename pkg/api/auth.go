package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
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
func (s *Server) auth(h handler) http.Handler { return s.authLimit(h, maxBody) }

// signed is the http.Handler of every route that wants a signed call (see
// auth): ServeHTTP refuses a call to one that carries no Authorization
// header at all before anything else is done for it.
type signed func(w http.ResponseWriter, r *http.Request)

func (h signed) ServeHTTP(w http.ResponseWriter, r *http.Request) { h(w, r) }

// authLimit is auth with a body bound of limit bytes.
func (s *Server) authLimit(h handler, limit int64) http.Handler {
	return s.authWith(h, limit, false)
}

// authSpending is auth for a handler whose effects are all in workflow
// transactions (workflow.Service.update): the call's nonce is spent in
// the first of them that commits, beside the call's change, rather than
// in a transaction of its own before the handler runs (workflow
// nonce.go). The answer waits for the nonce (spendingWriter): a call
// whose nonce no transaction of its own recorded has it recorded before
// its first byte of answer, and a replay gets the replay refusal, never
// the handler's answer.
func (s *Server) authSpending(h handler) http.Handler { return s.authWith(h, maxBody, true) }

func (s *Server) authWith(h handler, limit int64, spending bool) http.Handler {
	return signed(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			s.writeError(w, r, errTooLarge)
			return
		}
		v := s.signed
		if r.Method == http.MethodGet {
			v = s.reading
		}
		var nonce *workflow.Nonce
		if spending && v == s.signed {
			nonce = &workflow.Nonce{}
			r = r.WithContext(workflow.WithNonce(r.Context(), nonce))
		}
		principal, err := v.Verify(r.Context(), r, body)
		if err != nil {
			s.refuseAuth(w, r, err)
			return
		}
		if nonce != nil {
			sw := &spendingWriter{w: w, s: s, r: r, n: nonce, base: w.Header().Clone()}
			defer sw.spend()
			w = sw
		}
		// A person the directory disabled is refused every call, even one
		// signed with a key the policy still lists. A call whose answer may
		// be kept (idempotent) has the kept answer read with the check
		// (workflow Admit).
		if key, ok := keptFor(r); ok {
			kept, err := s.wf.Admit(r.Context(), workflow.Actor(principal), key)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), admittedKey{}, admitted{kept}))
		} else if err := s.wf.CheckActive(r.Context(), workflow.Actor(principal)); err != nil {
			s.writeError(w, r, err)
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
	answer := authRefusal{err, s.authMessage(r, err)}
	if errors.Is(err, apiauth.ErrNonceStoreFull) {
		actor := workflow.Actor(headerParam(r, "principal"))
		if aerr := s.wf.RecordRefusal(r.Context(), actor, "auth.refused", r.Method+" "+r.URL.Path, err); !errors.Is(aerr, err) {
			s.writeError(w, r, aerr)
			return
		}
		s.writeError(w, r, answer)
		return
	}
	s.countAnonymous(w, r, kindOf(err).code, err)
	s.writeError(w, r, answer)
}

// countAnonymous counts the refusal of a call nobody authenticated under
// its source address and reason, and logs the first of each pair in an
// interval: the count goes to the audit log once per interval, the
// metrics count every call, and nothing else is written per call. It
// counts the refusal against the source's penalty budget too (penalise).
func (s *Server) countAnonymous(w http.ResponseWriter, r *http.Request, code string, err error) {
	source := sourceAddr(r)
	s.penalise(w, r, source)
	if s.wf.CountAnonymousRefusal(source, code) {
		s.log.Warn("refused a call nobody authenticated; more from this source are counted and audited once per interval",
			"source", source, "reason", code, "claimed", claimedPrincipal(r), "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// unsignedCode is the code of a call that carries no signature.
const unsignedCode = "unauthenticated"

// unsignedAnswer is the answer to a call that carries no signature,
// encoded once: it is the same for every such call, and anyone can send
// them by the thousand.
var unsignedAnswer = func() []byte {
	var b bytes.Buffer
	if err := encodeJSON(&b, wire.Error{Error: wire.ErrorBody{Code: unsignedCode, Message: unsignedMessage}}); err != nil {
		panic(err) // a constant value
	}
	return b.Bytes()
}()

// refuseUnsigned answers a call to a signed route that carries no
// Authorization header, before its body is read or a deadline is set up
// for it: it is counted and answered as refuseAuth would (401
// unauthenticated), with the answer encoded once.
func (s *Server) refuseUnsigned(w http.ResponseWriter, r *http.Request) {
	s.countAnonymous(w, r, unsignedCode, apiauth.ErrMissing)
	unsignedRefusals.Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(unsignedAnswer) //nolint:errcheck // the client went away; nothing to do
}

// authRefusal is an authentication error (for errors.Is and the log) with
// the answer written for the caller.
type authRefusal struct {
	err    error
	answer string
}

func (a authRefusal) Error() string { return a.answer }
func (a authRefusal) Unwrap() error { return a.err }

// unsignedMessage is the answer's message to a call with no signature.
const unsignedMessage = "this call must be signed with your SSH key (an Authorization: Lockbox-SSH-Sig header; see docs/api.md)"

// authMessage says, for the caller, why its call was not authenticated.
// It names only what the caller sent, and says the same for an unknown
// principal as for an unknown key.
func (s *Server) authMessage(r *http.Request, err error) string {
	switch {
	case errors.Is(err, apiauth.ErrMissing):
		return unsignedMessage
	case errors.Is(err, apiauth.ErrMalformed):
		return "the Authorization header is not a Lockbox-SSH-Sig header this CA can read (see docs/api.md)"
	case errors.Is(err, apiauth.ErrStale):
		return fmt.Sprintf("the call was signed more than a minute away from the CA's clock (the CA's time is %s); check this machine's clock",
			s.cfg.Clock().UTC().Format(time.RFC3339))
	case errors.Is(err, apiauth.ErrUnknownKey):
		return fmt.Sprintf("the CA knows no key %s for %s: the principal is unknown, or the policy does not register this key for it",
			headerParam(r, "key"), headerParam(r, "principal"))
	case errors.Is(err, apiauth.ErrBadSignature):
		return "the signature does not match this call (was the method, path, Host or body changed on the way, by a proxy for instance?)"
	case errors.Is(err, apiauth.ErrReplay):
		return "this call was received before (its nonce is spent); sign every call anew"
	case errors.Is(err, apiauth.ErrNonceStoreFull):
		return "too many signed reads from you in the last two minutes; wait a minute and try again"
	}
	return "the call could not be authenticated"
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

// claimedPrincipal is the principal the Authorization header claims, for
// the log of a refused call, or "anonymous".
func claimedPrincipal(r *http.Request) string {
	if p := headerParam(r, "principal"); p != "?" {
		return "claimed:" + p
	}
	return "anonymous"
}

// headerParam pulls NAME=... out of the Authorization header, if it is
// short printable ASCII, or "?".
func headerParam(r *http.Request, name string) string {
	params := strings.TrimPrefix(r.Header.Get("Authorization"), "Lockbox-SSH-Sig ")
	for _, part := range strings.Split(params, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), name+"="); ok {
			if len(v) > 0 && len(v) <= 80 && !strings.ContainsFunc(v, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
				return v
			}
		}
	}
	return "?"
}

// spendingWriter holds back a call's answer until its nonce is spent
// (authSpending): at the first header or byte written, or when the
// handler returns having written nothing.
type spendingWriter struct {
	w    http.ResponseWriter
	s    *Server
	r    *http.Request
	n    *workflow.Nonce
	base http.Header // the header before the handler ran
	done bool
	// refused: the answer was replaced by a refusal; the handler's is
	// dropped.
	refused bool
}

// spend spends the nonce unless the call did, once; a replay, or a
// failure to record the nonce, replaces the handler's answer.
func (sw *spendingWriter) spend() {
	if sw.done {
		return
	}
	sw.done = true
	err := sw.s.wf.Spend(sw.r.Context(), sw.n)
	if err == nil {
		return
	}
	h := sw.w.Header()
	clear(h)
	for k, v := range sw.base {
		h[k] = v
	}
	switch {
	case errors.Is(err, workflow.ErrReplay):
		sw.s.refuseAuth(sw.w, sw.r, apiauth.ErrReplay)
	default:
		sw.s.writeError(sw.w, sw.r, fmt.Errorf("apiauth: recording nonce: %w", err))
	}
	sw.refused = true
}

func (sw *spendingWriter) Header() http.Header { return sw.w.Header() }

func (sw *spendingWriter) WriteHeader(status int) {
	sw.spend()
	if !sw.refused {
		sw.w.WriteHeader(status)
	}
}

func (sw *spendingWriter) Write(p []byte) (int, error) {
	sw.spend()
	if sw.refused {
		return len(p), nil
	}
	return sw.w.Write(p)
}

func (sw *spendingWriter) Unwrap() http.ResponseWriter { return sw.w }
