// Package gcpace sets the garbage collector's heap target from the live
// heap, with a floor: after each collection, the next one is due when the
// heap has grown by max(floor, fraction × the memory the collector scans),
// where Go's GOGC alone would use a percentage whose floor shrinks with it
// (4 MiB at the default GOGC=100, 2 MiB at GOGC=50).
//
// The bastion needs both ends. With many idle sessions its live heap and
// stacks are large and quiet, so a small fraction saves memory at little
// cost; relaying a bulk transfer with few sessions open, it allocates fast
// (x/crypto copies every packet it reads), and with a small headroom it
// would collect a hundred times a second.
package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Pacer adjusts GOGC after every collection until Stop.
type Pacer struct {
	fraction float64
	floor    uint64
	previous int // GOGC before Start

	mu      sync.Mutex // guards samples and stopped, so that Stop is final
	samples []metrics.Sample
	stopped bool
	percent atomic.Int64 // the GOGC set last
}

// Start paces the collector: fraction is the headroom as a share of the
// scanned memory (0.5 is GOGC=50's), floor the least headroom in bytes.
// It replaces any GOGC setting until Stop.
func Start(fraction float64, floor uint64) *Pacer {
	p := &Pacer{fraction: fraction, floor: floor, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
	// Until the first collection there is no live heap to go by: the
	// GOGC in force stays.
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	p.previous = int(gogc[0].Value.Uint64())
	p.percent.Store(int64(p.previous))
	p.watch()
	return p
}

// Stop ends the pacing and restores the GOGC that was in force.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
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

// adjust sets GOGC for the heap the last collection found, unless the
// pacer was stopped, and reports whether it did.
func (p *Pacer) adjust() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	metrics.Read(p.samples)
	live, stack, globals := p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64(), p.samples[2].Value.Uint64()
	pct := percentFor(live+stack+globals, p.fraction, p.floor)
	debug.SetGCPercent(pct)
	p.percent.Store(int64(pct))
	return true
}

// percentFor returns the GOGC that makes the headroom max(floor,
// fraction × scanned) for scanned bytes of live heap, stacks and globals:
// Go's target is the live heap plus scanned × GOGC/100.
func percentFor(scanned uint64, fraction float64, floor uint64) int {
	if scanned == 0 {
		scanned = 1
	}
	headroom := max(float64(floor), fraction*float64(scanned))
	return int(min(math.Ceil(100*headroom/float64(scanned)), maxPercent))
}

// maxPercent bounds GOGC for a small heap. Go never lets the heap target
// fall below 4 MiB × GOGC/100, so the bound also keeps a nearly empty
// process from growing to hundreds of MiB before it collects.
const maxPercent = 400
