package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var errCanceled = context.Canceled

// errorKinds maps the workflow's and policy's named refusals to a status;
// their messages are written for people and are shown as they are. The
// first match wins.
var errorKinds = []struct {
	err    error
	status int
}{
	{policy.ErrSelfApproval, http.StatusForbidden},
	{policy.ErrNotApprover, http.StatusForbidden},
	// A request that no longer fits the current policy, or would start a
	// grant over the user's limit: the approval conflicts with the policy.
	{policy.ErrTooManyActive, http.StatusConflict},
	{policy.ErrOutOfScope, http.StatusConflict},
	{policy.ErrUnknownUser, http.StatusConflict},
	{policy.ErrUnknownRole, http.StatusConflict},
	{policy.ErrUnknownResource, http.StatusConflict},
	{policy.ErrOverMaxDuration, http.StatusConflict},
	{policy.ErrTicketRequired, http.StatusConflict},
	{workflow.ErrForbidden, http.StatusForbidden},
	{workflow.ErrBadInput, http.StatusBadRequest},
	{workflow.ErrNotFound, http.StatusNotFound},
	{workflow.ErrNoSession, http.StatusNotFound},
	{workflow.ErrNoRecording, http.StatusNotFound},
	{workflow.ErrNotPending, http.StatusConflict},
	{workflow.ErrPendingExpired, http.StatusConflict},
	{workflow.ErrAlreadyApproved, http.StatusConflict},
	{workflow.ErrNotLive, http.StatusConflict},
	{workflow.ErrGrantDuration, http.StatusBadRequest},
	{workflow.ErrStepUpRequired, http.StatusForbidden},
	{workflow.ErrMFACode, http.StatusForbidden},
	{workflow.ErrMFANotEnrolled, http.StatusConflict},
	{workflow.ErrThrottled, http.StatusTooManyRequests},
	{workflow.ErrLoginFailed, http.StatusUnauthorized},
	{workflow.ErrDeactivated, http.StatusForbidden},
	{store.ErrConflict, http.StatusConflict},
}

// describe returns the status and the message a person sees for err.
func describe(err error) (int, string) {
	switch {
	case errors.Is(err, policy.ErrSelfApproval):
		return http.StatusForbidden, "You cannot approve your own request: someone else must."
	case errors.Is(err, store.ErrUnavailable):
		return http.StatusServiceUnavailable, "The CA cannot reach its database; nothing was changed. Try again later."
	case errors.Is(err, workflow.ErrStorageUnavailable):
		return http.StatusServiceUnavailable, "The CA cannot reach its recording storage. Try again later."
	case errors.Is(err, workflow.ErrRecordingMismatch):
		return http.StatusInternalServerError, "This recording does not match the one stored when the session ended, so it is not shown. This was audited."
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.status, clean(capitalize(err.Error()))
		}
	}
	return http.StatusInternalServerError, "Something went wrong on the CA; the error is in its log."
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
