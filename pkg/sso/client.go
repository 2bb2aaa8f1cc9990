package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is what a Client needs. New checks it.
type Config struct {
	// Issuer is the provider's issuer URL, as its discovery document
	// (ISSUER/.well-known/openid-configuration) states it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this CA's callback, registered with the provider:
	// https://CA/ui/login/sso/callback.
	RedirectURL string
	// Scopes asked for besides "openid" (default "profile", "email").
	Scopes []string
	Claims ClaimMapping
	MFA    MFARule
	// ClockSkew is how far the provider's clock may be off: a token
	// expired less than this long ago, or issued up to this far in the
	// future, is accepted (default 1m, at most 5m).
	ClockSkew time.Duration
	// Timeout bounds each call to the provider (default 10s).
	Timeout    time.Duration
	HTTPClient *http.Client
	Now        func() time.Time
}

// Client runs sign-ins against one provider. Its discovery document is
// fetched at the first sign-in (and again after a failure), so a CA
// starts while the provider is down, and such a sign-in is refused with
// ErrUnreachable.
type Client struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.Issuer)
	switch {
	case cfg.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, fmt.Errorf("sso: issuer %q is not an http(s) URL", cfg.Issuer)
	case cfg.ClientID == "":
		return nil, errors.New("sso: client ID is required")
	case cfg.ClientSecret == "":
		return nil, errors.New("sso: client secret is required")
	case cfg.ClockSkew < 0 || cfg.ClockSkew > 5*time.Minute:
		return nil, errors.New("sso: clock skew must be between 0 and 5m")
	case cfg.Timeout < 0:
		return nil, errors.New("sso: timeout must not be negative")
	}
	if r, err := url.Parse(cfg.RedirectURL); cfg.RedirectURL == "" || err != nil || (r.Scheme != "https" && r.Scheme != "http") || r.Host == "" {
		return nil, fmt.Errorf("sso: redirect URL %q is not an http(s) URL", cfg.RedirectURL)
	}
	if err := cfg.MFA.check(); err != nil {
		return nil, err
	}
	cfg.Claims = cfg.Claims.withDefaults()
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"profile", "email"}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = time.Minute
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

// Issuer is the configured issuer URL.
func (c *Client) Issuer() string { return c.cfg.Issuer }

// context bounds a call to the provider and gives go-oidc and oauth2
// the client's HTTP client.
func (c *Client) context(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	return oidc.ClientContext(ctx, c.cfg.HTTPClient), cancel
}

func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %v", ErrUnreachable, c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *Client) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: c.cfg.Scopes}
}

// Start is a sign-in begun: send the browser to URL, and bind State,
// Nonce and Verifier to it (a short-lived HttpOnly cookie) for Finish.
type Start struct {
	URL                    string
	State, Nonce, Verifier string
}

// Begin starts a sign-in with a fresh state, nonce and PKCE verifier.
func (c *Client) Begin(ctx context.Context) (*Start, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	st := &Start{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	st.URL = c.oauth2(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return st, nil
}

// Callback is the provider's answer to a sign-in, and what the browser
// kept of its start.
type Callback struct {
	State, Code string // from the callback's query
	// Error and ErrorDescription: the provider's refusal, if any.
	Error, ErrorDescription string
	Start                   Start // from the browser's cookie
}

// Finish checks the callback against its start, exchanges the code (with
// the PKCE verifier), verifies the ID token and maps its claims.
func (c *Client) Finish(ctx context.Context, cb Callback) (*Identity, error) {
	if cb.Start.State == "" || subtle.ConstantTimeCompare([]byte(cb.State), []byte(cb.Start.State)) != 1 {
		return nil, ErrState
	}
	if cb.Error != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrProvider, clip(cb.Error), clip(cb.ErrorDescription))
	}
	if cb.Code == "" {
		return nil, fmt.Errorf("%w: no code in the callback", ErrCode)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	tok, err := c.oauth2(p).Exchange(ctx, cb.Code, oauth2.VerifierOption(cb.Start.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, fmt.Errorf("%w: %s %s", ErrCode, clip(re.ErrorCode), clip(re.ErrorDescription))
		}
		return nil, fmt.Errorf("%w: token endpoint: %v", ErrUnreachable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: the token response has no id_token", ErrToken)
	}
	return c.verify(ctx, p, raw, cb.Start.Nonce)
}

// verify checks the ID token's signature and issuer (go-oidc), then its
// audience, times and nonce here, each with its own error.
func (c *Client) verify(ctx context.Context, p *oidc.Provider, raw, nonce string) (*Identity, error) {
	now := c.cfg.Now()
	v := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, SkipClientIDCheck: true,
		Now: func() time.Time { return now.Add(-c.cfg.ClockSkew) }})
	t, err := v.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, fmt.Errorf("%w: at %s", ErrExpired, expired.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if err := c.checkAudience(t); err != nil {
		return nil, err
	}
	if t.IssuedAt.After(now.Add(c.cfg.ClockSkew)) {
		return nil, fmt.Errorf("%w: issued in the future, at %s", ErrExpired, t.IssuedAt.UTC().Format(time.RFC3339))
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return nil, ErrNonce
	}
	var payload json.RawMessage
	if err := t.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrClaims, err)
	}
	id, err := MapClaims(c.cfg.Claims, payload)
	if err != nil {
		return nil, err
	}
	id.Issuer, id.Subject, id.Expiry = t.Issuer, t.Subject, t.Expiry
	id.MFA = c.cfg.MFA.Satisfied(id.AMR, id.ACR)
	return id, nil
}

// checkAudience: the token must name this client among its audiences,
// and when it names others too, its azp must be this client (OpenID
// Connect Core 3.1.3.7).
func (c *Client) checkAudience(t *oidc.IDToken) error {
	if !slices.Contains(t.Audience, c.cfg.ClientID) {
		return fmt.Errorf("%w: audience %q, not %q", ErrAudience, t.Audience, c.cfg.ClientID)
	}
	if len(t.Audience) == 1 {
		return nil
	}
	var az struct {
		AZP string `json:"azp"`
	}
	if err := t.Claims(&az); err != nil || az.AZP != c.cfg.ClientID {
		return fmt.Errorf("%w: several audiences %q and azp %q", ErrAudience, t.Audience, az.AZP)
	}
	return nil
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
