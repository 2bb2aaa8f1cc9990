package client

import (
	"context"
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Calls only bastions make, besides the session calls.

// ReportRefusals hands the CA what the bastion refused, for its audit log.
func (c *Client) ReportRefusals(ctx context.Context, r wire.BastionRefusals) error {
	return c.do(ctx, http.MethodPost, "/v1/bastion/refusals", nil, r, nil)
}

// CheckSession asks whether a session could start now (grant live, lease
// free), consuming nothing.
func (c *Client) CheckSession(ctx context.Context, in wire.SessionCheck) error {
	return c.do(ctx, http.MethodPost, "/v1/sessions/check", nil, in, nil)
}

// ReportBreakGlassSession reports a session the bastion opened with a
// break-glass certificate while the CA was down. Reporting it again
// changes nothing; a report the CA refuses fails with the code
// break_glass_refused, and sending it again will not help.
func (c *Client) ReportBreakGlassSession(ctx context.Context, in wire.BreakGlassSession) error {
	return c.do(ctx, http.MethodPost, "/v1/bastion/break-glass-sessions", nil, in, nil)
}
