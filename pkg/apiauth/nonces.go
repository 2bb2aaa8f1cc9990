package apiauth

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// DefaultMaxPerPrincipal bounds each principal's nonces in MemoryNonces
// when MaxPerPrincipal is 0: 65,536 within the two-minute window is more
// than 500 calls a second from one principal.
const DefaultMaxPerPrincipal = 1 << 16

// MemoryNonces is a NonceStore in memory, for tests and a single process. It
// forgets nonces once they expire. The zero value is ready to use; do not
// copy it after first use. Several CA replicas need a shared store instead.
//
// Each principal has a cap of its own, so that one caller that fills its
// share makes only its own calls fail, never anyone else's. The Verifier
// spends a nonce only after the signature verified, so principals are
// registered ones and the memory held is at most MaxPerPrincipal for each.
type MemoryNonces struct {
	// MaxPerPrincipal is the most unexpired nonces held for one principal;
	// 0 means DefaultMaxPerPrincipal. When a principal's share is full, Use
	// refuses it with ErrNonceStoreFull rather than forget a nonce.
	MaxPerPrincipal int
	// Clock decides expiry; nil means time.Now.
	Clock func() time.Time

	mu       sync.Mutex
	used     map[string]time.Time
	held     map[string]int // unexpired nonces per principal
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
	if m.held[principal] >= m.max() {
		return ErrNonceStoreFull
	}
	if m.used == nil {
		m.used, m.held = make(map[string]time.Time), make(map[string]int)
	}
	m.used[key] = expires
	m.held[principal]++
	heap.Push(&m.byExpiry, nonceEntry{principal: principal, key: key, expires: expires})
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
		if m.held[e.principal]--; m.held[e.principal] <= 0 {
			delete(m.held, e.principal)
		}
	}
}

func (m *MemoryNonces) max() int {
	if m.MaxPerPrincipal <= 0 {
		return DefaultMaxPerPrincipal
	}
	return m.MaxPerPrincipal
}

func (m *MemoryNonces) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock()
}

type nonceEntry struct {
	principal string
	key       string
	expires   time.Time
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
