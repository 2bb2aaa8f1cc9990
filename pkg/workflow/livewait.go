package workflow

import (
	"context"
	"sync"
	"time"
)

// livePoll is how often a replica looks in the store for output of a
// session with waiting reads, which any replica's bastion report may have
// added (one look per session, for all its waiting reads); liveLook
// bounds one look.
const (
	livePoll = 50 * time.Millisecond
	liveLook = 5 * time.Second
)

// liveWaits lets every read of a session waiting on this replica share
// one look at the store: one goroutine per session with waiting reads
// asks how far its output goes (one row) every livePoll, and wakes them
// all when it moves, so that ten watchers cost the store what one does.
// A report this replica takes in wakes its sessions' waiting reads at
// once; a report to another replica is seen at the next look (the rows
// are shared, no sticky routing needed).
type liveWaits struct {
	mu       sync.Mutex
	sessions map[string]*sessionWait
}

// sessionWait is one session's waiting reads and what they wait on.
type sessionWait struct {
	waiters int
	end     int64         // how far the output went at the last look; -1 before the first
	moved   chan struct{} // closed (and replaced) when end moves or a look fails
	poke    chan struct{} // look now
}

// wait returns once session id's output goes past after (or a look at
// the store failed: the read after it will tell), or at deadline or
// ctx's end. look tells how far a session's output goes (Service.LiveEnd).
func (l *liveWaits) wait(ctx context.Context, id string, after int64, deadline <-chan time.Time, look func(context.Context, string) (int64, error)) {
	l.mu.Lock()
	if l.sessions == nil {
		l.sessions = map[string]*sessionWait{}
	}
	sw := l.sessions[id]
	if sw == nil {
		sw = &sessionWait{end: -1, moved: make(chan struct{}), poke: make(chan struct{}, 1)}
		l.sessions[id] = sw
		go l.look(id, sw, look)
	}
	sw.waiters++
	defer func() {
		l.mu.Lock()
		sw.waiters--
		l.mu.Unlock()
	}()
	for sw.end <= after {
		moved := sw.moved
		l.mu.Unlock()
		select {
		case <-moved:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
		l.mu.Lock()
		if sw.end < 0 { // a look failed
			break
		}
	}
	l.mu.Unlock()
}

// reported wakes the waiting reads of sessions a bastion just reported
// to this replica: their look is made now.
func (l *liveWaits) reported(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if sw := l.sessions[id]; sw != nil {
			select {
			case sw.poke <- struct{}{}:
			default:
			}
		}
	}
}

// look is session id's goroutine while reads wait on it: it looks at
// once, then every livePoll or when poked, and ends with the last
// waiting read.
func (l *liveWaits) look(id string, sw *sessionWait, look func(context.Context, string) (int64, error)) {
	tick := time.NewTicker(livePoll)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), liveLook)
		end, err := look(ctx, id)
		cancel()
		l.mu.Lock()
		if err != nil {
			end = -1
		}
		if end != sw.end || err != nil {
			sw.end = end
			close(sw.moved)
			sw.moved = make(chan struct{})
		}
		if sw.waiters == 0 {
			delete(l.sessions, id)
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		select {
		case <-tick.C:
		case <-sw.poke:
		}
	}
}

// ReadLiveWaiting is ReadLive, except that a read that finds nothing new
// waits up to wait for output past it and reads again: until this
// replica sees the session's output move (or a look at the store fails:
// the second read tells), or ctx ends. Every read waiting on a session
// shares one look at the store every livePoll, and a report to this
// replica wakes them at once.
func (s *Service) ReadLiveWaiting(ctx context.Context, actor Actor, id, wid string, after int64, wait time.Duration) (*LiveRead, error) {
	out, err := s.ReadLive(ctx, actor, id, wid, after)
	if err != nil || len(out.Data) > 0 || out.Skipped > 0 || out.Ended || wait <= 0 {
		return out, err
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	s.waits.wait(ctx, id, out.Next, deadline.C, s.LiveEnd)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.ReadLive(ctx, actor, id, wid, out.Next)
}
