// Package penalty keeps per-source penalties for callers nobody
// authenticated, as OpenSSH's PerSourcePenalties does for sshd: a source
// (an IPv4 /32 or IPv6 /64 by default) whose anonymous refusals exceed a
// budget in an interval is penalised for a while, and its owner refuses
// the source's new connections at accept, before any work is done for
// them.
//
// A Table holds at most a fixed number of sources, counted and
// penalised together; what happens when it is full is the Overflow
// setting. Exempt sources (bastions, the CA's replicas, an office's NAT)
// are never counted: those listed in the Config, and those its
// ExemptFunc exempts at the time. Nothing here knows HTTP, the audit log
// or metrics: the caller records what the Verdicts say.
package penalty

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Config's zero fields.
const (
	// DefaultBudget: a source may be refused this many times an Interval
	// without authenticating; the next refusal starts its penalty. A
	// person with a wrong key or clock retries a few times a minute; a
	// flood sends thousands.
	DefaultBudget   = 100
	DefaultInterval = time.Minute
	// DefaultDuration is how long a penalty lasts: long enough that a
	// flood costs a fraction of what it did, short enough that a person
	// behind the same address is locked out briefly.
	DefaultDuration = 30 * time.Second
	// DefaultMaxSources bounds the table (at most a few MiB), as sshd's
	// max-sources4 and max-sources6 do.
	DefaultMaxSources = 65536
	DefaultIPv4Prefix = 32
	DefaultIPv6Prefix = 64
)

// Overflow says what a full table does with a source it cannot count.
type Overflow int

const (
	// Permissive (the default): a source the full table cannot count is
	// not counted, and so not penalised; it is refused call by call, as
	// without penalties. Sources already in the table keep their
	// penalties.
	Permissive Overflow = iota
	// DenyAll: a full table that cannot count a new source refuses the
	// new connections of every source not exempt for Duration. An
	// attacker with enough addresses turns this into an outage for
	// everyone not exempt.
	DenyAll
)

// ParseOverflow reads "permissive" or "deny-all".
func ParseOverflow(s string) (Overflow, error) {
	switch s {
	case "permissive":
		return Permissive, nil
	case "deny-all":
		return DenyAll, nil
	}
	return 0, fmt.Errorf("penalty overflow %q: want permissive or deny-all", s)
}

func (o Overflow) String() string {
	if o == DenyAll {
		return "deny-all"
	}
	return "permissive"
}

// Config is a Table's settings; zero fields take the defaults above.
type Config struct {
	Budget     int
	Interval   time.Duration
	Duration   time.Duration
	MaxSources int
	// IPv4Prefix and IPv6Prefix: how many leading bits of an address
	// name its source (an IPv6 host usually has a whole /64).
	IPv4Prefix, IPv6Prefix int
	// Exempt sources are never counted or penalised.
	Exempt []netip.Prefix
	// ExemptFunc, if set, is asked too, each time an address outside
	// Exempt is counted or checked, so that what it exempts may change
	// while the table lives (the bastions of a policy reloaded). It is
	// called for every anonymous refusal and, while a penalty is in
	// force, for every new connection: it must be cheap and safe for
	// concurrent use. It gets the address unmapped (::ffff:192.0.2.7 as
	// 192.0.2.7).
	ExemptFunc func(netip.Addr) bool
	Overflow   Overflow
	Clock      func() time.Time
}

// Verdict is what one anonymous refusal did to its source.
type Verdict struct {
	// Penalised: the source is penalised now; its connection should be
	// closed after this answer.
	Penalised bool
	// Started: this refusal started the penalty (once per penalty).
	Started bool
	// Full: the table was full and could not count the source (see
	// Overflow).
	Full bool
	// Source is the penalised prefix, for the log ("192.0.2.7/32").
	Source netip.Prefix
}

// entry is one source's count in its current interval and its penalty.
type entry struct {
	since time.Time // the interval's start
	n     int
	until time.Time // penalised until; zero: not penalised
}

// Table counts anonymous refusals per source and keeps their penalties.
// It is safe for concurrent use. The zero value is not usable; call New.
type Table struct {
	cfg      Config
	sweepGap time.Duration

	mu      sync.Mutex
	sources map[netip.Prefix]*entry
	swept   time.Time // the last sweep for room
	denyAll time.Time // with DenyAll: every source refused until then

	// lastEnd is when the last penalty now known ends (Unix ns): after
	// it, Penalised answers false without taking the lock, which is what
	// every connection of a CA under no flood costs.
	lastEnd atomic.Int64
}

