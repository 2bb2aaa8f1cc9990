package main

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/auditsink"
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
func signCheckpoints(ctx context.Context, cp *workflow.Checkpointer, every time.Duration, log *slog.Logger) {
	tick := func(ctx context.Context) {
		sc, err := cp.Tick(ctx)
		switch {
		case err != nil:
			log.Error("audit checkpoint failed", "err", err)
		case sc != nil:
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
