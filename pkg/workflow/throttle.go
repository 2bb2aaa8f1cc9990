package workflow

import (
	"net/netip"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Failed second factors and web logins are throttled in the store, so
// every replica sees them. Counters are kept per person (so guessing from
// many addresses is slow) and per person and address (so one address
// guessing is slowed first, while the person keeps a few attempts from
// elsewhere); never per address alone for people the policy knows, since
// behind one NAT or office egress that would let one person's wrong codes
// refuse their neighbours. Callers the policy does not know are counted
// per address: they have no person to count against.
//
// After free failures within throttleWindow, each further failure blocks
// the counter for twice as long as the last, from 1s up to throttleMax:
// throttling, not a lockout an attacker could impose for ever.
const (
	throttleFreePerson     = 10
	throttleFreePersonAddr = 5
	throttleFreeAddr       = 5
	throttleWindow         = 15 * time.Minute
	throttleMax            = 5 * time.Minute
)

// throttle is one failure counter.
type throttle struct {
	key   string
	free  int    // failures let through before it blocks
	scope string // what it counts, for the audit
}

// throttles names the counters that failures of user from addr add to;
// kind separates uses ("" for MFA codes, "web-" for web logins).
func (s *Service) throttles(kind, user, addr string) []throttle {
	a := throttleAddr(addr)
	if s.policy().Users[user] == nil {
		return []throttle{{kind + "addr:" + a, throttleFreeAddr, "address"}}
	}
	return []throttle{
		{kind + "user:" + user, throttleFreePerson, "person"},
		{kind + "user-addr:" + user + " " + a, throttleFreePersonAddr, "person and address"},
	}
}

// throttleAddr is addr written one way, so that one address has one
// counter (::ffff:192.0.2.1 is 192.0.2.1); what is not an IP address
// shares one counter.
func throttleAddr(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "(not an address)"
	}
	return a.Unmap().WithZone("").String()
}

// blocking returns the first of ths that blocks at now, with how long it
// still does, or nil.
func blocking(tx store.Tx, ths []throttle, now time.Time) (*throttle, time.Duration, error) {
	for i := range ths {
		th, err := tx.Throttle(ths[i].key)
		if err != nil {
			return nil, 0, err
		}
		if now.Before(th.BlockedUntil) {
			return &ths[i], th.BlockedUntil.Sub(now), nil
		}
	}
	return nil, 0, nil
}

// countFailures adds a failure at now to each of ths.
func countFailures(tx store.Tx, ths []throttle, now time.Time) error {
	for _, t := range ths {
		th, err := tx.Throttle(t.key)
		if err != nil {
			return err
		}
		if now.Sub(th.LastFailure) > throttleWindow {
			th.Failures = 0
		}
		th.Failures++
		th.LastFailure = now
		if over := th.Failures - t.free; over >= 0 {
			block := throttleMax
			if over < 10 {
				block = min(time.Second<<over, throttleMax)
			}
			th.BlockedUntil = now.Add(block)
		}
		if err := tx.PutThrottle(th); err != nil {
			return err
		}
	}
	return nil
}

// clearThrottles forgets the failures counted in ths: the person proved
// themselves.
func clearThrottles(tx store.Tx, ths []throttle) error {
	for _, t := range ths {
		if err := tx.PutThrottle(&store.Throttle{Key: t.key}); err != nil {
			return err
		}
	}
	return nil
}
