package workflow

import (
	"slices"
	"sync"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Grant hints spare an issuance its read transaction: the grant as the
// last issuance for it found it, under its row lock, kept in memory. A
// hint is only ever a guess: the certificate is built from it, and the
// transaction that records the certificate locks the grant's row and
// compares (sameGrant); a grant that changed in anything the certificate
// or the policy's recheck depends on, or that is no longer live, makes
// the issuance start again from a fresh read (or be refused), never a
// certificate from the stale copy.

// maxGrantHints bounds the hints kept; past it they are all dropped.
const maxGrantHints = 4096

type grantHints struct {
	mu sync.Mutex
	m  map[string]*store.Request
}

func (h *grantHints) get(id string) *store.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[id]
}

func (h *grantHints) put(r *store.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxGrantHints {
		h.m = map[string]*store.Request{}
	}
	h.m[r.ID] = r
}

func (h *grantHints) drop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, id)
}

// sameGrant reports whether the locked row b is the grant a, as far as a
// certificate built from a and the policy's recheck of a are concerned.
func sameGrant(a, b *store.Request) bool {
	return a.ID == b.ID && a.User == b.User && a.Role == b.Role && slices.Equal(a.Resources, b.Resources) &&
		a.State == b.State && a.NotBefore.Equal(b.NotBefore) && a.NotAfter.Equal(b.NotAfter) &&
		a.Reason == b.Reason && a.Ticket == b.Ticket && a.Duration == b.Duration
}
