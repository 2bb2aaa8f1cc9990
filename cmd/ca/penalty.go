package main

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/penalty"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// penaltyConfig is the penalty key: per-source penalties for callers
// nobody authenticated (pkg/penalty), on unless enabled is false.
type penaltyConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Budget anonymous refusals a source may have an Interval; the next
	// one penalises it for Duration: its new connections are closed at
	// accept.
	Budget   int           `mapstructure:"budget"`
	Interval time.Duration `mapstructure:"interval"`
	Duration time.Duration `mapstructure:"duration"`
	// MaxSources bounds the table; Overflow ("permissive" or "deny-all")
	// is what a full table does with a source it cannot count.
	MaxSources int    `mapstructure:"max_sources"`
	Overflow   string `mapstructure:"overflow"`
	// IPv4Prefix and IPv6Prefix: how many leading bits of an address are
	// one source.
	IPv4Prefix int `mapstructure:"ipv4_prefix"`
	IPv6Prefix int `mapstructure:"ipv6_prefix"`
	// Exempt lists the CIDRs never counted or penalised, besides the
	// policy's bastions' egress addresses.
	Exempt []string `mapstructure:"exempt"`
}

func penaltyDefaults(set func(key string, value any)) {
	set("penalty.enabled", true)
	set("penalty.budget", penalty.DefaultBudget)
	set("penalty.interval", penalty.DefaultInterval)
	set("penalty.duration", penalty.DefaultDuration)
	set("penalty.max_sources", penalty.DefaultMaxSources)
	set("penalty.overflow", penalty.Permissive.String())
	set("penalty.ipv4_prefix", penalty.DefaultIPv4Prefix)
	set("penalty.ipv6_prefix", penalty.DefaultIPv6Prefix)
	set("penalty.exempt", []string{"127.0.0.1/32", "::1/128"})
}

// penaltyFlags maps configuration keys to their flags.
var penaltyFlags = map[string]string{
	"penalty.enabled": "penalty_enabled", "penalty.budget": "penalty_budget",
	"penalty.interval": "penalty_interval", "penalty.duration": "penalty_duration",
	"penalty.max_sources": "penalty_max_sources", "penalty.overflow": "penalty_overflow",
	"penalty.ipv4_prefix": "penalty_ipv4_prefix", "penalty.ipv6_prefix": "penalty_ipv6_prefix",
	"penalty.exempt": "penalty_exempt",
}

// settings checks c and returns the table's settings it names. Every
// key is checked, enabled or not: a mistake shows before it matters.
func (c penaltyConfig) settings() (penalty.Config, error) {
	var pc penalty.Config
	switch {
	case c.Budget <= 0:
		return pc, fmt.Errorf("penalty.budget must be positive")
	case c.Interval <= 0:
		return pc, fmt.Errorf("penalty.interval must be positive")
	case c.Duration <= 0:
		return pc, fmt.Errorf("penalty.duration must be positive")
	case c.MaxSources <= 0:
		return pc, fmt.Errorf("penalty.max_sources must be positive")
	case c.IPv4Prefix < 1 || c.IPv4Prefix > 32:
		return pc, fmt.Errorf("penalty.ipv4_prefix %d: want 1 to 32", c.IPv4Prefix)
	case c.IPv6Prefix < 1 || c.IPv6Prefix > 128:
		return pc, fmt.Errorf("penalty.ipv6_prefix %d: want 1 to 128", c.IPv6Prefix)
	}
	overflow, err := penalty.ParseOverflow(c.Overflow)
	if err != nil {
		return pc, fmt.Errorf("penalty.overflow %q: want permissive or deny-all", c.Overflow)
	}
	exempt := make([]netip.Prefix, 0, len(c.Exempt))
	for _, s := range c.Exempt {
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			return pc, fmt.Errorf("penalty.exempt %q: want a CIDR such as 10.0.0.0/8 or 2001:db8::/32 (a single address as /32 or /128)", s)
		case p != p.Masked():
			return pc, fmt.Errorf("penalty.exempt %q has host bits set: did you mean %s?", s, p.Masked())
		}
		exempt = append(exempt, p)
	}
	return penalty.Config{Budget: c.Budget, Interval: c.Interval, Duration: c.Duration, MaxSources: c.MaxSources,
		IPv4Prefix: c.IPv4Prefix, IPv6Prefix: c.IPv6Prefix, Exempt: exempt, Overflow: overflow}, nil
}

// penaltyTable is the CA's penalty table, or nil with penalties off. The
// policy's bastions are exempt as the policy stands at each refusal
// (bastionEgress), so a reload that adds or moves one takes effect at
// once.
func penaltyTable(c penaltyConfig, h *policy.Holder) (*penalty.Table, error) {
	pc, err := c.settings()
	if err != nil || !c.Enabled {
		return nil, err
	}
	pc.ExemptFunc = bastionEgress(h)
	return penalty.New(pc)
}

// bastionEgress reports whether an address is in a registered bastion's
// egress prefixes in the policy h holds now. The prefixes are gathered
// once per policy loaded, not at every call.
func bastionEgress(h *policy.Holder) func(netip.Addr) bool {
	type egress struct {
		pol      *policy.Policy
		prefixes []netip.Prefix
	}
	var cur atomic.Pointer[egress]
	return func(addr netip.Addr) bool {
		p := h.Get()
		e := cur.Load()
		if e == nil || e.pol != p {
			e = &egress{pol: p}
			for _, b := range p.Bastions {
				e.prefixes = append(e.prefixes, b.Egress...)
			}
			cur.Store(e)
		}
		for _, pfx := range e.prefixes {
			if pfx.Contains(addr) {
				return true
			}
		}
		return false
	}
}

// anonymousPenalties is what the web form and the SCIM endpoint count
// their anonymous refusals in (web.Penalties and scim.Penalties): the API
// server's Penalise, so every refusal on the guarded listener shares the
// source's one budget.
type anonymousPenalties interface {
	Penalise(addr netip.Addr, source string) (penalised bool)
}
