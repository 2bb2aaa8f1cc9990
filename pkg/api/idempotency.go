package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// A state-changing call may carry an Idempotency-Key (which its signature
// covers). The answer to the first such call is kept in the transaction
// that makes its change, for the caller and the key; the same call sent
// again with the key, after a lost answer or an answer of unknown
// outcome, gets that answer back, marked with the ReplayedHeader, instead
// of making a second change or meeting a conflict. The same key on
// another call is refused.

// ReplayedHeader marks an answer given again from the kept copy.
const ReplayedHeader = "Idempotent-Replayed"

var (
	errKeyReused = errors.New("this Idempotency-Key was used for another call")
	validKey     = regexp.MustCompile(`^[A-Za-z0-9._-]{16,80}$`)
)

// answers renders the result of each state-changing call as its handler
// answers it, so that the kept answer is the first answer. A heartbeat's
// answer is not kept: it reports the sessions' state now, and renewing a
// lease twice is harmless, so one sent again simply runs again.
var answers = map[string]func(result any) (int, any, error){
	"POST /v1/requests":                      requestAnswer(http.StatusCreated),
	"POST /v1/requests/{id}/approve":         viewAnswer,
	"POST /v1/requests/{id}/deny":            requestAnswer(http.StatusOK),
	"POST /v1/requests/{id}/revoke":          requestAnswer(http.StatusOK),
	"POST /v1/requests/{id}/certificate":     certAnswer,
	"POST /v1/requests/{id}/hop-certificate": certAnswer,
	"POST /v1/mfa/enroll": func(v any) (int, any, error) {
		uri, ok := v.(string)
		return http.StatusOK, wire.MFAEnrolled{URI: uri}, resultType(ok, v)
	},
	"POST /v1/mfa/check": noContent,
	"POST /v1/password": func(any) (int, any, error) {
		return http.StatusOK, map[string]string{"status": "password set"}, nil
	},
	"POST /v1/sessions": func(v any) (int, any, error) {
		g, ok := v.(*workflow.SessionGrant)
		if !ok {
			return 0, nil, resultType(ok, v)
		}
		return http.StatusCreated, toWireGrant(g), nil
	},
	"POST /v1/sessions/{id}/end": noContent,
	"POST /v1/review/decisions":  reviewDecisionAnswer,
}

func requestAnswer(status int) func(any) (int, any, error) {
	return func(v any) (int, any, error) {
		r, ok := v.(*store.Request)
		if !ok {
			return 0, nil, resultType(ok, v)
		}
		return status, toWireRequest(r), nil
	}
}

func viewAnswer(v any) (int, any, error) {
	rv, ok := v.(*workflow.RequestView)
	if !ok {
		return 0, nil, resultType(ok, v)
	}
	return http.StatusOK, toWireView(rv), nil
}

func certAnswer(v any) (int, any, error) {
	c, ok := v.(*workflow.IssuedCert)
	if !ok {
		return 0, nil, resultType(ok, v)
	}
	return http.StatusOK, toWireCertText(c.Cert, c.AuthorizedKey), nil
}

func noContent(any) (int, any, error) { return http.StatusNoContent, nil, nil }

func resultType(ok bool, v any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("unexpected result %T", v)
}

// idempotent wraps a state-changing handler: a call with an
// Idempotency-Key is answered from the kept answer if there is one, and
// otherwise runs with a claim that keeps its answer.
func (s *Server) idempotent(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, actor workflow.Actor, body []byte) {
		key := r.Header.Get(apiauth.IdempotencyKeyHeader)
		render := answers[r.Pattern]
		if key == "" || render == nil {
			h(w, r, actor, body)
			return
		}
		if len(r.Header.Values(apiauth.IdempotencyKeyHeader)) > 1 || !validKey.MatchString(key) {
			s.refuseInput(w, r, actor, fmt.Errorf("%w: one %s of 16 to 80 letters, digits, '.', '_' or '-'",
				workflow.ErrBadInput, apiauth.IdempotencyKeyHeader))
			return
		}
		fp := fingerprint(r, body)
		kept, ok := admittedAnswer(r)
		var err error
		if !ok {
			kept, err = s.wf.Answered(r.Context(), actor, key)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if kept != nil {
			if !bytes.Equal(kept.Fingerprint, fp) {
				s.refuseInput(w, r, actor, errKeyReused)
				return
			}
			writeKept(w, kept, true)
			return
		}
		c := &workflow.Claim{Actor: actor, Key: key, Fingerprint: fp, Render: func(result any, refusal error) (int, []byte, error) {
			if refusal != nil {
				status, e := errorAnswer(refusal)
				return status, jsonBody(e), nil
			}
			status, v, err := render(result)
			if err != nil || v == nil {
				return status, nil, err
			}
			return status, jsonBody(v), nil
		}}
		rec := &recorder{header: http.Header{}}
		h(rec, r.WithContext(workflow.WithClaim(r.Context(), c)), actor, body)
		if kept := c.Kept(); kept != nil {
			writeKept(w, kept, false)
			return
		}
		rec.writeTo(w)
	}
}

// fingerprint identifies a call: method, request URI and body.
func fingerprint(r *http.Request, body []byte) []byte {
	sum := sha256.Sum256(body)
	fp := sha256.Sum256([]byte("lockbox-call-v1\n" + r.Method + "\n" + r.URL.RequestURI() + "\n" + hex.EncodeToString(sum[:])))
	return fp[:]
}

// writeKept gives a kept answer.
func writeKept(w http.ResponseWriter, k *workflow.KeptAnswer, replayed bool) {
	if len(k.Body) > 0 {
		w.Header().Set("Content-Type", "application/json")
	}
	if replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	w.WriteHeader(k.Status)
	w.Write(k.Body) //nolint:errcheck // the client went away
}

// jsonBody encodes v as writeJSON does.
func jsonBody(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // our own wire types always encode
	return b.Bytes()
}

// recorder holds a handler's answer until the claim has said whether a
// kept answer replaces it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func (r *recorder) writeTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 { // the handler wrote nothing (the caller went away)
		return
	}
	w.WriteHeader(r.status)
	w.Write(r.body.Bytes()) //nolint:errcheck // the client went away
}

// admitted is the kept answer auth read with the directory check
// (workflow Admit), for idempotent.
type admitted struct{ kept *workflow.KeptAnswer }

type admittedKey struct{}

// keptFor reports the Idempotency-Key under which a call's kept answer
// is to be read: one valid key on a call whose answer is kept.
func keptFor(r *http.Request) (string, bool) {
	keys := r.Header.Values(apiauth.IdempotencyKeyHeader)
	if len(keys) != 1 || answers[r.Pattern] == nil || !validKey.MatchString(keys[0]) {
		return "", false
	}
	return keys[0], true
}

// admittedAnswer is the kept answer (nil: none) auth read for r with
// the directory check; false if auth read none.
func admittedAnswer(r *http.Request) (*workflow.KeptAnswer, bool) {
	a, ok := r.Context().Value(admittedKey{}).(admitted)
	return a.kept, ok
}
