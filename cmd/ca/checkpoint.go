package main

import (
	"context"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/auditsink"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// checkpointConfig says how often the CA signs the audit head and where
// the checkpoints go besides GET /v1/audit/checkpoint.
type checkpointConfig struct {
	Interval time.Duration `mapstructure:"interval"` // 0: only at start, at shutdown and on demand
	File     string        `mapstructure:"file"`     // appended to
	Dir      string        `mapstructure:"dir"`      // a text and .sig pair per checkpoint
}

// checkpointSink builds the configured sinks; nil when there are none.
func checkpointSink(c checkpointConfig) (workflow.CheckpointSink, error) {
	var all auditsink.All
	if c.File != "" {
		f, err := auditsink.NewFile(c.File)
		if err != nil {
			return nil, err
		}
		all = append(all, f)
	}
	if c.Dir != "" {
		d, err := auditsink.NewDir(c.Dir)
		if err != nil {
			return nil, err
		}
		all = append(all, d)
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

// signCheckpoints signs a checkpoint of the audit head at start, at every
// interval when the head has moved, and once more at shutdown, so that the
// last rows written are anchored too.
//
// The metric lockbox_audit_checkpoint_age_seconds is the time since a tick
// last found the head covered: by the checkpoint it signed, or by the
// newest one when the head had not moved.
func signCheckpoints(ctx context.Context, cp *workflow.Checkpointer, every time.Duration, log *slog.Logger) {
	var covered atomic.Int64 // unix nanoseconds; 0: not yet
	metrics.WatchCheckpoint(func() (time.Time, bool) {
		n := covered.Load()
		return time.Unix(0, n), n != 0
	}, time.Now)
	tick := func(ctx context.Context) {
		sc, err := cp.Tick(ctx)
		if err == nil {
			covered.Store(time.Now().UnixNano())
		}
		switch {
		case err != nil:
			log.Error("audit checkpoint failed", "err", err)
		case sc != nil:
			metrics.CheckpointsSigned.Inc()
			log.Info("audit checkpoint signed", "seq", sc.Seq, "hash", hex.EncodeToString(sc.Hash))
		}
	}
	tick(ctx)
	var c <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		c = t.C
	}
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			tick(last)
			cancel()
			return
		case <-c:
			tick(ctx)
		}
	}
}
