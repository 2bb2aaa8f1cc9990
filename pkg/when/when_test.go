package when

import (
	"testing"
	"time"
)

func TestDurationIsShortAndExact(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Minute: "1h30m", 45 * time.Second: "45s",
		2*time.Hour + 5*time.Second: "2h5s", 0: "0s", 1500 * time.Millisecond: "2s", -time.Hour: "0s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// Relative reads as people say it, to the second under a minute and to
// the minute above.
func TestRelativeSaysInOrAgo(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		0: "now", 400 * time.Millisecond: "now", -400 * time.Millisecond: "now",
		2 * time.Hour: "in 2h", 90*time.Minute + 20*time.Second: "in 1h30m", 119*time.Minute + 40*time.Second: "in 2h",
		45 * time.Second: "in 45s", -10 * time.Minute: "10m ago", -(26*time.Hour + 3*time.Minute): "26h3m ago",
	} {
		if got := Relative(now.Add(d), now); got != want {
			t.Errorf("Relative(now%+v) = %q, want %q", d, got, want)
		}
	}
}

func TestStampIsUTCToTheSecond(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 4, 5, 600, time.FixedZone("CET", 3600))
	if got, want := Stamp(at), "2026-12-01 09:04:05 UTC"; got != want {
		t.Errorf("Stamp = %q, want %q", got, want)
	}
}
