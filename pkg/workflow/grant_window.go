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

// windowOf is r's window for a reader at now: the grant's own once
// approved (also after it ended), the one GrantWindow gives it if the
// approval that completes it came now while pending, none otherwise.
func windowOf(r *store.Request, approvals []store.Approval, now time.Time) *Window {
	switch {
	case r.State == store.Pending:
		nb, na := GrantWindow(r, approvals, now)
		return &Window{NotBefore: nb, NotAfter: na, IfApprovedNow: true}
	case !r.NotAfter.IsZero():
		return &Window{NotBefore: r.NotBefore, NotAfter: r.NotAfter}
	}
	return nil
}
