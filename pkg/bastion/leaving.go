package bastion

import (
	"context"
	"sync"
)

// leaving counts, per user, the sessions on this bastion whose client has
// gone but whose end the CA may not have recorded yet. A new login of the
// same user waits for them (bounded) before it asks the CA, so that a
// login right after an aborted one (the client gave up while its session
// was still being opened) does not find the old lease still held.
type leaving struct {
	mu      sync.Mutex
	n       map[string]int
	changed chan struct{}
}

func (l *leaving) add(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
		l.changed = make(chan struct{})
	}
	l.n[user]++
}

func (l *leaving) done(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[user]--; l.n[user] <= 0 {
		delete(l.n, user)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait returns once no session of user is leaving, or when ctx ends.
func (l *leaving) wait(ctx context.Context, user string) {
	for {
		l.mu.Lock()
		if l.n[user] == 0 {
			l.mu.Unlock()
			return
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}
