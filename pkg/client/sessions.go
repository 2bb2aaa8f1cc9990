package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// StartSession asks, as a bastion, to open a session.
func (c *Client) StartSession(ctx context.Context, in wire.SessionStart) (*wire.SessionGrant, error) {
	var out wire.SessionGrant
	return &out, c.do(ctx, http.MethodPost, "/v1/sessions", nil, in, &out)
}

// Heartbeat renews the bastion's sessions and learns which are still live.
func (c *Client) Heartbeat(ctx context.Context, ids []string) (map[string]wire.SessionStatus, error) {
	var out wire.HeartbeatResult
	return out.Sessions, c.do(ctx, http.MethodPost, "/v1/sessions/heartbeat", nil, wire.Heartbeat{Sessions: ids}, &out)
}

// EndSession records a session's end: why, and, if the bastion reports it
// late, when, and the exit status the client was given.
func (c *Client) EndSession(ctx context.Context, id string, end wire.SessionEnd) error {
	return c.do(ctx, http.MethodPost, "/v1/sessions/"+url.PathEscape(id)+"/end", nil, end, nil)
}

// CheckMFA asks the CA to check a user's TOTP code.
func (c *Client) CheckMFA(ctx context.Context, user, code, clientAddr string) error {
	return c.do(ctx, http.MethodPost, "/v1/mfa/check", nil, wire.MFACheck{User: user, Code: code, ClientAddr: clientAddr}, nil)
}

// UploadRecording sends the recording in f, from its start, for session id.
// f is read twice: once for its length and SHA-256, which the signature
// declares, then to send it; it must not change in between.
func (c *Client) UploadRecording(ctx context.Context, id string, f io.ReadSeeker) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	u := c.base.JoinPath("/v1/sessions/" + url.PathEscape(id) + "/recording")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), io.LimitReader(f, size))
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/x-asciicast")
	var digest [sha256.Size]byte
	h.Sum(digest[:0])
	// The signature covers the declared length and digest, so the CA
	// authenticates the upload before it reads a byte of it.
	if err := c.signer.SignStream(req, size, digest); err != nil {
		return err
	}
	return c.send(req, nil)
}

// SessionFilter selects sessions to list.
type SessionFilter struct {
	User, Resource, Ended string
	Since, Until          string // RFC 3339
	Open                  bool
	Limit                 int
}

// Sessions lists sessions (auditors: everyone's; others: their own).
func (c *Client) Sessions(ctx context.Context, f SessionFilter) ([]wire.Session, error) {
	q := url.Values{}
	for k, v := range map[string]string{"user": f.User, "resource": f.Resource, "ended": f.Ended, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Open {
		q.Set("open", "1")
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out wire.Sessions
	return out.Sessions, c.do(ctx, http.MethodGet, "/v1/sessions", q, nil, &out)
}

// Recording fetches a session's recording (asciicast v2).
func (c *Client) Recording(ctx context.Context, id string) ([]byte, error) {
	var out []byte
	err := c.do(ctx, http.MethodGet, "/v1/sessions/"+url.PathEscape(id)+"/recording", nil, nil, &out)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The CA cuts a recording short when, read back from its store, it
		// does not match what was stored, or the store failed mid-way.
		return nil, fmt.Errorf("fetching the recording of %s: the CA cut it short: it does not match the recording stored, "+
			"or the CA's recording store failed while sending it (the CA's log and audit say which)", id)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching the recording of %s: %w", id, err)
	}
	return out, nil
}
