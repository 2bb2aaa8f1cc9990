package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Defaults for Config.
const (
	DefaultPoll        = 250 * time.Millisecond
	DefaultLease       = time.Minute
	DefaultMaxAttempts = 10
	DefaultBatch       = 32
	DefaultRetention   = 7 * 24 * time.Hour
)

// Channels finds an endpoint's channel by its name.
type Channels interface {
	Channel(name string) (channel.Channel, bool)
}

// ChannelMap is Channels over a map of endpoint name to channel.
type ChannelMap map[string]channel.Channel

// Channel implements Channels.
func (m ChannelMap) Channel(name string) (channel.Channel, bool) {
	c, ok := m[name]
	return c, ok
}

// Store is what the loop needs of the store.
type Store interface {
	Update(ctx context.Context, fn func(store.Tx) error) error
	View(ctx context.Context, fn func(store.Tx) error) error
}

// Config is what a Loop needs. New checks it and fills defaults.
type Config struct {
	Store    Store
	Channels Channels
	// Router routes the message.dead notices of dead rows (to
	// operators); nil: dead rows are audited and listed, not told.
	Router notify.Router
	// Owner names this replica in leases; default a random name.
	Owner string
	// Poll is how often the loop looks for due rows. Default DefaultPoll.
	Poll time.Duration
	// Lease is how long a claimed row stays this replica's; a delivery
	// attempt is cut off at half of it, so its outcome is recorded while
	// the lease holds. Default DefaultLease; at least 2s.
	Lease time.Duration
	// MaxAttempts is how many deliveries a row gets before it is dead.
	// Default DefaultMaxAttempts.
	MaxAttempts int
	// Backoff spaces the attempts. Default notify.DefaultBackoff.
	Backoff notify.Backoff
	// Batch is how many rows one pass claims and delivers concurrently.
	// Default DefaultBatch.
	Batch int
	// Retention is how long delivered rows are kept. Default
	// DefaultRetention.
	Retention time.Duration
	Clock     func() time.Time
	// Jitter draws the backoff's jitter in [0, 1); default math/rand.
	Jitter func() float64
	Log    *slog.Logger
}