// New checks cfg, fills its defaults and returns an empty Table.
func New(cfg Config) (*Table, error) {
	if cfg.Budget == 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.MaxSources == 0 {
		cfg.MaxSources = DefaultMaxSources
	}
	if cfg.IPv4Prefix == 0 {
		cfg.IPv4Prefix = DefaultIPv4Prefix
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = DefaultIPv6Prefix
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	switch {
	case cfg.Budget < 0 || cfg.Interval < 0 || cfg.Duration < 0 || cfg.MaxSources < 0:
		return nil, errors.New("penalty: budget, interval, duration and max sources must be positive")
	case cfg.IPv4Prefix < 1 || cfg.IPv4Prefix > 32:
		return nil, fmt.Errorf("penalty: IPv4 prefix /%d: want 1 to 32", cfg.IPv4Prefix)
	case cfg.IPv6Prefix < 1 || cfg.IPv6Prefix > 128:
		return nil, fmt.Errorf("penalty: IPv6 prefix /%d: want 1 to 128", cfg.IPv6Prefix)
	case cfg.Overflow != Permissive && cfg.Overflow != DenyAll:
		return nil, fmt.Errorf("penalty: unknown overflow %d", cfg.Overflow)
	}
	exempt := make([]netip.Prefix, len(cfg.Exempt))
	for i, p := range cfg.Exempt {
		if !p.IsValid() {
			return nil, fmt.Errorf("penalty: exempt entry %d is not a valid prefix", i)
		}
		exempt[i] = p.Masked()
	}
	cfg.Exempt = exempt
	return &Table{cfg: cfg, sweepGap: min(time.Second, cfg.Interval, cfg.Duration), sources: map[netip.Prefix]*entry{}}, nil
}

// Config is the table's configuration, defaults filled in.
func (t *Table) Config() Config { return t.cfg }

// Exempt reports whether addr is in the exempt list or ExemptFunc
// exempts it.
func (t *Table) Exempt(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range t.cfg.Exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return t.cfg.ExemptFunc != nil && t.cfg.ExemptFunc(addr)
}

// sourceOf is the prefix addr is counted under.
func (t *Table) sourceOf(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := t.cfg.IPv6Prefix
	if addr.Is4() {
		bits = t.cfg.IPv4Prefix
	}
	p, _ := addr.Prefix(bits) // bits is within the address's length (New)
	return p
}

// Penalised reports whether new connections from addr are to be refused
// now. It is called for every accepted connection and costs one atomic
// load while no penalty is in force.
func (t *Table) Penalised(addr netip.Addr) bool {
	now := t.cfg.Clock()
	if now.UnixNano() >= t.lastEnd.Load() || !addr.IsValid() || t.Exempt(addr) {
		return false
	}
	src := t.sourceOf(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Before(t.denyAll) {
		return true
	}
	e := t.sources[src]
	return e != nil && now.Before(e.until)
}

// InForce reports whether a penalty may be in force now: false once the
// last penalty known has ended. It costs one atomic load and a reading of
// the clock.
func (t *Table) InForce() bool {
	return t.cfg.Clock().UnixNano() < t.lastEnd.Load()
}

// Refused counts one anonymous refusal of a call from addr and says
// whether its source is (now) penalised.
func (t *Table) Refused(addr netip.Addr) Verdict {
	if !addr.IsValid() || t.Exempt(addr) {
		return Verdict{}
	}
	now := t.cfg.Clock()
	src := t.sourceOf(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sources[src]
	if e == nil {
		if len(t.sources) >= t.cfg.MaxSources {
			t.sweep(now)
		}
		if len(t.sources) >= t.cfg.MaxSources {
			return t.overflow(now, src)
		}
		e = &entry{since: now}
		t.sources[src] = e
	}
	if now.Before(e.until) {
		return Verdict{Penalised: true, Source: src}
	}
	if now.Sub(e.since) >= t.cfg.Interval || !e.until.IsZero() {
		*e = entry{since: now} // a new interval, or the first refusal after a penalty
	}
	e.n++
	if e.n <= t.cfg.Budget {
		return Verdict{Penalised: now.Before(t.denyAll), Source: src}
	}
	e.until = now.Add(t.cfg.Duration)
	t.ends(e.until)
	return Verdict{Penalised: true, Started: true, Source: src}
}

// overflow is Refused's answer for a source the full table cannot count.
func (t *Table) overflow(now time.Time, src netip.Prefix) Verdict {
	if t.cfg.Overflow != DenyAll {
		return Verdict{Full: true, Source: src}
	}
	started := !now.Before(t.denyAll)
	if started {
		t.denyAll = now.Add(t.cfg.Duration)
		t.ends(t.denyAll)
	}
	return Verdict{Penalised: true, Started: started, Full: true, Source: src}
}

// ends makes sure Penalised looks until end. t.mu is held.
func (t *Table) ends(end time.Time) {
	if n := end.UnixNano(); n > t.lastEnd.Load() {
		t.lastEnd.Store(n)
	}
}

// sweep drops the sources whose interval and penalty are both over, at
// most once every sweepGap: a full table of live sources is not walked at
// every refusal. t.mu is held.
func (t *Table) sweep(now time.Time) {
	if now.Sub(t.swept) < t.sweepGap {
		return
	}
	t.swept = now
	for src, e := range t.sources {
		if now.Sub(e.since) >= t.cfg.Interval && !now.Before(e.until) {
			delete(t.sources, src)
		}
	}
}

// Len is the number of sources the table holds.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sources)
}
