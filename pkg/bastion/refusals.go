package bastion

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/tally"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Bounds on what the reporter keeps while the CA does not answer, and on
// one report (the API takes bodies up to 64 KiB).
const (
	maxRefusalPairs   = 1000 // distinct (source, reason) pairs counted per interval
	maxQueuedRefusals = 1000 // people's refusals waiting for the CA
	refusalsPerReport = 50
	countsPerReport   = 200
)

// refusalDetail is what the bastion knows of a refused login attempt: the
// key that was offered, if any.
type refusalDetail struct {
	Login       string // the SSH user name
	Fingerprint string
	KeyType     string
	KeyID       string // as the certificate claims it: unverified unless signed by the user CA
	Serial      uint64
	User        string // the person the key ID names
	HasKey      bool
}

func (d refusalDetail) attrs() []any {
	if !d.HasKey {
		if d.Login != "" {
			return []any{"login", d.Login}
		}
		return nil
	}
	a := []any{"login", d.Login, "key_type", d.KeyType, "fingerprint", d.Fingerprint}
	if d.KeyID != "" {
		a = append(a, "key_id", d.KeyID, "serial", d.Serial, "user", d.User)
	}
	return a
}

// reporter sends the bastion's refusals to the CA for its audit log:
// people's refusals one by one and soon, anonymous ones as counts per
// source and reason once per interval (package tally keeps them bounded).
// While the CA does not answer it keeps what it has, bounded, and tries
// again at the next interval.
type reporter struct {
	ca       ControlPlane
	log      *slog.Logger
	clock    func() time.Time
	interval time.Duration
	counts   *tally.Counter

	mu      sync.Mutex
	queue   []wire.BastionRefusal
	carry   []wire.RefusalCount // counted, not yet delivered
	dropped int
	kick    chan struct{}
}

func newReporter(ca ControlPlane, log *slog.Logger, clock func() time.Time, interval time.Duration) *reporter {
	return &reporter{ca: ca, log: log, clock: clock, interval: interval, counts: tally.New(maxRefusalPairs), kick: make(chan struct{}, 1)}
}

// anonymous counts a refused connection of nobody known. Connections over
// the caps are logged once per source per interval (they come in floods);
// other refusals once each.
func (r *reporter) anonymous(source, cause string, d refusalDetail) {
	metrics.BastionRefusals.WithLabelValues(cause).Inc()
	first := r.counts.Add(source, cause, r.clock())
	if cause == causeOverCap && !first {
		return
	}
	attrs := append([]any{"client", source, "cause", cause}, d.attrs()...)
	if cause == causeOverCap {
		attrs = append(attrs, "note", "further ones from this source are counted, not logged, until the next report")
	}
	r.log.Info("connection refused", attrs...)
}

// person queues a refusal of a known person for the CA's audit log. The
// caller has logged it.
func (r *reporter) person(f wire.BastionRefusal) {
	metrics.BastionRefusals.WithLabelValues(f.Kind).Inc()
	r.mu.Lock()
	if len(r.queue) >= maxQueuedRefusals {
		r.dropped++
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, f)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run reports until ctx ends, then makes one last attempt.
func (r *reporter) run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	failed := false
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			r.report(last, true)
			cancel()
			return
		case <-r.kick:
			if !failed { // after a failure, wait for the next interval
				failed = !r.report(ctx, false)
			}
		case <-t.C:
			failed = !r.report(ctx, true)
		}
	}
}

// report sends the queued refusals and, with counts, what was counted; it
// reports whether the CA took everything.
func (r *reporter) report(ctx context.Context, counts bool) bool {
	r.mu.Lock()
	queue := r.queue
	r.queue = nil
	carry := r.carry
	r.carry = nil
	dropped := r.dropped
	r.dropped = 0
	r.mu.Unlock()
	if dropped > 0 {
		r.log.Warn("refusals not reported: too many waiting for the CA", "dropped", dropped)
	}
	var all []wire.RefusalCount
	if counts {
		all = mergeCounts(carry, fromTally(r.counts.Drain()))
	} else {
		all = carry
	}
	for len(queue) > 0 || len(all) > 0 {
		var batch wire.BastionRefusals
		n, m := min(len(queue), refusalsPerReport), min(len(all), countsPerReport)
		batch.Refusals, batch.Counts = queue[:n], all[:m]
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.ca.ReportRefusals(cctx, batch)
		cancel()
		if err != nil {
			r.log.Warn("reporting refusals to the CA failed; kept for the next try", "refusals", len(queue), "counts", len(all), "err", err)
			r.mu.Lock()
			r.queue = append(queue, r.queue...)
			if len(r.queue) > maxQueuedRefusals {
				r.dropped += len(r.queue) - maxQueuedRefusals
				r.queue = r.queue[:maxQueuedRefusals]
			}
			r.carry = mergeCounts(all, r.carry)
			r.mu.Unlock()
			return false
		}
		queue, all = queue[n:], all[m:]
	}
	return true
}

func fromTally(cs []tally.Count) []wire.RefusalCount {
	out := make([]wire.RefusalCount, len(cs))
	for i, c := range cs {
		out[i] = wire.RefusalCount{Source: c.Source, Reason: c.Reason, Count: c.N, First: c.First, Last: c.Last}
	}
	return out
}

// mergeCounts adds b's counts to a's, pair by pair, keeping at most
// maxRefusalPairs pairs (the rest under tally.Overflow).
func mergeCounts(a, b []wire.RefusalCount) []wire.RefusalCount {
	type key struct{ source, reason string }
	out := append([]wire.RefusalCount(nil), a...)
	at := map[key]int{}
	for i, c := range out {
		at[key{c.Source, c.Reason}] = i
	}
	for _, c := range b {
		k := key{c.Source, c.Reason}
		if _, ok := at[k]; !ok && len(out) >= maxRefusalPairs {
			k.source = tally.Overflow
		}
		if i, ok := at[k]; ok {
			out[i].Count += c.Count
			out[i].First = minTime(out[i].First, c.First)
			out[i].Last = maxTime(out[i].Last, c.Last)
			continue
		}
		at[k] = len(out)
		c.Source = k.source
		out = append(out, c)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
