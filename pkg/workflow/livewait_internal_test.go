package workflow

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// endsLive answers how far the output goes with end (or fails), and
// counts the looks.
type endsLive struct {
	end   atomic.Int64
	fail  atomic.Bool
	looks atomic.Int64
}

func (l *endsLive) LiveEnd(context.Context, string) (int64, error) {
	l.looks.Add(1)
	if l.fail.Load() {
		return 0, errors.New("the store is away")
	}
	return l.end.Load(), nil
}

// waiting waits until n reads wait on session id.
func (l *liveWaits) waiting(t *testing.T, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		sw := l.sessions[id]
		got := sw != nil && sw.waiters == n && sw.end >= 0
		l.mu.Unlock()
		if got {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reads are not waiting on %s", n, id)
		}
		time.Sleep(time.Millisecond) // polling for a state, not standing in for it
	}
}

// Ten reads waiting on one session share its looks at the store, and a
// report to this replica wakes them all at once.
func TestWaitingReadsShareOneLook(t *testing.T) {
	live := &endsLive{}
	live.end.Store(17)
	l := &liveWaits{}
	never := make(chan time.Time)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); l.wait(context.Background(), "sess-a", 17, never, live.LiveEnd) }()
	}
	l.waiting(t, "sess-a", 10)
	live.end.Store(4096)
	before := live.looks.Load()
	l.reported([]string{"sess-a"})
	wg.Wait() // every read woke, with no deadline
	// One look per poll for all ten (the ten would have made ten each).
	if looks := live.looks.Load(); looks >= 10 || looks-before < 1 {
		t.Fatalf("%d looks at the store for ten waiting reads", looks)
	}
}

// A read waits only while the output is not past what it read; a failed
// look wakes it (its next read reports the failure); a deadline ends the
// wait.
func TestWaitEndsOnOutputFailureOrDeadline(t *testing.T) {
	live := &endsLive{}
	live.end.Store(30)
	l := &liveWaits{}
	never := make(chan time.Time)
	l.wait(context.Background(), "sess-b", 29, never, live.LiveEnd) // output past 29 already: returns

	done := make(chan struct{})
	go func() { l.wait(context.Background(), "sess-b", 30, never, live.LiveEnd); close(done) }()
	l.waiting(t, "sess-b", 1)
	live.fail.Store(true)
	l.reported([]string{"sess-b"})
	<-done

	live.fail.Store(false)
	deadline := make(chan time.Time, 1)
	deadline <- time.Now()
	l.wait(context.Background(), "sess-b", 30, deadline, live.LiveEnd)
}
