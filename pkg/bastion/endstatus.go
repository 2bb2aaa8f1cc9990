package bastion

import (
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Exit statuses the bastion gives the client when it ends a session
// itself, so that a script can tell a revocation from a network failure
// (ssh exits 255 when the connection fails, or when a session ends with no
// status at all). They sit above the shells' 128+signal range and below
// ssh's own 255. A session the target ended passes on the target's status.
const (
	exitNotOpened      = 1   // refused or could not be opened: nothing ran
	exitIdle           = 200 // no client input for idle_timeout
	exitCap            = 201 // session_cap reached
	exitGrantEnded     = 202 // the grant's window ended
	exitRevoked        = 203 // the grant was revoked
	exitRecording      = 204 // the recording could not be written (fail closed)
	exitShutdown       = 205 // the bastion shut down
	exitEndedByCA      = 206 // the CA ended it otherwise: lease lost, session unknown
	exitEndedByWatcher = 207 // someone watching it live ended it
)

// endCause is why the bastion ends a session: the message the user reads
// and the exit status the client gets. Sessions' contexts are cancelled
// with one.
type endCause struct {
	msg    string
	status int
}

func (e *endCause) Error() string { return e.msg }

func endWith(status int, format string, args ...any) error {
	return &endCause{msg: fmt.Sprintf(format, args...), status: status}
}

func endIdle(d time.Duration) error { return endWith(exitIdle, "idle for %v", d) }
func endCapped(d time.Duration) error {
	return endWith(exitCap, "session cap of %v reached", d)
}
func endGrantEnded(at time.Time) error {
	return endWith(exitGrantEnded, "the grant ended at %s", at.UTC().Format(time.RFC3339))
}
func endShutdown(reason string) error { return endWith(exitShutdown, "%s", reason) }

// endByCA is the cause for a heartbeat's "not live" answer.
func endByCA(ended, reason string) error {
	switch ended {
	case wire.EndedRevoked:
		return endWith(exitRevoked, "%s", reason)
	case wire.EndedExpired:
		return endWith(exitGrantEnded, "%s", reason)
	}
	return endWith(exitEndedByCA, "%s", reason)
}

// endClass is the metrics label of an outcome: the class of its exit
// status, never the reason's text (it names people).
func endClass(out outcome) string {
	if out.reason == reasonClientGone {
		return "client_gone"
	}
	if !out.send || out.status == nil {
		return "logout" // the target ended it (the user logged out, the command ended)
	}
	switch *out.status {
	case exitNotOpened:
		return "not_opened"
	case exitIdle:
		return "idle"
	case exitCap:
		return "cap"
	case exitGrantEnded:
		return "grant_ended"
	case exitRevoked:
		return "revoked"
	case exitRecording:
		return "recording_failed"
	case exitShutdown:
		return "shutdown"
	}
	return "ended_by_ca"
}

// statusOf is the exit status for a cause, and false for causes that give
// none (the client went away).
func statusOf(cause error) (int, bool) {
	var e *endCause
	if errors.As(cause, &e) {
		return e.status, true
	}
	return 0, false
}
