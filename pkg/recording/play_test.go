package recording

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func playRecording() *Recording {
	return &Recording{Events: []Event{
		{Time: 1 * time.Second, Kind: 'o', Data: []byte("one ")},
		{Time: 2 * time.Second, Kind: 'i', Data: []byte("typed")},
		{Time: 3 * time.Second, Kind: 'r', Data: []byte("100x40")},
		{Time: 4 * time.Second, Kind: 'o', Data: []byte("two\x1b]52;c;AAAA")},
		{Time: 4 * time.Second, Kind: 'o', Data: []byte("\x07three\x1b[6n ")},
		{Time: 64 * time.Second, Kind: 'm', Data: []byte("marker")},
		{Time: 104 * time.Second, Kind: 'o', Data: []byte("\x1b[1mfour")},
	}}
}

func TestPlayWritesSanitizedOutputWithRecordedGaps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		speed     float64
		maxIdle   time.Duration
		wantWaits []time.Duration
	}{
		{"real time", 1, 0, []time.Duration{time.Second, 3 * time.Second, 100 * time.Second}},
		{"double speed", 2, 0, []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 50 * time.Second}},
		{"idle capped before speed", 2, 2 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, time.Second}},
		{"slow motion", 0.5, 0, []time.Duration{2 * time.Second, 6 * time.Second, 200 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			var waits []time.Duration
			sleep := func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}
			if err := Play(context.Background(), playRecording(), &out, tc.speed, tc.maxIdle, sleep); err != nil {
				t.Fatal(err)
			}
			if got, want := out.String(), "one twothree \x1b[1mfour"; got != want {
				t.Errorf("output = %q, want %q", got, want)
			}
			if diff := cmp.Diff(tc.wantWaits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlayStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stopped := errors.New("viewer quit")
	var out bytes.Buffer
	sleep := func(ctx context.Context, d time.Duration) error {
		cancel(stopped)
		return context.Cause(ctx)
	}
	if err := Play(ctx, playRecording(), &out, 1, 0, sleep); !errors.Is(err, stopped) {
		t.Errorf("Play = %v, want the cancel cause", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q after the context ended", out.String())
	}
}

func TestPlayDefaultSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &Recording{Events: []Event{{Time: time.Hour, Kind: 'o', Data: []byte("x")}}}
	if err := Play(ctx, rec, &bytes.Buffer{}, 1, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Play = %v, want context.Canceled", err)
	}
}

func TestPlayRefusesBadSpeed(t *testing.T) {
	for _, speed := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if err := Play(context.Background(), playRecording(), &bytes.Buffer{}, speed, 0, nil); err == nil {
			t.Errorf("Play with speed %v succeeded", speed)
		}
	}
}

func TestPlayCapsHugeWaits(t *testing.T) {
	rec := &Recording{Events: []Event{{Time: time.Hour, Kind: 'o', Data: []byte("x")}}}
	var got time.Duration
	sleep := func(_ context.Context, d time.Duration) error { got = d; return nil }
	mustNil(t, Play(context.Background(), rec, &bytes.Buffer{}, 1e-300, 0, sleep))
	if got <= 0 {
		t.Errorf("wait = %v, want a long positive wait", got)
	}
}
