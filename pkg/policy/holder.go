package policy

import (
	"fmt"
	"sync/atomic"
)

// Holder keeps the current policy for concurrent readers. A reload that
// fails keeps the policy in place, so a bad edit never replaces a good
// policy.
type Holder struct {
	p atomic.Pointer[Policy]
}

// NewHolder returns a Holder holding p. If p is nil, Get returns nil until
// a reload succeeds, and callers must then refuse every decision.
func NewHolder(p *Policy) *Holder {
	h := &Holder{}
	h.p.Store(p)
	return h
}

// Get returns the current policy. Callers should call Get once per decision
// and use that value throughout, so one decision never mixes two policies.
func (h *Holder) Get() *Policy { return h.p.Load() }

// Set replaces the current policy with p, which must not be nil.
func (h *Holder) Set(p *Policy) {
	if p == nil {
		panic("policy: Holder.Set(nil)")
	}
	h.p.Store(p)
}

// ReloadDir loads the policy in dir and makes it current. On failure the
// current policy stays and the error says why the new one was refused.
func (h *Holder) ReloadDir(dir string) error {
	p, err := LoadDir(dir)
	if err != nil {
		return fmt.Errorf("policy not reloaded, keeping the current one: %w", err)
	}
	h.p.Store(p)
	return nil
}
