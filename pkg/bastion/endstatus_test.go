package bastion

import (
	"errors"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Every way the bastion ends a session carries the exit status docs/bastion.md
// promises; a client that went away gets none.
func TestEndCausesCarryTheirExitStatus(t *testing.T) {
	for _, tc := range []struct {
		cause error
		want  int
	}{
		{endIdle(time.Minute), 200},
		{endCapped(time.Hour), 201},
		{endGrantEnded(time.Now()), 202},
		{endByCA(wire.EndedExpired, "grant ended at …"), 202},
		{endByCA(wire.EndedRevoked, "grant revoked by erin: x"), 203},
		{endWith(exitRecording, "the recording failed"), 204},
		{endShutdown("the bastion is shutting down"), 205},
		{endByCA(wire.EndedLost, "session lease lost"), 206},
		{endByCA("", "unknown session"), 206},
	} {
		if got, ok := statusOf(tc.cause); !ok || got != tc.want {
			t.Errorf("%q: status %d %v, want %d", tc.cause, got, ok, tc.want)
		}
	}
	if _, ok := statusOf(errors.New(reasonClientGone)); ok {
		t.Error("a client that went away is given a status")
	}
}
