package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/review"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// errorKinds maps named errors to a status and a stable code. The first
// match wins, so more specific errors come first.
var errorKinds = []errorKind{
	{apiauth.ErrReplay, http.StatusUnauthorized, "replayed_request"},
	{apiauth.ErrStale, http.StatusUnauthorized, "stale_request"},
	{apiauth.ErrMissing, http.StatusUnauthorized, "unauthenticated"},
	{apiauth.ErrMalformed, http.StatusUnauthorized, "bad_authorization"},
	{apiauth.ErrUnknownKey, http.StatusUnauthorized, "unknown_key"},
	{apiauth.ErrBadSignature, http.StatusUnauthorized, "bad_signature"},
	{apiauth.ErrNonceStoreFull, http.StatusTooManyRequests, "throttled"},

	{policy.ErrSelfApproval, http.StatusForbidden, "self_approval"},
	{policy.ErrNotApprover, http.StatusForbidden, "not_an_approver"},
	{policy.ErrEligibilityEnded, http.StatusForbidden, "eligibility_ended"},
	{policy.ErrEligibilityNotYet, http.StatusForbidden, "eligibility_not_yet"},
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

	{review.ErrSelfReview, http.StatusForbidden, "self_review"},
	{review.ErrNotReviewer, http.StatusForbidden, "not_a_reviewer"},
	{review.ErrNoMembership, http.StatusNotFound, "no_membership"},
	{review.ErrBadDecision, http.StatusUnprocessableEntity, "bad_decision"},
	{workflow.ErrGrantDuration, http.StatusUnprocessableEntity, "bad_grant_duration"},
	{workflow.ErrBadStart, http.StatusUnprocessableEntity, "bad_start"},
	{workflow.ErrBreakGlassRefused, http.StatusForbidden, "break_glass_refused"},
	{workflow.ErrBadInput, http.StatusBadRequest, "bad_request"},
	{workflow.ErrForbidden, http.StatusForbidden, "forbidden"},
	{workflow.ErrDeactivated, http.StatusForbidden, "deactivated"},
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
	{workflow.ErrWatchEnded, http.StatusGone, "watch_ended"},
	{workflow.ErrNotRunning, http.StatusConflict, "session_not_running"},
	{workflow.ErrStorageFull, http.StatusInsufficientStorage, "storage_full"},
	{workflow.ErrStorageUnavailable, http.StatusServiceUnavailable, "storage_unavailable"},
	{workflow.ErrRecordingMismatch, http.StatusInternalServerError, "recording_mismatch"},
	{store.ErrConflict, http.StatusConflict, "conflict"},
	{workflow.ErrKeyTaken, http.StatusConflict, "idempotency_key_in_use"},
	{errKeyReused, http.StatusUnprocessableEntity, "idempotency_key_reused"},
	{store.ErrOutcomeUnknown, http.StatusServiceUnavailable, "outcome_unknown"},
	{store.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{errUploadsBusy, http.StatusServiceUnavailable, "uploads_busy"},
}

type errorKind struct {
	err    error
	status int
	code   string
}

// internalError is the kind of an error of no known kind.
var internalError = errorKind{nil, http.StatusInternalServerError, "internal"}

// kindOf returns err's kind, or internalError.
func kindOf(err error) errorKind {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k
		}
	}
	return internalError
}

// fixedMessages are the answers of kinds whose error text is for the
// operator (paths, the system's words): it goes to the log, and the caller
// reads this instead.
var fixedMessages = map[string]struct{ answer, log string }{
	"unavailable": {
		answer: "the CA cannot reach its database; nothing was changed, try again later",
		log:    "store unavailable",
	},
	"outcome_unknown": {
		answer: "the CA lost its database connection while saving this change and cannot tell whether it was saved; " +
			"send the call again with the same Idempotency-Key to learn the outcome (the lockbox CLI does so)",
		log: "store outcome unknown",
	},
	"storage_full": {
		answer: "the CA's recording storage is full, so nothing was stored; the bastion keeps the recording and uploads it again later (operator: free space in the CA's recordings directory or bucket; the CA's log has the detail)",
		log:    "recording storage full: nothing was stored; free space in the recordings directory or bucket (the bastion retries)",
	},
	"storage_unavailable": {
		answer: "the CA cannot reach its recording storage, or the storage refused; nothing was stored or read. A bastion keeps the recording and uploads it again later (operator: the CA's log has the detail)",
		log:    "recording storage unavailable: nothing was stored or read; check the object store and its credentials (the bastion retries)",
	},
	"recording_mismatch": {
		answer: "the stored recording does not match the size and SHA-256 recorded when it was uploaded, so it is not served; this is audited (operator: the CA's log has the detail)",
		log:    "recording read back does not match what was stored",
	},
}

// errorAnswer is the answer to a refusal of a known kind, for keeping
// (see idempotency.go): refusals that commit are always of a known kind.
func errorAnswer(err error) (int, wire.Error) {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			countRefusal(k.code)
			return k.status, wire.Error{Error: wire.ErrorBody{Code: k.code, Message: err.Error()}}
		}
	}
	countRefusal(internalError.code)
	return http.StatusInternalServerError, wire.Error{Error: wire.ErrorBody{Code: "internal", Message: "internal error; see the CA's log"}}
}

// subjectAttrs names the request or session a call is about, for its log
// lines: "request", ID for /v1/requests/{id}/..., "session", ID for
// /v1/sessions/{id}/....
func subjectAttrs(r *http.Request) []any {
	id := r.PathValue("id")
	switch {
	case id == "":
		return nil
	case strings.HasPrefix(r.URL.Path, "/v1/requests/"):
		return []any{"request", id}
	case strings.HasPrefix(r.URL.Path, "/v1/sessions/"):
		return []any{"session", id}
	}
	return nil
}

// unsignedRefusals is the refusal counter of unsignedCode, looked up once.
var unsignedRefusals = metrics.Refusals.WithLabelValues(unsignedCode)

// countRefusal counts an error answer by its code, and a refused session
// start (or login check) as a lease conflict.
func countRefusal(code string) {
	metrics.Refusals.WithLabelValues(code).Inc()
	if code == "session_active" {
		metrics.LeaseConflicts.Inc()
	}
}

// writeError answers with err's kind. Errors of no known kind are
// internal: logged in full, and answered without detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, workflow.ErrReplay) {
		// The call's nonce was spent by another call (authSpending): the
		// spendingWriter answers with the replay refusal, counted and
		// logged as refuseAuth does, at the first byte of any answer.
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			countRefusal(k.code)
			msg := err.Error()
			if fixed, ok := fixedMessages[k.code]; ok {
				s.log.Error(fixed.log, append([]any{"code", k.code, "method", r.Method, "path", r.URL.Path, "err", err}, subjectAttrs(r)...)...)
				msg = fixed.answer
			} else if k.status != http.StatusUnauthorized && k.status != http.StatusTooManyRequests {
				// Refusals of people the CA knows; anonymous ones are
				// logged per source per interval (auth.go).
				s.log.Info("call refused", append([]any{"code", k.code, "method", r.Method, "path", r.URL.Path, "err", err}, subjectAttrs(r)...)...)
			}
			writeJSON(w, k.status, wire.Error{Error: wire.ErrorBody{Code: k.code, Message: msg}})
			return
		}
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	countRefusal(internalError.code)
	s.log.Error("internal error", append([]any{"method", r.Method, "path", r.URL.Path, "err", err}, subjectAttrs(r)...)...)
	writeJSON(w, http.StatusInternalServerError, wire.Error{Error: wire.ErrorBody{Code: "internal", Message: "internal error; see the CA's log"}})
}
