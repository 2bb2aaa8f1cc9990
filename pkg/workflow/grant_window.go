package workflow

import (
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Window is a grant's validity, [NotBefore, NotAfter). The certificate's
// skew allowance is not part of it.
type Window struct {
	NotBefore, NotAfter time.Time
	// IfApprovedNow marks the window a pending request would have if the
	// approval that completes it came at the moment the view was made.
	IfApprovedNow bool
}

// grantWindow is the window of request r approved at approvedAt: from the
// approval, for the duration asked. It is the one place that says so, for
// the grant startGrant starts and for the window a pending request shows
// "if approved now".
func grantWindow(r *store.Request, approvedAt time.Time) Window {
	return Window{NotBefore: approvedAt, NotAfter: approvedAt.Add(r.Duration)}
}

// windowOf is r's window for a reader at now: the grant's own once
// approved (also after it ended), the one it would have if approved now
// while pending, none otherwise.
func windowOf(r *store.Request, now time.Time) *Window {
	switch {
	case r.State == store.Pending:
		w := grantWindow(r, now)
		w.IfApprovedNow = true
		return &w
	case !r.NotAfter.IsZero():
		return &Window{NotBefore: r.NotBefore, NotAfter: r.NotAfter}
	}
	return nil
}
