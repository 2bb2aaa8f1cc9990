package route

import (
	"sync"
	"sync/atomic"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
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

// LiveChannels finds an endpoint's channel in whatever policy a
// policy.Holder holds now, building the channels of a policy once, when it
// first sees that policy. An endpoint whose channel cannot be built (a
// secret file removed since the load checked it) is missing: the outbox
// keeps its messages and retries them until a reload fixes it or they die.
type LiveChannels struct {
	holder *policy.Holder
	opts   Options

	mu    sync.Mutex
	pol   *policy.Policy
	chans map[string]channel.Channel
}

// NewLiveChannels returns channels that follow h.
func NewLiveChannels(h *policy.Holder, o Options) *LiveChannels {
	return &LiveChannels{holder: h, opts: o}
}

// Channel returns the channel of the endpoint called name in the current
// policy.
func (l *LiveChannels) Channel(name string) (channel.Channel, bool) {
	p := l.holder.Get()
	if p == nil {
		return nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pol != p {
		l.pol, l.chans = p, map[string]channel.Channel{}
		for _, e := range p.Notifications.Endpoints {
			if c, err := build(e, l.opts); err == nil {
				l.chans[e.Name] = c
			}
		}
	}
	c, ok := l.chans[name]
	return c, ok
}
