package recording

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"
)

// Play writes rec's output events to w through a Sanitizer, waiting between
// them as recorded divided by speed; a gap longer than maxIdle (if
// maxIdle > 0) is shortened to maxIdle before that division. Input, resize
// and marker events are not written. sleep waits for a duration or until
// the context is done; nil means a timer. Play returns when every event is
// written, when sleep fails, or when ctx is done.
//
// speed must be positive and finite.
func Play(ctx context.Context, rec *Recording, w io.Writer, speed float64, maxIdle time.Duration, sleep func(context.Context, time.Duration) error) error {
	if !(speed > 0) || math.IsInf(speed, 1) {
		return fmt.Errorf("recording: replay speed must be positive, got %v", speed)
	}
	if sleep == nil {
		sleep = sleepContext
	}
	s := NewSanitizer(w)
	var prev time.Duration
	for _, ev := range rec.Events {
		if ev.Kind != 'o' {
			continue
		}
		gap := ev.Time - prev
		prev = ev.Time
		if maxIdle > 0 {
			gap = min(gap, maxIdle)
		}
		if wait := float64(gap) / speed; wait >= 1 {
			// Capped below 1<<63 ns, which would overflow the conversion.
			if err := sleep(ctx, time.Duration(min(wait, 1<<62))); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if _, err := s.Write(ev.Data); err != nil {
			return fmt.Errorf("recording: replaying: %w", err)
		}
	}
	return nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
