// Package client is a Go client of the CA's HTTP API, used by the lockbox
// CLI and the bastion. Every call is signed with an SSH key (package
// apiauth).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Client talks to one CA.
type Client struct {
	base   *url.URL
	http   *http.Client
	signer *apiauth.Signer
	retry  Retry
	keys   keySource
}

// New returns a client of the CA at baseURL (e.g. "http://127.0.0.1:7443")
// that signs with signer (nil for the public calls only).
func New(baseURL string, signer *apiauth.Signer, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("CA URL %q: want http(s)://host:port", baseURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, http: hc, signer: signer}, nil
}

// Error is an error the CA answered with.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// IsCode reports whether err is an API error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// do sends one call. in, if not nil, is sent as JSON; out, if not nil,
// receives the JSON answer.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	signed := c.signer != nil && !strings.HasPrefix(path, "/v1/ca") && path != "/v1/krl"
	attempt := func(key string) error {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set(apiauth.IdempotencyKeyHeader, key)
			// net/http would resend a request with an Idempotency-Key
			// by itself when a reused connection fails, with the same
			// signature, which the CA refuses as a replay once it has
			// seen the nonce. withRetry sends it again, signed afresh.
			req.GetBody = nil
		}
		if signed {
			if err := c.signer.Sign(req, body); err != nil {
				return fmt.Errorf("signing the request: %w", err)
			}
		}
		return c.send(req, out)
	}
	if !signed || !stateChanging(method) {
		return attempt("")
	}
	return c.withRetry(ctx, attempt)
}

// The largest answers the client reads: JSON answers, and raw ones (a
// recording, at most the CA's largest upload, uploads.max_bytes' default).
// A larger answer is an error, never cut short in silence.
const (
	maxAnswer    = 64 << 20
	maxRawAnswer = 4 << 30
)

// send sends a signed request and decodes the answer into out.
func (c *Client) send(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return &sendError{err}
	}
	defer resp.Body.Close()
	limit := int64(maxAnswer)
	_, raw := out.(*[]byte)
	if raw && resp.StatusCode < 300 {
		limit = maxRawAnswer
	}
	buf := answerBuffer(raw)
	defer putAnswerBuffer(buf, raw)
	data, err := readAnswer(buf, resp, limit)
	if err != nil {
		return &sendError{fmt.Errorf("reading the answer: %w", err)}
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("the CA's answer is larger than %d bytes, more than this client reads", limit)
	}
	if resp.StatusCode >= 300 {
		var e wire.Error
		if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
			return &Error{Status: resp.StatusCode, Code: "http", Message: fmt.Sprintf("the CA answered %s", resp.Status)}
		}
		return &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	if b, ok := out.(*[]byte); ok {
		*b = data
		return nil
	}
	if f, ok := out.(onePass); ok {
		if err := jsonv2.Unmarshal(data, f.v); err != nil {
			return fmt.Errorf("decoding the CA's answer: %w", err)
		}
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the CA's answer: %w", err)
	}
	return nil
}

// readAnswer reads up to limit+1 bytes of resp's body, into a buffer of
// the size the answer announces (rather than one grown and copied over
// and over: a live read's answer is up to 350 KiB).
func readAnswer(buf *bytes.Buffer, resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	return buf.Bytes(), err
}

// answerBuffers holds the buffers JSON answers are read into, which are
// decoded (copied) before send returns: a bastion sends the CA a live
// report five times a second and a heartbeat every two, each answered
// with an entry for every session it runs. A raw answer (*[]byte) is the
// caller's, so it gets a buffer of its own.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledAnswer bounds the buffers kept for reuse: a rare large answer
// (an audit chain, a live read) is not kept until the next collection.
const maxPooledAnswer = 1 << 20

func answerBuffer(raw bool) *bytes.Buffer {
	if raw {
		return new(bytes.Buffer)
	}
	return answerBuffers.Get().(*bytes.Buffer)
}

func putAnswerBuffer(b *bytes.Buffer, raw bool) {
	if raw || b.Cap() > maxPooledAnswer {
		return
	}
	b.Reset()
	answerBuffers.Put(b)
}

// onePass asks send to decode the answer into v in one pass over it
// (github.com/go-json-experiment/json) rather than encoding/json's three
// (validate, unquote, decode base64): for answers made mostly of base64,
// a live read's output.
type onePass struct{ v any }
