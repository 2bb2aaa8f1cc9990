package route

import (
	"sync/atomic"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// Live routes by whatever policy a policy.Holder holds now, so a reload
// changes routing from the next message on. It makes the Router of a
// policy once, when it first sees that policy.
type Live struct {
	holder *policy.Holder
	cur    atomic.Pointer[Router]
}

var _ notify.Router = (*Live)(nil)

// NewLive returns a router that follows h.
func NewLive(h *policy.Holder) *Live { return &Live{holder: h} }

// Route routes m by the current policy; with no policy (a Holder that
// never loaded one) it routes nothing.
func (l *Live) Route(m *notify.Message) []notify.Target {
	p := l.holder.Get()
	if p == nil {
		return nil
	}
	r := l.cur.Load()
	if r == nil || r.pol != p {
		r = New(p)
		l.cur.Store(r)
	}
	return r.Route(m)
}
