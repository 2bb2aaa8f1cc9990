package bastion

import (
	"sync"
	"time"
)

// mfaMemory remembers, for Config.MFARemember, that a user passed the
// second factor with a given certificate from a given address, so that
// logins in quick succession (scripts, scp-like tools, a reconnect) do not
// each need a new code. Off (zero) by default: every login asks.
type mfaMemory struct {
	mu    sync.Mutex
	until map[mfaKey]time.Time
}

type mfaKey struct {
	user   string
	serial uint64
	addr   string
}

func (m *mfaMemory) remember(k mfaKey, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.until == nil {
		m.until = map[mfaKey]time.Time{}
	}
	m.until[k] = until
}

func (m *mfaMemory) recall(k mfaKey, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, t := range m.until { // prune as we go; the map stays small
		if !now.Before(t) {
			delete(m.until, key)
		}
	}
	_, ok := m.until[k]
	return ok
}
