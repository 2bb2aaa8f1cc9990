package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// errorKinds maps named errors to a status and a stable code. The first
// match wins, so more specific errors come first.
var errorKinds = []struct {
	err    error
	status int
	code   string
}{
	{apiauth.ErrReplay, http.StatusUnauthorized, "replayed_request"},
	{apiauth.ErrStale, http.StatusUnauthorized, "stale_request"},
	{apiauth.ErrMissing, http.StatusUnauthorized, "unauthenticated"},
	{apiauth.ErrMalformed, http.StatusUnauthorized, "bad_authorization"},
	{apiauth.ErrUnknownKey, http.StatusUnauthorized, "unknown_key"},
	{apiauth.ErrBadSignature, http.StatusUnauthorized, "bad_signature"},

	{policy.ErrSelfApproval, http.StatusForbidden, "self_approval"},
	{policy.ErrNotApprover, http.StatusForbidden, "not_an_approver"},
	{policy.ErrOutOfScope, http.StatusForbidden, "out_of_scope"},
	{policy.ErrUnknownUser, http.StatusForbidden, "unknown_user"},
	{policy.ErrUnknownRole, http.StatusUnprocessableEntity, "unknown_role"},
	{policy.ErrUnknownResource, http.StatusUnprocessableEntity, "unknown_resource"},
	{policy.ErrNoResources, http.StatusUnprocessableEntity, "no_resources"},
	{policy.ErrDuplicateResource, http.StatusUnprocessableEntity, "duplicate_resource"},
	{policy.ErrOverMaxDuration, http.StatusUnprocessableEntity, "over_max_duration"},
	{policy.ErrBadDuration, http.StatusUnprocessableEntity, "bad_duration"},
	{policy.ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required"},
	{policy.ErrTicketRequired, http.StatusUnprocessableEntity, "ticket_required"},
	{policy.ErrBadTicket, http.StatusUnprocessableEntity, "bad_ticket"},
	{policy.ErrTooManyPending, http.StatusTooManyRequests, "too_many_pending"},
	{policy.ErrTooManyActive, http.StatusTooManyRequests, "too_many_active"},

	{workflow.ErrGrantDuration, http.StatusUnprocessableEntity, "bad_grant_duration"},
	{workflow.ErrBadStart, http.StatusUnprocessableEntity, "bad_start"},
	{workflow.ErrBadInput, http.StatusBadRequest, "bad_request"},
	{workflow.ErrForbidden, http.StatusForbidden, "forbidden"},
	{workflow.ErrNotBastion, http.StatusForbidden, "not_a_bastion"},
	{workflow.ErrNotFound, http.StatusNotFound, "not_found"},
	{workflow.ErrNotPending, http.StatusConflict, "not_pending"},
	{workflow.ErrPendingExpired, http.StatusConflict, "request_expired"},
	{workflow.ErrAlreadyApproved, http.StatusConflict, "already_approved"},
	{workflow.ErrNotLive, http.StatusConflict, "grant_not_live"},
	{workflow.ErrNotYetOpen, http.StatusConflict, "window_not_open"},
	{workflow.ErrStepUpRequired, http.StatusForbidden, "mfa_required"},
	{workflow.ErrNotInGrant, http.StatusForbidden, "resource_not_in_grant"},
	{workflow.ErrMFAEnrolled, http.StatusConflict, "mfa_enrolled"},
	{workflow.ErrMFANotEnrolled, http.StatusConflict, "mfa_not_enrolled"},
	{workflow.ErrMFACode, http.StatusForbidden, "mfa_code"},
	{workflow.ErrThrottled, http.StatusTooManyRequests, "throttled"},
	{workflow.ErrSessionActive, http.StatusConflict, "session_active"},
	{workflow.ErrCommand, http.StatusForbidden, "command_not_allowed"},
	{workflow.ErrNoSession, http.StatusNotFound, "no_session"},
	{workflow.ErrNoRecording, http.StatusNotFound, "no_recording"},
	{store.ErrConflict, http.StatusConflict, "conflict"},
	{store.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
}

// writeError answers with err's kind. Errors of no known kind are
// internal: logged in full, and answered without detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			msg := err.Error()
			if k.status == http.StatusServiceUnavailable {
				s.log.Error("store unavailable", "path", r.URL.Path, "err", err)
				msg = "the CA cannot reach its database; nothing was changed, try again later"
			}
			writeJSON(w, k.status, wire.Error{Error: wire.ErrorBody{Code: k.code, Message: msg}})
			return
		}
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, wire.Error{Error: wire.ErrorBody{Code: "internal", Message: "internal error; see the CA's log"}})
}
