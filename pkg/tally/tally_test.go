package tally

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCountsPerSourceAndReasonUntilDrained(t *testing.T) {
	c := New(10)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if !c.Add("10.0.0.1", "bad signature", t0) {
		t.Error("first refusal of a pair not reported as first")
	}
	if c.Add("10.0.0.1", "bad signature", t0.Add(time.Second)) {
		t.Error("second refusal of a pair reported as first")
	}
	c.Add("10.0.0.2", "bad signature", t0.Add(2*time.Second))
	c.Add("10.0.0.1", "unknown key", t0.Add(3*time.Second))
	want := []Count{
		{Source: "10.0.0.1", Reason: "bad signature", N: 2, First: t0, Last: t0.Add(time.Second)},
		{Source: "10.0.0.1", Reason: "unknown key", N: 1, First: t0.Add(3 * time.Second), Last: t0.Add(3 * time.Second)},
		{Source: "10.0.0.2", Reason: "bad signature", N: 1, First: t0.Add(2 * time.Second), Last: t0.Add(2 * time.Second)},
	}
	if diff := cmp.Diff(want, c.Drain()); diff != "" {
		t.Errorf("Drain (-want +got):\n%s", diff)
	}
	if got := c.Drain(); len(got) != 0 {
		t.Errorf("second Drain = %v, want nothing", got)
	}
	if !c.Add("10.0.0.1", "bad signature", t0) {
		t.Error("first refusal after a drain not reported as first")
	}
}

func TestManySourcesAreBoundedUnderOverflow(t *testing.T) {
	c := New(3)
	now := time.Now()
	for i := 0; i < 1000; i++ {
		c.Add(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "bad signature", now)
	}
	got := c.Drain()
	if len(got) != 4 {
		t.Fatalf("Drain held %d pairs, want 3 sources and the overflow", len(got))
	}
	var total int64
	for _, n := range got {
		total += n.N
	}
	if total != 1000 {
		t.Errorf("counted %d refusals, want 1000", total)
	}
	if last := got[len(got)-1]; last.Source != Overflow || last.N != 997 {
		t.Errorf("overflow = %+v, want 997 under %q", last, Overflow)
	}
}
