package bastion

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestEndClassNamesTheKindOfEndNeverItsText(t *testing.T) {
	for _, tc := range []struct {
		out  outcome
		want string
	}{
		{ended(reasonClientGone), "client_gone"},
		{ended("logged out"), "logout"},
		{outcome{reason: "exited with status 3", status: intp(3)}, "logout"}, // the target's own status, passed on
		{endedWith("idle for 15m0s", exitIdle), "idle"},
		{endedWith("session cap of 24h0m0s reached", exitCap), "cap"},
		{endedWith("the grant ended at 2026-12-02T03:00:00Z", exitGrantEnded), "grant_ended"},
		{endedWith("grant revoked by erin: incident over", exitRevoked), "revoked"},
		{endedWith("the recording failed", exitRecording), "recording_failed"},
		{endedWith("the bastion shut down after a drain of 5m0s", exitShutdown), "shutdown"},
		{endedWith("session lease lost", exitEndedByCA), "ended_by_ca"},
		{endedWith("cannot reach db-1", exitNotOpened), "not_opened"},
	} {
		if got := endClass(tc.out); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.out.reason, got, tc.want)
		}
	}
}

func TestRegistryTellsEveryOpenSessionAndWaitsUntilNoneIsOpen(t *testing.T) {
	r := newRegistry()
	var mu sync.Mutex
	told := map[string]string{}
	heard := make(chan struct{}, 2)
	for _, id := range []string{"a", "b"} {
		_, cancel := context.WithCancelCause(context.Background())
		r.add(id, cancel, func(msg string) {
			mu.Lock()
			told[id] = msg
			mu.Unlock()
			heard <- struct{}{}
		})
	}
	r.tellAll("shutting down")
	for range 2 {
		select {
		case <-heard:
		case <-time.After(10 * time.Second):
			t.Fatal("a session was not told")
		}
	}
	if told["a"] != "shutting down" || told["b"] != "shutting down" {
		t.Fatalf("told %v", told)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if r.waitEmpty(short) {
		t.Fatal("waitEmpty reported none open while two are")
	}
	done := make(chan bool, 1)
	go func() { done <- r.waitEmpty(context.Background()) }()
	r.remove("a")
	select {
	case <-done:
		t.Fatal("waitEmpty returned with one session still open")
	case <-time.After(100 * time.Millisecond):
	}
	r.remove("b")
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("waitEmpty: false after the last session ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitEmpty did not return once none was open")
	}
}
