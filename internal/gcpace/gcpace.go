// Package gcpace sets the garbage collector's heap target from the live
// heap, with a floor: after each collection, the next one is due when the
// heap has grown by max(floor, fraction × the memory the collector scans),
// where Go's GOGC alone would use a percentage whose floor shrinks with it
// (4 MiB at the default GOGC=100, 2 MiB at GOGC=50). With a period, the
// headroom is also no more than what the program allocated in that long
// at the rate of the last cycle (but never under the floor): a quiet heap
// is then collected about once a period, or less often, instead of being
// let grow by the whole fraction first. And with a period, once a busy
// spell ends (a period in which the program allocated the floor or more,
// then one in which it did not), the memory the heap freed is given back
// to the operating system at once, at most once every 10 s: Go's
// scavenger would keep several MiB of it resident.
//
// The bastion needs both ends. With many idle sessions its live heap and
// stacks are large and quiet, so a small headroom saves memory at little
// cost (it allocates slowly, so collections stay rare); relaying a bulk
// transfer with few sessions open, it allocates fast (x/crypto copies
// every packet it reads), and with a small headroom it would collect a
// hundred times a second.
package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// Pacer adjusts GOGC after every collection until Stop.
type Pacer struct {
	fraction float64
	floor    uint64
	period   time.Duration // 0: no bound from the allocation rate
	previous int           // GOGC before Start

	mu      sync.Mutex // guards the fields below, so that Stop is final
	samples []metrics.Sample
	stopped bool
	quit    chan struct{} // closed by Stop; nil without a period
	// the allocation counter at the last adjustment, and when it was read
	allocs  uint64
	at      time.Time
	percent atomic.Int64 // the GOGC set last
}

// Start paces the collector: fraction is the headroom as a share of the
// scanned memory (0.5 is GOGC=50's), floor the least headroom in bytes.
// It replaces any GOGC setting until Stop.
func Start(fraction float64, floor uint64) *Pacer { return StartWithPeriod(fraction, floor, 0) }

// StartWithPeriod is Start with the headroom also bounded by what the
// program allocated in period at the rate of the last cycle (see the
// package comment); the floor still holds.
func StartWithPeriod(fraction float64, floor uint64, period time.Duration) *Pacer {
	p := &Pacer{fraction: fraction, floor: floor, period: period, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
		{Name: "/gc/heap/allocs:bytes"},
	}}
	// Until the first collection there is no live heap to go by: the
	// GOGC in force stays.
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	p.previous = int(gogc[0].Value.Uint64())
	p.percent.Store(int64(p.previous))
	p.watch()
	if period > 0 {
		p.quit = make(chan struct{})
		go p.tick()
	}
	return p
}

// tick adjusts once a period too, so that a heap whose allocation slowed
// down after a busy cycle gets a smaller target without waiting to grow
// to the busy one first (lowering GOGC below the heap starts a collection).
func (p *Pacer) tick() {
	t := time.NewTicker(p.period)
	defer t.Stop()
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	var spell spells
	for {
		select {
		case now := <-t.C:
			if !p.adjust() {
				return
			}
			metrics.Read(allocs)
			if spell.ended(allocs[0].Value.Uint64(), now, p.floor) {
				debug.FreeOSMemory()
			}
		case <-p.quit:
			return
		}
	}
}

// releaseEvery bounds how often the memory freed after a busy spell is
// given back: each time costs a collection, and the pages are faulted in
// again as the heap grows back.
const releaseEvery = 10 * time.Second

// spells tells, one period at a time, when a busy spell has ended.
type spells struct {
	allocs   uint64    // the allocation counter at the last period's end
	busy     bool      // a period since the last release allocated the floor or more
	released time.Time // the last time a spell's end was reported
}

