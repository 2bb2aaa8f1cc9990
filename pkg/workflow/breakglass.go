package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Break-glass, once the CA is back: the issuances ca break-glass recorded
// while it was down (RecordBreakGlassIssued, at start) and the sessions
// bastions opened with those certificates (ReportBreakGlassSession) are
// audited and notified (notify.BreakGlass). The CA made neither, so it
// trusts a report only as far as it can check it: the certificate must be
// one its user CA signed for the reporting bastion.

// ErrBreakGlassRefused is a break-glass session report the CA does not
// take (audited as breakglass.refused). Sending it again will not help.
var ErrBreakGlassRefused = errors.New("break-glass session report refused")

// breakGlassSessionID is the shape of the session IDs bastions make for
// break-glass sessions ("bg-" and 24 hex digits).
var breakGlassSessionID = regexp.MustCompile(`^bg-[0-9a-f]{24}$`)

// ValidBreakGlassSessionID reports whether id has the shape of a
// break-glass session's ID.
func ValidBreakGlassSessionID(id string) bool { return breakGlassSessionID.MatchString(id) }

// BreakGlassRequestPrefix starts the request ID a break-glass session is
// stored with ("break-glass/SERIAL"): there is no request, the
// certificate stands in for it.
const BreakGlassRequestPrefix = breakglass.KeyIDPrefix

// Bounds on what a report may carry (the store's columns).
const (
	maxClientAddr = 128
	maxCommand    = 8 << 10
)

// BreakGlassReport is a bastion's report of a session it opened with a
// break-glass certificate.
type BreakGlassReport struct {
	SessionID   string
	Certificate string // authorized_keys line
	ClientAddr  string
	Command     string
	StartedAt   time.Time
	EndedAt     time.Time // clamped to [StartedAt, now]
	EndReason   string
	ExitStatus  *int
}

