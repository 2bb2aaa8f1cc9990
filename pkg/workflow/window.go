package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Limits on a scheduled window's start, from the moment of submission: a
// start up to StartAllowance in the past counts as now (clocks and typing
// lag); one further back, or more than MaxStartAhead ahead, is rejected.
const (
	StartAllowance = 5 * time.Minute
	MaxStartAhead  = 30 * 24 * time.Hour
)

// Start is when a requested window starts: at At, or In after the request
// is submitted (by the CA's clock). The zero Start means at approval.
type Start struct {
	At time.Time
	In time.Duration
}

// IsZero reports whether s asks for the window to start at approval.
func (s Start) IsZero() bool { return s.At.IsZero() && s.In == 0 }

// ParseStart reads a requested start: "" (at approval), an RFC 3339 time
// ("2026-12-02T02:00:00Z"), or "+" and a positive Go duration ("+8h"),
// counted from submission. Errors wrap ErrBadInput.
func ParseStart(s string) (Start, error) {
	switch {
	case s == "":
		return Start{}, nil
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil || d <= 0 || strings.HasPrefix(s[1:], "+") || strings.HasPrefix(s[1:], "-") {
			return Start{}, fmt.Errorf("%w: start %q: after '+' give a positive duration such as +8h or +90m", ErrBadInput, clip.Runes(s, 40))
		}
		return Start{In: d}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return Start{}, fmt.Errorf("%w: start %q: give an RFC 3339 time such as 2026-12-02T02:00:00Z, or +DURATION such as +8h", ErrBadInput, clip.Runes(s, 40))
	}
	return Start{At: t.UTC()}, nil
}

// resolveStart turns st into the window's start for a request submitted
// at now, in whole seconds (as certificates count): zero for at approval
// (also for a start within StartAllowance before now), or a time after
// now. A start outside the limits wraps ErrBadStart.
func resolveStart(st Start, now time.Time) (time.Time, error) {
	if st.IsZero() {
		return time.Time{}, nil
	}
	at := st.At
	if at.IsZero() {
		if st.In < 0 {
			return time.Time{}, fmt.Errorf("%w: a relative start must be in the future", ErrBadStart)
		}
		at = now.Add(st.In)
	}
	at = at.Truncate(time.Second)
	switch {
	case at.Before(now.Add(-StartAllowance)):
		return time.Time{}, fmt.Errorf("%w: %s is in the past; give a future time, or no start for a window from approval", ErrBadStart, at.UTC().Format(time.RFC3339))
	case at.After(now.Add(MaxStartAhead)):
		return time.Time{}, fmt.Errorf("%w: %s is more than %s ahead; ask nearer the time", ErrBadStart, at.UTC().Format(time.RFC3339), days(MaxStartAhead))
	case !at.After(now):
		return time.Time{}, nil
	}
	return at.UTC(), nil
}

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d/(24*time.Hour))) }

// GrantDuration is how long request r's grant lasts given approvals: the
// requested duration, or the shortest duration any approver gave.
func GrantDuration(r *store.Request, approvals []store.Approval) time.Duration {
	d := r.Duration
	for _, a := range approvals {
		if a.Duration > 0 && a.Duration < d {
			d = a.Duration
		}
	}
	return d
}

// GrantWindow is the window request r's grant has if it is approved at
// at with approvals: from at (or r's chosen start, if later) to the start
// (at, or the chosen start) plus GrantDuration. A chosen start that has
// passed by at still ends the window where it was scheduled to end.
func GrantWindow(r *store.Request, approvals []store.Approval, at time.Time) (notBefore, notAfter time.Time) {
	d := GrantDuration(r, approvals)
	if r.Start.IsZero() {
		return at, at.Add(d)
	}
	notBefore = r.Start
	if at.After(notBefore) {
		notBefore = at
	}
	return notBefore, r.Start.Add(d)
}

// notLive says why r is not a live grant at now: ErrNotYetOpen, naming
// when the window opens, for a scheduled grant; ErrNotLive otherwise. It
// returns nil for a live grant.
func notLive(r *store.Request, now time.Time) error {
	switch {
	case r.Live(now):
		return nil
	case r.Scheduled(now):
		return fmt.Errorf("%w: %s: the window opens at %s (in %s)", ErrNotYetOpen, r.ID,
			r.NotBefore.UTC().Format(time.RFC3339), r.NotBefore.Sub(now).Round(time.Second))
	}
	return fmt.Errorf("%w: %s is %s", ErrNotLive, r.ID, grantState(r, now))
}
