package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/outbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// outboxConfig tunes the delivery of queued notifications (the outbox
// key of the configuration).
type outboxConfig struct {
	// PollInterval: how often each replica looks for due messages.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Lease: how long a replica holds a message it delivers; an attempt
	// is cut off at half of it.
	Lease time.Duration `mapstructure:"lease"`
	// MaxAttempts: deliveries before a message is dead.
	MaxAttempts int `mapstructure:"max_attempts"`
	// BackoffBase and BackoffMax: the wait after the nth failure is
	// drawn from [0, min(max, base·2^(n-1))).
	BackoffBase time.Duration `mapstructure:"backoff_base"`
	BackoffMax  time.Duration `mapstructure:"backoff_max"`
	// Retention: how long delivered messages stay listed.
	Retention time.Duration `mapstructure:"retention"`
	// WebURL: the CA's address as people reach its web form
	// (https://lockbox.example.com), for the links in notifications.
	WebURL string `mapstructure:"web_url"`
}

func outboxDefaults(set func(key string, value any)) {
	set("outbox.poll_interval", outbox.DefaultPoll)
	set("outbox.lease", outbox.DefaultLease)
	set("outbox.max_attempts", outbox.DefaultMaxAttempts)
	set("outbox.backoff_base", notify.DefaultBackoff.Base)
	set("outbox.backoff_max", notify.DefaultBackoff.Max)
	set("outbox.retention", outbox.DefaultRetention)
	set("outbox.web_url", "")
	set("grant_ending_notice", 5*time.Minute)
}

// outboxFlags maps configuration keys to their flags.
var outboxFlags = map[string]string{
	"outbox.poll_interval": "outbox_poll_interval", "outbox.lease": "outbox_lease",
	"outbox.max_attempts": "outbox_max_attempts", "outbox.backoff_base": "outbox_backoff_base",
	"outbox.backoff_max": "outbox_backoff_max", "grant_ending_notice": "grant_ending_notice",
}

func (c outboxConfig) check() error {
	switch {
	case c.PollInterval <= 0:
		return errors.New("outbox.poll_interval must be positive")
	case c.Lease < 2*time.Second:
		return errors.New("outbox.lease must be at least 2s")
	case c.MaxAttempts <= 0:
		return errors.New("outbox.max_attempts must be positive")
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return errors.New("outbox.backoff_base must be positive and outbox.backoff_max at least as long")
	case c.Retention <= 0:
		return errors.New("outbox.retention must be positive")
	}
	return nil
}

// startOutbox starts delivering queued notifications on this replica,
// until ctx ends; the returned channel closes once the loop stopped.
func startOutbox(ctx context.Context, cfg *config, db *sqlstore.DB, routes routing, log *slog.Logger) (<-chan struct{}, error) {
	loop, err := outbox.New(outbox.Config{Store: db, Channels: routes.channels, Router: routes.router,
		Poll: cfg.Outbox.PollInterval, Lease: cfg.Outbox.Lease, MaxAttempts: cfg.Outbox.MaxAttempts,
		Backoff:   notify.Backoff{Base: cfg.Outbox.BackoffBase, Max: cfg.Outbox.BackoffMax},
		Retention: cfg.Outbox.Retention, Log: log})
	if err != nil {
		return nil, fmt.Errorf("notification outbox: %w", err)
	}
	metrics.WatchOutbox(func() (queued, dead int, ok bool) {
		vctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var counts map[store.OutboxState]int
		err := db.View(vctx, func(tx store.Tx) (err error) { counts, err = tx.CountOutbox(); return err })
		return counts[store.OutboxQueued], counts[store.OutboxDead], err == nil
	})
	done := make(chan struct{})
	go func() { defer close(done); loop.Run(ctx) }()
	log.Info("notification outbox delivering", "replica", loop.Owner(), "poll", cfg.Outbox.PollInterval)
	return done, nil
}
