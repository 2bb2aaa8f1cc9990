package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Live view calls.

// ReportLive sends, as a bastion, its running sessions' output since the
// last report, and learns who watches them and which a watcher ended.
func (c *Client) ReportLive(ctx context.Context, r wire.LiveReport) (map[string]wire.LiveFeedAnswer, error) {
	var out wire.LiveReportResult
	return out.Sessions, c.do(ctx, http.MethodPost, "/v1/bastion/live", nil, r, &out)
}

// LiveSessions lists the running sessions the caller may watch.
func (c *Client) LiveSessions(ctx context.Context) ([]wire.LiveSession, error) {
	var out wire.LiveSessions
	return out.Sessions, c.do(ctx, http.MethodGet, "/v1/live", nil, nil, &out)
}

// StartWatch starts watching session id; via is "cli" or "web".
func (c *Client) StartWatch(ctx context.Context, id, via string) (*wire.Watch, error) {
	var out wire.Watch
	return &out, c.do(ctx, http.MethodPost, "/v1/sessions/"+url.PathEscape(id)+"/watch", nil, wire.WatchStart{Via: via}, &out)
}

// ReadLive reads session id's output after offset after (-1: from the
// oldest the CA keeps) for watch, waiting up to wait for some.
func (c *Client) ReadLive(ctx context.Context, id, watch string, after int64, wait time.Duration) (*wire.LiveOutput, error) {
	q := url.Values{"watch": {watch}, "after": {strconv.FormatInt(after, 10)}, "wait": {wait.String()}}
	var out wire.LiveOutput
	return &out, c.do(ctx, http.MethodGet, "/v1/sessions/"+url.PathEscape(id)+"/live", q, nil, onePass{&out})
}

// StopWatch ends a watch.
func (c *Client) StopWatch(ctx context.Context, id, watch string) error {
	return c.do(ctx, http.MethodPost, "/v1/sessions/"+url.PathEscape(id)+"/watch/"+url.PathEscape(watch)+"/stop", nil, struct{}{}, nil)
}

// EndWatched ends running session id, as a watcher, with a reason.
func (c *Client) EndWatched(ctx context.Context, id, reason string) error {
	return c.do(ctx, http.MethodPost, "/v1/sessions/"+url.PathEscape(id)+"/live/end", nil, wire.LiveEnd{Reason: reason}, nil)
}
