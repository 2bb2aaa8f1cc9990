package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Review returns the access review of the teams the caller may review,
// or of team alone; with unused > 0, only the memberships with nothing
// used within that period.
func (c *Client) Review(ctx context.Context, team string, unused time.Duration) (*wire.Review, error) {
	q := url.Values{}
	if team != "" {
		q.Set("team", team)
	}
	if unused > 0 {
		q.Set("unused", unused.String())
	}
	var out wire.Review
	return &out, c.do(ctx, http.MethodGet, "/v1/review", q, nil, &out)
}

// DecideReview records keep or remove, with a reason, on a membership.
func (c *Client) DecideReview(ctx context.Context, in wire.ReviewDecide) (*wire.ReviewVerdict, error) {
	var out wire.ReviewVerdict
	return &out, c.do(ctx, http.MethodPost, "/v1/review/decisions", nil, in, &out)
}

// ReviewExport returns the standing decisions and the policy patch that
// removes what is marked remove.
func (c *Client) ReviewExport(ctx context.Context, team string) (*wire.ReviewExport, error) {
	q := url.Values{}
	if team != "" {
		q.Set("team", team)
	}
	var out wire.ReviewExport
	return &out, c.do(ctx, http.MethodGet, "/v1/review/export", q, nil, &out)
}
