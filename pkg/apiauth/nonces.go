package apiauth

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// DefaultMaxNonces bounds MemoryNonces when Max is 0.
const DefaultMaxNonces = 1 << 20

// MemoryNonces is a NonceStore in memory, for tests and a single process. It
// forgets nonces once they expire. The zero value is ready to use; do not
// copy it after first use. Several CA replicas need a shared store instead.
type MemoryNonces struct {
	// Max is the most unexpired nonces held; 0 means DefaultMaxNonces. When
	// full, Use refuses with ErrNonceStoreFull rather than forget a nonce.
	Max int
	// Clock decides expiry; nil means time.Now.
	Clock func() time.Time

	mu       sync.Mutex
	used     map[string]time.Time
	byExpiry expiryHeap
}

// Use implements NonceStore.
func (m *MemoryNonces) Use(_ context.Context, principal, nonce string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(m.now())
	key := principal + "\x00" + nonce
	if _, ok := m.used[key]; ok {
		return ErrReplay
	}
	if len(m.used) >= m.max() {
		return ErrNonceStoreFull
	}
	if m.used == nil {
		m.used = make(map[string]time.Time)
	}
	m.used[key] = expires
	heap.Push(&m.byExpiry, nonceEntry{key: key, expires: expires})
	return nil
}

// Len returns the number of nonces held, expired or not.
func (m *MemoryNonces) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.used)
}

// prune forgets nonces that expired strictly before now; a nonce is kept
// through the instant it expires.
func (m *MemoryNonces) prune(now time.Time) {
	for len(m.byExpiry) > 0 && m.byExpiry[0].expires.Before(now) {
		e := heap.Pop(&m.byExpiry).(nonceEntry)
		delete(m.used, e.key)
	}
}

func (m *MemoryNonces) max() int {
	if m.Max <= 0 {
		return DefaultMaxNonces
	}
	return m.Max
}

func (m *MemoryNonces) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock()
}

type nonceEntry struct {
	key     string
	expires time.Time
}

// expiryHeap is a min-heap of nonces by expiry.
type expiryHeap []nonceEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nonceEntry{}
	*h = old[:len(old)-1]
	return e
}