// Loop delivers the outbox. Run it on every CA replica.
type Loop struct {
	cfg       Config
	wake      chan struct{}
	lastPrune time.Time
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Loop, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("outbox: no store")
	case cfg.Channels == nil:
		return nil, errors.New("outbox: no channels")
	case cfg.Poll < 0 || cfg.Lease < 0 || cfg.MaxAttempts < 0 || cfg.Batch < 0 || cfg.Retention < 0:
		return nil, errors.New("outbox: negative setting")
	case cfg.Lease != 0 && cfg.Lease < 2*time.Second:
		return nil, fmt.Errorf("outbox: lease %v shorter than 2s", cfg.Lease)
	}
	if cfg.Backoff == (notify.Backoff{}) {
		cfg.Backoff = notify.DefaultBackoff
	}
	if err := cfg.Backoff.Validate(); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if cfg.Owner == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		cfg.Owner = "ca-" + hex.EncodeToString(b)
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = mrand.Float64
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Loop{cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// Owner is the name this loop's leases carry.
func (l *Loop) Owner() string { return l.cfg.Owner }

// Wake asks the loop to look for due rows now rather than at the next
// poll (after a commit that queued some, say). It never blocks.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. A pass that fails (the database is
// unavailable) is logged and tried again at the next poll.
func (l *Loop) Run(ctx context.Context) {
	t := time.NewTicker(l.cfg.Poll)
	defer t.Stop()
	for {
		for {
			n, err := l.Once(ctx)
			if err != nil && ctx.Err() == nil {
				l.cfg.Log.Warn("notification outbox pass failed", "err", err)
			}
			if err != nil || n < l.cfg.Batch || ctx.Err() != nil {
				break // a full batch: more may be due at once
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.wake:
		}
	}
}

// Once claims the rows due now, delivers them concurrently, records
// their outcomes in one transaction, and returns how many it claimed.
// It looks first in a read-only transaction, so that a pass that finds
// nothing due writes nothing. Every few minutes it also prunes delivered
// rows past the retention.
func (l *Loop) Once(ctx context.Context) (int, error) {
	now := l.cfg.Clock()
	prune := now.Sub(l.lastPrune) >= 5*time.Minute
	var due []*store.OutboxMessage
	err := l.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		due, err = tx.OutboxMessages(store.OutboxFilter{DueBy: now, Limit: 1})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("looking for due notifications: %w", err)
	}
	if len(due) == 0 && !prune {
		return 0, nil
	}
	var rows []*store.OutboxMessage
	err = l.cfg.Store.Update(ctx, func(tx store.Tx) (err error) {
		rows = nil
		if len(due) > 0 {
			if rows, err = tx.ClaimOutbox(l.cfg.Owner, now, now.Add(l.cfg.Lease), l.cfg.Batch); err != nil {
				return err
			}
		}
		if prune {
			return tx.PruneOutbox(now.Add(-l.cfg.Retention))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("claiming notifications: %w", err)
	}
	if prune {
		l.lastPrune = now
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var wg sync.WaitGroup
	for _, row := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.deliver(ctx, row)
		}()
	}
	wg.Wait()
	if err := l.record(ctx, rows, l.cfg.Clock()); err != nil {
		return len(rows), fmt.Errorf("recording %d deliveries: %w", len(rows), err)
	}
	return len(rows), nil
}

// deliver makes one attempt at row and sets its outcome, to be recorded.
func (l *Loop) deliver(ctx context.Context, row *store.OutboxMessage) {
	err := l.attempt(ctx, row)
	now := l.cfg.Clock()
	row.Attempts++
	if err == nil {
		row.State, row.DoneAt, row.LastError = store.OutboxDelivered, now, ""
		return
	}
	row.LastError = errorText(err)
	wait, retry := l.cfg.Backoff.Next(err, row.Attempts, l.cfg.Jitter())
	if retry && row.Attempts < l.cfg.MaxAttempts {
		row.DueAt = now.Add(wait)
		l.cfg.Log.Info("notification delivery failed; will retry", "key", row.Key, "endpoint", row.Endpoint,
			"attempt", row.Attempts, "retry_in", wait, "err", err)
		return
	}
	row.State, row.DoneAt = store.OutboxDead, now
	l.cfg.Log.Warn("notification given up", "key", row.Key, "endpoint", row.Endpoint, "attempts", row.Attempts,
		"class", notify.Classify(err).String(), "err", err)
}

// record stores the outcomes of the attempts on rows in one
// transaction, trying again while the database is unavailable and the
// leases hold: once they run out, another replica may deliver the rows
// again. A row whose lease another claim took over is left to it (it
// delivers it again, with the same key). It records even when ctx ended
// (the CA stopping): a delivery that went through should not be made
// again.
func (l *Loop) record(ctx context.Context, rows []*store.OutboxMessage, now time.Time) error {
	rec, cancel := context.WithDeadline(context.WithoutCancel(ctx), time.Now().Add(rows[0].LeaseUntil.Sub(l.cfg.Clock())))
	defer cancel()
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		err := l.cfg.Store.Update(rec, func(tx store.Tx) error {
			for _, row := range rows {
				err := tx.FinishOutbox(l.cfg.Owner, row)
				if errors.Is(err, store.ErrConflict) {
					l.cfg.Log.Warn("notification lease lost before its outcome was recorded", "key", row.Key, "endpoint", row.Endpoint)
					continue
				}
				if err != nil {
					return err
				}
				if row.State == store.OutboxDead {
					if err := l.dead(tx, row, now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if !errors.Is(err, store.ErrUnavailable) || rec.Err() != nil {
			return err
		}
		select {
		case <-rec.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// ErrNoEndpoint: the row names an endpoint this CA has no channel for
// (removed from the configuration, or configured on other replicas
// only). It is retried, so a configuration that comes back delivers it,
// and ends dead otherwise.
var ErrNoEndpoint = errors.New("outbox: no such notification endpoint on this CA")

// attempt decodes row and delivers it once, within half the lease.
func (l *Loop) attempt(ctx context.Context, row *store.OutboxMessage) error {
	var m notify.Message
	if err := json.Unmarshal(row.Body, &m); err != nil {
		return &notify.Failure{Class: notify.Permanent, Err: fmt.Errorf("%w: stored body: %v", notify.ErrInvalidMessage, err)}
	}
	c, ok := l.cfg.Channels.Channel(row.Endpoint)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoEndpoint, row.Endpoint)
	}
	actx, cancel := context.WithTimeout(ctx, l.cfg.Lease/2)
	defer cancel()
	return c.Deliver(actx, &m)
}

// maxErrorText bounds the last error kept in a row and the audit log.
const maxErrorText = 512

func errorText(err error) string {
	s := err.Error()
	if len(s) > maxErrorText {
		s = s[:maxErrorText]
	}
	return s
}
