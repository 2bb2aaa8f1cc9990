package notify

import (
	"errors"
	"time"
)

// Backoff is exponential backoff with full jitter: the wait after the nth
// failed attempt is uniform in [0, min(Max, Base·2^(n-1))), so replicas
// and messages that failed together do not retry together.
type Backoff struct {
	Base time.Duration // the ceiling of the first wait
	Max  time.Duration // the largest ceiling
}

// DefaultBackoff waits up to 10s after the first failure, doubling to at
// most 30 minutes.
var DefaultBackoff = Backoff{Base: 10 * time.Second, Max: 30 * time.Minute}

// Validate checks that Base is positive and Max is at least Base.
func (b Backoff) Validate() error {
	if b.Base <= 0 || b.Max < b.Base {
		return errors.New("notify: backoff needs 0 < base <= max")
	}
	return nil
}

// Delay returns the wait after failed attempt number attempt (1 for the
// first), for u drawn uniformly from [0, 1) by the caller (rand.Float64):
// the function itself is pure. Values of u outside [0, 1) are clamped.
func (b Backoff) Delay(attempt int, u float64) time.Duration {
	ceiling := b.ceiling(attempt)
	switch {
	case u <= 0 || u != u: // NaN too
		return 0
	case u >= 1:
		u = 1 - 1e-16
	}
	return time.Duration(u * float64(ceiling))
}

// ceiling is min(Max, Base·2^(attempt-1)), without overflow.
func (b Backoff) ceiling(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	c := b.Base
	for i := 1; i < attempt; i++ {
		if c >= b.Max/2 {
			return b.Max
		}
		c *= 2
	}
	return min(c, b.Max)
}

// Next says what to do after failed attempt number attempt ended in err:
// give up (retry false) when the failure is permanent, otherwise wait
// Delay(attempt, u), or longer if the receiver asked for longer
// (Retry-After, honoured up to MaxRetryAfter).
func (b Backoff) Next(err error, attempt int, u float64) (wait time.Duration, retry bool) {
	if Classify(err) == Permanent {
		return 0, false
	}
	wait = b.Delay(attempt, u)
	if ra, ok := RetryAfter(err); ok && ra > wait {
		wait = ra
	}
	return wait, true
}
