package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// UserAgent is sent with every webhook delivery.
const UserAgent = "Lockbox-Notify/1"

// Defaults of HTTPConfig.
const (
	DefaultHTTPTimeout   = 10 * time.Second
	DefaultMaxRetryAfter = time.Hour
)

// What Post reads of an answer: a little for the error, more to let the
// connection be reused, nothing past that.
const (
	maxErrorBody = 512
	maxDrainBody = 64 << 10
)

// HTTPConfig configures a Poster.
type HTTPConfig struct {
	// Timeout bounds one attempt, from dialling to the end of the
	// answer's headers (default 10s).
	Timeout time.Duration
	// MaxRetryAfter caps how long a receiver may ask us to wait
	// (default 1h).
	MaxRetryAfter time.Duration
	// RootCAs, if set, are the only CAs trusted for https endpoints;
	// nil means the system's.
	RootCAs *x509.CertPool
	// Now is the clock for Retry-After dates (default time.Now).
	Now func() time.Time
}

// Poster sends webhook deliveries: one POST per call, redirects not
// followed, every failure a classified *Failure.
type Poster struct {
	client        *http.Client
	maxRetryAfter time.Duration
	now           func() time.Time
}

// NewPoster returns a Poster with cfg's defaults filled in.
func NewPoster(cfg HTTPConfig) *Poster {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultHTTPTimeout
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Poster{
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			// A redirect would carry a signed body somewhere not configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxRetryAfter: cfg.MaxRetryAfter,
		now:           cfg.Now,
	}
}

// CheckEndpointURL accepts an absolute https URL without user info, or
// http when allowPlainHTTP is set (a receiver on loopback, tests).
func CheckEndpointURL(raw string, allowPlainHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Host == "" || u.User != nil || (u.Scheme != "https" && (u.Scheme != "http" || !allowPlainHTTP)) {
		if u.Scheme == "http" {
			return errors.New("plain http is refused (use https, or allow_plain_http for a receiver on this machine)")
		}
		return errors.New("want an absolute https URL without user info")
	}
	return nil
}

// Post sends body to endpoint with header added to the request. It
// returns nil on any 2xx answer, and otherwise a *Failure: 408, 429 and
// 5xx are retryable (with the Retry-After asked for), redirects and other
// 4xx permanent, network errors and timeouts retryable, an untrusted
// certificate permanent. The endpoint is not part of the error, since
// for Slack and Teams the URL is itself a secret.
func (p *Poster) Post(ctx context.Context, endpoint string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return permanent(ErrRefused, "building the request: the endpoint URL is not valid")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return transportFailure(err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBody)) //nolint:errcheck // only for connection reuse
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return p.statusFailure(resp, snippet)
}

// statusFailure classifies a non-2xx answer.
func (p *Poster) statusFailure(resp *http.Response, snippet []byte) *Failure {
	code := resp.StatusCode
	detail := fmt.Sprintf("answered %s, body %q", resp.Status, snippet)
	switch {
	case code >= 300 && code < 400:
		return permanent(ErrRedirected, "answered %s; redirects are not followed", resp.Status)
	case code == http.StatusTooManyRequests:
		f := retryable(ErrRateLimited, "%s", detail)
		f.RetryAfter = p.retryAfter(resp.Header.Get("Retry-After"))
		return f
	case code == http.StatusRequestTimeout || code >= 500:
		f := retryable(ErrUnavailable, "%s", detail)
		f.RetryAfter = p.retryAfter(resp.Header.Get("Retry-After"))
		return f
	}
	return permanent(ErrRefused, "%s", detail)
}

// retryAfter reads a Retry-After value (seconds or an HTTP date) as a
// wait from now, capped at maxRetryAfter; zero when absent or invalid.
func (p *Poster) retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var wait time.Duration
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		wait = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		wait = t.Sub(p.now())
	}
	return max(0, min(wait, p.maxRetryAfter))
}

// transportFailure classifies an error of the HTTP client (no answer).
func transportFailure(err error) *Failure {
	if isCertificateError(err) {
		return permanent(ErrCertificate, "%v", scrubURL(err))
	}
	return retryable(ErrNetwork, "%v", scrubURL(err))
}

// scrubURL drops the URL from a *url.Error: for Slack and Teams the URL is
// a credential and must not reach the log.
func scrubURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
