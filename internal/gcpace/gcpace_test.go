package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentForKeepsTheFloorAndTheFraction(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name    string
		scanned uint64
		want    int
	}{
		{"small heap: the floor rules", 4 * mib, 200},    // 8 MiB headroom on 4 MiB
		{"at the crossing", 16 * mib, 50},                // 0.5 × 16 = 8
		{"large heap: the fraction rules", 64 * mib, 50}, // 32 MiB headroom
		{"just below the crossing", 16*mib - 1<<10, 51},  // the floor, rounded up
		{"an empty heap is bounded", 0, maxPercent},      // no division by zero
		{"a tiny heap is bounded", 100, maxPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentFor(tc.scanned, 0.5, 8*mib); got != tc.want {
				t.Errorf("percentFor(%d) = %d, want %d", tc.scanned, got, tc.want)
			}
		})
	}
}

// With a period, a heap that allocates slowly gets no more headroom than
// a period's allocation (but the floor), and one that allocates fast
// keeps the fraction's.
func TestBoundByRateLimitsTheHeadroomOfAQuietHeap(t *testing.T) {
	const mib = 1 << 20
	const period = 2 * time.Second
	for _, tc := range []struct {
		name      string
		allocated uint64 // in a second
		want      float64
	}{
		{"quiet: the floor", 1 * mib, 8 * mib},                 // 2 MiB in a period
		{"between: a period's allocation", 10 * mib, 20 * mib}, // under the fraction's 48
		{"busy: the fraction", 100 * mib, 48 * mib},            // 200 MiB in a period
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := boundByRate(headroomFor(96*mib, 0.5, 8*mib), 8*mib, tc.allocated, time.Second, period)
			if got != tc.want {
				t.Errorf("headroom %.1f MiB, want %.1f MiB", got/mib, tc.want/mib)
			}
		})
	}
	if got := boundByRate(48*mib, 8*mib, 0, 0, period); got != 48*mib {
		t.Errorf("no time elapsed: headroom %.1f MiB, want the fraction's 48", got/mib)
	}
}

// percentOf never sets GOGC to 0 (which would collect without pause) or
// negative (off).
func TestPercentOfIsAtLeastOne(t *testing.T) {
	if got := percentOf(1<<40, 1); got != 1 {
		t.Errorf("percentOf(1 TiB, 1 byte) = %d, want 1", got)
	}
}

var keep [][]byte

// After a collection the pacer sets GOGC from what the collector found,
// and Stop puts back what was there before.
func TestPacerFollowsTheLiveHeap(t *testing.T) {
	p := Start(0.5, 8<<20)
	defer p.Stop()
	keep = make([][]byte, 64) // 64 MiB of live pointers-free heap
	for i := range keep {
		keep[i] = make([]byte, 1<<20)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Percent() > 60 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d with 64 MiB live, want about 50", p.Percent())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // let the cleanup goroutine run
	}
	keep = nil
	for p.Percent() < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d with the heap freed, want the floor to raise it", p.Percent())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	p.Stop()
	if got := debugPercent(); got != p.previous {
		t.Errorf("GOGC after Stop = %d, want %d", got, p.previous)
	}
}

// With a period, a large heap that hardly allocates is given the floor as
// headroom, not half of what is scanned.
func TestPacerWithAPeriodGivesAQuietHeapTheFloor(t *testing.T) {
	p := StartWithPeriod(0.5, 8<<20, time.Hour/1000) // 3.6 s
	defer p.Stop()
	keep = make([][]byte, 64) // 64 MiB: half of it would be 32 MiB
	for i := range keep {
		keep[i] = make([]byte, 1<<20)
	}
	defer func() { keep = nil }()
	deadline := time.Now().Add(10 * time.Second)
	for p.Percent() > 20 { // the floor on 64 MiB: GOGC=13
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d with 64 MiB live and little allocated, want about 13", p.Percent())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // let the cleanup goroutine run
	}
}

// Memory is given back once a busy spell ends, not while the program stays
// busy or stays quiet, and not more often than releaseEvery.
func TestSpellsEndOnceTheProgramGoesQuiet(t *testing.T) {
	const mib = 1 << 20
	const floor = 8 * mib
	t0 := time.Unix(1e9, 0)
	var s spells
	var allocs uint64
	step := func(allocated uint64, at time.Duration) bool {
		allocs += allocated
		return s.ended(allocs, t0.Add(at), floor)
	}
	for i, tc := range []struct {
		name      string
		allocated uint64
		at        time.Duration
		want      bool
	}{
		{"busy", 100 * mib, 2 * time.Second, false},
		{"still busy", floor, 4 * time.Second, false},
		{"quiet after busy: ended", 1 * mib, 6 * time.Second, true},
		{"quiet again", 1 * mib, 8 * time.Second, false},
		{"busy", 50 * mib, 10 * time.Second, false},
		{"quiet, too soon after the last", 0, 12 * time.Second, false},
		{"still quiet, releaseEvery later: ended", 0, 6*time.Second + releaseEvery, true},
		{"quiet", 0, 8*time.Second + releaseEvery, false},
	} {
		if got := step(tc.allocated, tc.at); got != tc.want {
			t.Errorf("period %d (%s): ended = %v, want %v", i, tc.name, got, tc.want)
		}
	}
}

func debugPercent() int {
	old := debug.SetGCPercent(100)
	debug.SetGCPercent(old)
	return old
}

// The CA's pacing: GOGC=400 (the bound) on a nearly empty heap, the
// floor on a middling one, GOGC=100 once the heap scans more than it.
func TestTheCAsPacing(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		scanned uint64
		want    int
	}{{2 * mib, maxPercent}, {16 * mib, 200}, {32 * mib, 100}, {256 * mib, 100}} {
		if got := percentFor(tc.scanned, CAFraction, CAFloor); got != tc.want {
			t.Errorf("percentFor(%d MiB) = %d, want %d", tc.scanned/mib, got, tc.want)
		}
	}
}
