package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Refusals made here; the workflow's own are mapped in kindOf.
var (
	errUnauthenticated = errors.New("this endpoint needs the directory's bearer token (Authorization: Bearer ...)")
	errNoRoute         = errors.New("no such SCIM resource; Lockbox serves /scim/v2/Users, /scim/v2/Groups and /scim/v2/ServiceProviderConfig")
	errTooLarge        = errors.New("the body is too large")
	errContentType     = errors.New("the body must be application/scim+json (or application/json)")
)

// badRequest is a SCIM 400 of a given scimType (RFC 7644 3.12).
type badRequest struct {
	scimType string
	err      error
}

func (b badRequest) Error() string { return b.err.Error() }
func (b badRequest) Unwrap() error { return b.err }

func invalid(scimType, format string, args ...any) error {
	return badRequest{scimType, fmt.Errorf("%w: "+format, append([]any{workflow.ErrBadInput}, args...)...)}
}

// kind is an error's status and scimType.
func kindOf(err error) (status int, scimType string) {
	var b badRequest
	switch {
	case errors.As(err, &b):
		return http.StatusBadRequest, b.scimType
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized, ""
	case errors.Is(err, errNoRoute), errors.Is(err, workflow.ErrNoDirectoryEntry):
		return http.StatusNotFound, ""
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, ""
	case errors.Is(err, errContentType):
		return http.StatusUnsupportedMediaType, ""
	case errors.Is(err, workflow.ErrDirectoryConflict):
		return http.StatusConflict, "uniqueness"
	case errors.Is(err, workflow.ErrBadInput):
		return http.StatusBadRequest, "invalidValue"
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrOutcomeUnknown), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, ""
	}
	return http.StatusInternalServerError, ""
}

type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// answer answers err: audited first when it is bad input of the
// directory's that the workflow did not see.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, err error) {
	var b badRequest
	if errors.As(err, &b) {
		s.refuse(w, r, err)
		return
	}
	s.writeError(w, r, err)
}

// writeError answers err as a SCIM error. Errors of no known kind are
// logged in full and answered without detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, scimType := kindOf(err)
	detail := err.Error()
	switch status {
	case http.StatusInternalServerError:
		s.log.Error("SCIM call failed", "method", r.Method, "path", r.URL.Path, "err", err)
		detail = "internal error; see the CA's log"
	case http.StatusServiceUnavailable:
		s.log.Error("SCIM call: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		detail = "the CA cannot reach its database; nothing was changed, try again later"
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, errorBody{Schemas: []string{errorSchema}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}