// ended takes the allocation counter at the end of a period and reports
// whether a busy spell has just ended: this period allocated less than
// floor, one before it (since the last report) allocated more, and the
// last report is releaseEvery old.
func (s *spells) ended(allocs uint64, now time.Time, floor uint64) bool {
	allocated := allocs - s.allocs
	s.allocs = allocs
	if allocated >= floor {
		s.busy = true
		return false
	}
	if !s.busy || now.Sub(s.released) < releaseEvery {
		return false
	}
	s.busy, s.released = false, now
	return true
}

// Stop ends the pacing and restores the GOGC that was in force.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		if p.quit != nil {
			close(p.quit)
		}
		debug.SetGCPercent(p.previous)
	}
}

// Percent returns the GOGC the pacer set last.
func (p *Pacer) Percent() int { return int(p.percent.Load()) }

// watch has the next collection call adjust: the sentinel is unreachable
// at once, so its cleanup runs after the next cycle.
func (p *Pacer) watch() {
	runtime.AddCleanup(new(sentinel), func(p *Pacer) {
		if p.adjust() {
			p.watch()
		}
	}, p)
}

// sentinel is big enough to be allocated on its own, not batched with
// other tiny objects that could keep it alive.
type sentinel struct{ _ [16]uint64 }

// adjust sets GOGC for the heap the last collection found (and, with a
// period, the allocation rate since the last adjustment), unless the
// pacer was stopped, and reports whether it was not.
func (p *Pacer) adjust() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	metrics.Read(p.samples)
	now := time.Now()
	live, stack, globals := p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64(), p.samples[2].Value.Uint64()
	allocs := p.samples[3].Value.Uint64()
	if live == 0 { // no collection yet: nothing to go by
		return true
	}
	headroom := headroomFor(live+stack+globals, p.fraction, p.floor)
	if p.period > 0 && !p.at.IsZero() {
		headroom = boundByRate(headroom, p.floor, allocs-p.allocs, now.Sub(p.at), p.period)
	}
	p.allocs, p.at = allocs, now
	pct := percentOf(live+stack+globals, headroom)
	debug.SetGCPercent(pct)
	p.percent.Store(int64(pct))
	return true
}

// percentFor returns the GOGC that makes the headroom max(floor,
// fraction × scanned) for scanned bytes of live heap, stacks and globals:
// Go's target is the live heap plus scanned × GOGC/100.
func percentFor(scanned uint64, fraction float64, floor uint64) int {
	return percentOf(scanned, headroomFor(scanned, fraction, floor))
}

// boundByRate bounds headroom by what is allocated in period at the rate
// of allocated bytes in elapsed, but not under floor.
func boundByRate(headroom float64, floor, allocated uint64, elapsed, period time.Duration) float64 {
	if elapsed <= 0 {
		return headroom
	}
	rate := float64(allocated) / elapsed.Seconds()
	return min(headroom, max(float64(floor), rate*period.Seconds()))
}

// headroomFor is max(floor, fraction × scanned).
func headroomFor(scanned uint64, fraction float64, floor uint64) float64 {
	return max(float64(floor), fraction*float64(scanned))
}

// percentOf is the GOGC that gives headroom bytes over scanned bytes.
func percentOf(scanned uint64, headroom float64) int {
	if scanned == 0 {
		scanned = 1
	}
	return int(max(1, min(math.Ceil(100*headroom/float64(scanned)), maxPercent)))
}

// maxPercent bounds GOGC for a small heap. Go never lets the heap target
// fall below 4 MiB × GOGC/100, so the bound also keeps a nearly empty
// process from growing to hundreds of MiB before it collects.
const maxPercent = 400

// The CA's pacing (cmd/ca serve), here so that its benchmarks pace as it
// does: headroom as large as what the collector scans (GOGC=100's), but at
// least 32 MiB. A CA's live heap is a few MiB, and every certificate call
// makes tens of KiB of short-lived garbage, so Go's own 4 MiB floor
// collects every few dozen calls; with this floor (bounded by maxPercent,
// GOGC=400, on a nearly empty heap) the collector runs several times less
// often, for at most 32 MiB more memory.
const (
	CAFraction = 1.0
	CAFloor    = 32 << 20
)
