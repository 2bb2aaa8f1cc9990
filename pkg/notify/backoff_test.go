package notify

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func TestBackoffDelayIsFullJitterUnderADoublingCeiling(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	tests := []struct {
		attempt int
		u       float64
		want    time.Duration
	}{
		{1, 0, 0},
		{1, 0.5, 500 * time.Millisecond},
		{2, 0.5, time.Second},
		{3, 0.5, 2 * time.Second},
		{4, 0.5, 4 * time.Second},
		{5, 0.5, 5 * time.Second}, // ceiling 16s capped at 10s
		{60, 0.5, 5 * time.Second},
		{math.MaxInt, 0.5, 5 * time.Second}, // no overflow
		{0, 0.5, 500 * time.Millisecond},    // attempt counted from 1
		{3, -1, 0},                          // u clamped
		{3, math.NaN(), 0},
	}
	for _, tc := range tests {
		if got := b.Delay(tc.attempt, tc.u); got != tc.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tc.attempt, tc.u, got, tc.want)
		}
	}
	// u just below 1 and above: always below the ceiling.
	for _, u := range []float64{0.999999, 1, 2, math.Inf(1)} {
		if got := b.Delay(3, u); got >= 4*time.Second || got < 3*time.Second {
			t.Errorf("Delay(3, %v) = %v, want in [3s, 4s)", u, got)
		}
	}
}

func TestBackoffDelaySpreadsOverTheWholeInterval(t *testing.T) {
	// Full jitter, not "ceiling plus a little": waits cover [0, ceiling).
	b := Backoff{Base: time.Second, Max: time.Hour}
	var lo, hi int
	for i := range 1000 {
		d := b.Delay(4, float64(i)/1000)
		if d < 0 || d >= 8*time.Second {
			t.Fatalf("Delay = %v outside [0, 8s)", d)
		}
		if d < time.Second {
			lo++
		}
		if d >= 7*time.Second {
			hi++
		}
	}
	if lo < 100 || hi < 100 {
		t.Fatalf("waits bunched: %d below 1s, %d above 7s of 1000", lo, hi)
	}
}

func TestBackoffNextGivesUpOnPermanentAndHonoursRetryAfter(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute}
	rateLimited := &Failure{Class: Retryable, RetryAfter: 90 * time.Second, Err: ErrRateLimited}
	tests := []struct {
		name      string
		err       error
		wantWait  time.Duration
		wantRetry bool
	}{
		{"permanent", permanent(ErrRefused, "404"), 0, false},
		{"recipient rejected", fmt.Errorf("sending: %w", permanent(ErrRecipientRejected, "550")), 0, false},
		{"invalid message", fmt.Errorf("rendering: %w", ErrInvalidMessage), 0, false},
		{"bad secret", ErrSecret, 0, false},
		{"retryable", retryable(ErrUnavailable, "503"), 2 * time.Second, true},
		{"unknown error", errors.New("connection reset"), 2 * time.Second, true},
		{"retry-after longer than the backoff", rateLimited, 90 * time.Second, true},
		{"retry-after shorter than the backoff", &Failure{Class: Retryable, RetryAfter: time.Second, Err: ErrRateLimited}, 2 * time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait, retry := b.Next(tc.err, 3, 0.5)
			if wait != tc.wantWait || retry != tc.wantRetry {
				t.Fatalf("Next = %v, %v; want %v, %v", wait, retry, tc.wantWait, tc.wantRetry)
			}
		})
	}
}

func TestBackoffValidate(t *testing.T) {
	for _, b := range []Backoff{{}, {Base: time.Second}, {Base: 2 * time.Second, Max: time.Second}, {Base: -1, Max: time.Second}} {
		if b.Validate() == nil {
			t.Errorf("%+v: Validate = nil, want an error", b)
		}
	}
	if err := DefaultBackoff.Validate(); err != nil {
		t.Errorf("DefaultBackoff: %v", err)
	}
}
