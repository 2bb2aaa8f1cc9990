// Package penaltytest gives the tests of the packages that feed a
// per-source penalty table (pkg/web, pkg/scim) what cmd/ca gives them
// in production: a Penalise backed by a pkg/penalty Table, and a
// listener that closes a penalised source's connections at accept, as
// the API server's Guard does.
package penaltytest

import (
	"maps"
	"net"
	"net/netip"
	"sync"

	"github.com/lockbox-ssh/lockbox/pkg/penalty"
)

// Recorder counts refusals in a penalty table and keeps the sources they
// named.
type Recorder struct {
	t       *penalty.Table
	mu      sync.Mutex
	sources map[string]int
}

// NewRecorder counts refusals in t.
func NewRecorder(t *penalty.Table) *Recorder {
	return &Recorder{t: t, sources: map[string]int{}}
}

// Penalise counts a refusal of addr, named source, and reports whether
// addr is penalised now.
func (p *Recorder) Penalise(addr netip.Addr, source string) bool {
	p.mu.Lock()
	p.sources[source]++
	p.mu.Unlock()
	return p.t.Refused(addr).Penalised
}

// Sources is how many refusals each source name was counted under.
func (p *Recorder) Sources() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.sources)
}

// Listener closes the connections of t's penalised sources at accept.
type Listener struct {
	net.Listener
	T *penalty.Table
}

// Accept returns the next connection of a source that is not penalised.
func (l Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return c, err
		}
		ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		if !l.T.Penalised(ap.Addr().Unmap()) {
			return c, nil
		}
		c.Close()
	}
}
