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

func debugPercent() int {
	old := debug.SetGCPercent(100)
	debug.SetGCPercent(old)
	return old
}
