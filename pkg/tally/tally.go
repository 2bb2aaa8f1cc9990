// Package tally counts refusals of callers that are not yet known (no
// verified key, no session), per source and reason, so that anonymous noise
// costs one audit row per source per interval instead of one per attempt.
//
// A Counter holds at most a fixed number of distinct (source, reason)
// pairs; attempts beyond that are counted under the source "other", so an
// attacker who varies its address cannot grow the process's memory. Its
// owner calls Drain at an interval and writes one row per Count.
package tally

import (
	"sort"
	"sync"
	"time"
)

// Overflow is the source under which attempts are counted once a Counter
// holds its maximum of distinct pairs.
const Overflow = "other"

// Count is how often one source was refused for one reason since the last
// Drain.
type Count struct {
	Source, Reason string
	N              int64
	First, Last    time.Time
}

type key struct{ source, reason string }

// Counter counts refusals. The zero value is not usable; call New.
type Counter struct {
	mu     sync.Mutex
	max    int
	counts map[key]*Count
}

// New returns a Counter that keeps at most maxPairs distinct (source,
// reason) pairs between drains (at least 1).
func New(maxPairs int) *Counter {
	if maxPairs < 1 {
		maxPairs = 1
	}
	return &Counter{max: maxPairs, counts: map[key]*Count{}}
}

// Add counts one refusal. It reports whether it is the first for its pair
// since the last Drain, which callers may use to log once per interval.
func (c *Counter) Add(source, reason string, now time.Time) (first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := key{source, reason}
	n, ok := c.counts[k]
	if !ok && len(c.counts) >= c.max {
		k = key{Overflow, reason}
		n, ok = c.counts[k]
	}
	if !ok {
		n = &Count{Source: k.source, Reason: reason, First: now}
		c.counts[k] = n
	}
	n.N++
	n.Last = now
	return !ok
}

// Drain returns what was counted since the last Drain, ordered by source
// and reason, and starts counting anew.
func (c *Counter) Drain() []Count {
	c.mu.Lock()
	counts := c.counts
	c.counts = make(map[key]*Count, len(counts))
	c.mu.Unlock()
	out := make([]Count, 0, len(counts))
	for _, n := range counts {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
