package workflow

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// BastionRefusal is a bastion's refusal of a known person: a login with a
// certificate the user CA signed (whose key the client proved it holds)
// that could not be used, or a channel or request of a logged-in person
// (forwarding, agent, X11, subsystems). Each becomes one audit row.
type BastionRefusal struct {
	Kind        string // RefusedLogin or RefusedChannel
	Time        time.Time
	User        string
	RequestID   string
	SessionID   string
	Login       string
	KeyID       string
	Serial      uint64
	Fingerprint string
	ClientAddr  string
	Type        string
	Target      string
	Reason      string
}

// Kinds of BastionRefusal, and the audit actions they become.
const (
	RefusedLogin   = "login"   // audited as login.refused
	RefusedChannel = "channel" // audited as channel.refused
)

// RefusalCount is how often a bastion refused connections from Source for
// Reason between First and Last, before anyone was known: one audit row
// (connection.refused) per source and reason per report.
type RefusalCount struct {
	Source, Reason string
	Count          int64
	First, Last    time.Time
}

// Bounds on one report, so that a bastion's report is one transaction of
// bounded size.
const (
	maxReportedRefusals = 100
	maxReportedCounts   = 1000
	maxReportedText     = 512
)

// RecordBastionRefusals writes a registered bastion's report of what it
// refused into the audit log, in one transaction.
func (s *Service) RecordBastionRefusals(ctx context.Context, actor Actor, refusals []BastionRefusal, counts []RefusalCount) error {
	if s.policy().Bastions[actor.Bastion()] == nil {
		return s.RecordRefusal(ctx, actor, "input.refused", "bastion refusals", fmt.Errorf("%w: %s", ErrNotBastion, actor))
	}
	if err := checkRefusalReport(refusals, counts); err != nil {
		return s.RecordRefusal(ctx, actor, "input.refused", "bastion refusals", err)
	}
	return s.update(ctx, func(tx store.Tx) error {
		now := s.now()
		for _, r := range refusals {
			if err := record(tx, refusalEvent(actor, r, now)); err != nil {
				return err
			}
		}
		for _, c := range counts {
			e := audit.Event{Time: now, Actor: string(actor), Action: "connection.refused", Subject: c.Source, Detail: map[string]any{
				"reason": c.Reason, "count": c.Count, "first": c.First.UTC().Format(time.RFC3339Nano), "last": c.Last.UTC().Format(time.RFC3339Nano)}}
			if err := record(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func refusalEvent(actor Actor, r BastionRefusal, now time.Time) audit.Event {
	action := "login.refused"
	if r.Kind == RefusedChannel {
		action = "channel.refused"
	}
	subject := r.RequestID
	if subject == "" {
		subject = r.User
	}
	d := map[string]any{"user": r.User, "client": r.ClientAddr, "reason": r.Reason, "at": r.Time.UTC().Format(time.RFC3339Nano)}
	for k, v := range map[string]string{"request": r.RequestID, "session": r.SessionID, "login": r.Login, "key_id": r.KeyID,
		"fingerprint": r.Fingerprint, "type": r.Type, "target": r.Target} {
		if v != "" {
			d[k] = v
		}
	}
	if r.Serial != 0 {
		d["serial"] = r.Serial
	}
	return audit.Event{Time: now, Actor: string(actor), Action: action, Subject: subject, Detail: d}
}

// checkRefusalReport bounds a report and its text: what a bastion reports
// is stored and later shown, so it must be short, valid UTF-8 without
// control characters.
func checkRefusalReport(refusals []BastionRefusal, counts []RefusalCount) error {
	if len(refusals) > maxReportedRefusals || len(counts) > maxReportedCounts {
		return fmt.Errorf("%w: at most %d refusals and %d counts per report", ErrBadInput, maxReportedRefusals, maxReportedCounts)
	}
	for _, r := range refusals {
		if r.Kind != RefusedLogin && r.Kind != RefusedChannel {
			return fmt.Errorf("%w: a refusal's kind is %q or %q", ErrBadInput, RefusedLogin, RefusedChannel)
		}
		if r.User == "" || r.Reason == "" {
			return fmt.Errorf("%w: a refusal names its user and reason", ErrBadInput)
		}
		for _, v := range []string{r.User, r.RequestID, r.SessionID, r.Login, r.KeyID, r.Fingerprint, r.ClientAddr, r.Type, r.Target, r.Reason} {
			if err := checkReportedText(v); err != nil {
				return err
			}
		}
	}
	for _, c := range counts {
		if c.Count < 1 || c.Source == "" || c.Reason == "" {
			return fmt.Errorf("%w: a count names its source and reason and is at least 1", ErrBadInput)
		}
		for _, v := range []string{c.Source, c.Reason} {
			if err := checkReportedText(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkReportedText(v string) error {
	switch {
	case len(v) > maxReportedText:
		return fmt.Errorf("%w: a reported field is longer than %d bytes", ErrBadInput, maxReportedText)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: a reported field is not UTF-8", ErrBadInput)
	case strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || (c >= 0x7f && c < 0xa0) }):
		return fmt.Errorf("%w: a reported field holds control characters", ErrBadInput)
	}
	return nil
}