// ReportBreakGlassSession stores a break-glass session a bastion reports,
// ended, and audits it as breakglass.session and notifies it, in one
// transaction. It refuses (ErrBreakGlassRefused, audited as
// breakglass.refused) a caller that is not a registered bastion, and a
// certificate that breakglass.Verify does not take for that bastion at the
// session's start: not signed by a user CA key trusted now (a rotation's
// keys included), not a break-glass certificate, for another bastion, or
// not valid then. Reporting the same session again changes nothing.
func (s *Service) ReportBreakGlassSession(ctx context.Context, actor Actor, in BreakGlassReport) error {
	const refused = "breakglass.refused"
	subject := clip.Bytes(in.SessionID, 64)
	detail := map[string]any{"client": clip.Bytes(in.ClientAddr, maxClientAddr), "started": in.StartedAt.UTC().Format(time.RFC3339)}
	refuse := func(why error) error {
		return s.update(ctx, func(tx store.Tx) error {
			return s.refuse(tx, actor, refused, subject, fmt.Errorf("%w: %w", ErrBreakGlassRefused, why), detail)
		})
	}
	b := s.policy().Bastions[actor.Bastion()]
	if b == nil {
		return refuse(fmt.Errorf("%w: %s", ErrNotBastion, actor))
	}
	now := s.now()
	switch {
	case !ValidBreakGlassSessionID(in.SessionID):
		return refuse(fmt.Errorf("%w: %q is not a break-glass session ID", ErrBadInput, clip.Bytes(in.SessionID, 40)))
	case len(in.ClientAddr) > maxClientAddr || len(in.Command) > maxCommand:
		return refuse(fmt.Errorf("%w: the client address or the command is too long", ErrBadInput))
	case in.StartedAt.IsZero() || in.StartedAt.After(now):
		return refuse(fmt.Errorf("%w: no start, or a start in the future", ErrBadInput))
	}
	cert, g, err := breakglass.Verify(in.Certificate, s.Authorities().UserKeys(), b.Name, b.Keys, in.StartedAt)
	if err != nil {
		return refuse(err)
	}
	serial := strconv.FormatUint(cert.Serial, 10)
	start, end := in.StartedAt.UTC(), in.EndedAt.UTC()
	if end.IsZero() || end.After(now) {
		end = now
	}
	end = maxTime(end, start)
	reason := clip.Bytes(cmp.Or(in.EndReason, "unknown"), maxDecisionReason)
	sess := &store.Session{ID: in.SessionID, User: g.User, RequestID: BreakGlassRequestPrefix + serial, Resource: g.Resource,
		Role: g.Role, Bastion: b.Name, ClientAddr: in.ClientAddr, Command: in.Command, StartedAt: start, EndedAt: end, EndReason: reason}
	return s.update(ctx, func(tx store.Tx) error {
		had, err := tx.Session(sess.ID)
		switch {
		case err == nil && had.Bastion == sess.Bastion && had.RequestID == sess.RequestID:
			return nil // reported already: the bastion retried
		case err == nil:
			return s.refuse(tx, actor, refused, in.SessionID, fmt.Errorf("%w: session %s exists already", ErrBreakGlassRefused, sess.ID), detail)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		d := map[string]any{"user": g.User, "role": g.Role, "resource": g.Resource, "reason": g.Reason, "serial": serial,
			"client": in.ClientAddr, "command": in.Command, "started": start.Format(time.RFC3339Nano),
			"ended": end.Format(time.RFC3339Nano), "end_reason": reason, "bastion": b.Name,
			"not_after": g.NotAfter.UTC().Format(time.RFC3339)}
		if in.ExitStatus != nil {
			d["exit_status"] = *in.ExitStatus
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "breakglass.session", Subject: sess.ID, Detail: d}); err != nil {
			return err
		}
		use := glassUse(g, serial)
		use.Event, use.SessionID, use.Client, use.Command = notify.BreakGlassSession, sess.ID, in.ClientAddr, in.Command
		use.StartedAt, use.EndedAt, use.EndReason, use.ExitStatus = start, end, reason, in.ExitStatus
		return s.enqueue(tx, &notify.Message{Key: notify.NewKey(notify.BreakGlass, notify.BreakGlassSession, sess.ID),
			Kind: notify.BreakGlass, Time: now, BreakGlass: use}, sess.ID)
	})
}

// RecordBreakGlassIssued audits an issuance ca break-glass recorded while
// the CA was down, as breakglass.issued by operator:OPERATOR (who ran
// it), and notifies it, in one transaction.
func (s *Service) RecordBreakGlassIssued(ctx context.Context, r breakglass.Record) error {
	serial := strconv.FormatUint(r.Serial, 10)
	operator := cmp.Or(r.Operator, "unknown")
	detail := map[string]any{"user": r.User, "reason": r.Reason, "role": r.Role, "resource": r.Resource,
		"bastion": r.Bastion, "serial": serial, "fingerprint": r.Fingerprint,
		"issued": r.Issued.UTC().Format(time.RFC3339), "not_after": r.NotAfter.UTC().Format(time.RFC3339)}
	return s.update(ctx, func(tx store.Tx) error {
		now := s.now()
		err := record(tx, audit.Event{Time: now, Actor: "operator:" + operator, Action: "breakglass.issued",
			Subject: breakglass.KeyIDPrefix + r.User + "/" + r.Resource, Detail: detail})
		if err != nil {
			return err
		}
		use := glassUse(r.Grant, serial)
		use.Event, use.Operator = notify.BreakGlassIssued, operator
		return s.enqueue(tx, &notify.Message{Key: notify.NewKey(notify.BreakGlass, notify.BreakGlassIssued, serial),
			Kind: notify.BreakGlass, Time: now, BreakGlass: use}, BreakGlassRequestPrefix+serial)
	})
}

func glassUse(g breakglass.Grant, serial string) *notify.BreakGlassUse {
	return &notify.BreakGlassUse{User: g.User, Role: g.Role, Resource: g.Resource, Reason: g.Reason, Bastion: g.Bastion,
		Serial: serial, NotAfter: g.NotAfter}
}

func maxTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
