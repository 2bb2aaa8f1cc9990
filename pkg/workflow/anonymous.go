package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/tally"
)

// DefaultAnonymousSources bounds the distinct (source, reason) pairs of
// anonymous refusals counted between two flushes when
// Config.AnonymousSources is 0; beyond it attempts count under the source
// "other".
const DefaultAnonymousSources = 4096

// ActionAnonymousRefused is the audit action of the one row per source and
// interval that sums up refusals of callers nobody authenticated.
const ActionAnonymousRefused = "anonymous.refused"

// CountAnonymousRefusal counts one refusal of a caller that is not known
// (no verified signature, no web session) from source (an IP address) for
// reason (a short, fixed code such as "bad_signature"). Nothing is written:
// FlushAnonymousRefusals audits the counts, one row per source, so that
// anonymous noise cannot grow the audit log or hold the store's writer. It
// reports whether this is the first such refusal of the pair since the
// last flush, so that the caller logs once per interval.
func (s *Service) CountAnonymousRefusal(source, reason string) (first bool) {
	return s.anonymous.Add(source, reason, s.now())
}

// FlushAnonymousRefusals audits what CountAnonymousRefusal counted since
// the last flush: one row per source (ActionAnonymousRefused, subject the
// source), with the number of refusals, per reason, and the first and last
// time. All rows are written in one transaction. If it fails, the counts
// are logged by the caller's logger instead (they are not counted again).
// cmd/ca calls it at an interval and at shutdown.
func (s *Service) FlushAnonymousRefusals(ctx context.Context, log *slog.Logger) (rows int, err error) {
	counts := s.anonymous.Drain()
	if len(counts) == 0 {
		return 0, nil
	}
	events := summarise(counts, s.now())
	err = s.update(ctx, func(tx store.Tx) error {
		for _, e := range events {
			if err := record(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if log != nil {
			for _, e := range events {
				log.Error("anonymous refusals could not be audited", "source", e.Subject, "count", e.Detail["count"], "reasons", e.Detail["reasons"])
			}
		}
		return 0, fmt.Errorf("auditing anonymous refusals: %w", err)
	}
	return len(events), nil
}

// summarise turns counts (ordered by source) into one event per source.
func summarise(counts []tally.Count, now time.Time) []audit.Event {
	var out []audit.Event
	for i := 0; i < len(counts); {
		src := counts[i].Source
		reasons := map[string]any{}
		var total int64
		first, last := counts[i].First, counts[i].Last
		for ; i < len(counts) && counts[i].Source == src; i++ {
			c := counts[i]
			reasons[c.Reason] = c.N
			total += c.N
			if c.First.Before(first) {
				first = c.First
			}
			if c.Last.After(last) {
				last = c.Last
			}
		}
		out = append(out, audit.Event{Time: now, Actor: "anonymous", Action: ActionAnonymousRefused, Subject: src,
			Detail: map[string]any{"count": total, "reasons": reasons,
				"first": first.UTC().Format(time.RFC3339Nano), "last": last.UTC().Format(time.RFC3339Nano)}})
	}
	return out
}
