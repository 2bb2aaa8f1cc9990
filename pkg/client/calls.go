package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Submit asks for access. A rejection is an *Error whose Code names the
// reason (out_of_scope, over_max_duration, ...).
func (c *Client) Submit(ctx context.Context, in wire.SubmitRequest) (*wire.Request, error) {
	var out wire.Request
	return &out, c.do(ctx, http.MethodPost, "/v1/requests", nil, in, &out)
}

// List returns the requests the caller may see.
func (c *Client) List(ctx context.Context, mine, pending bool) ([]wire.Request, error) {
	q := url.Values{}
	if mine {
		q.Set("mine", "1")
	}
	if pending {
		q.Set("pending", "1")
	}
	var out wire.Requests
	return out.Requests, c.do(ctx, http.MethodGet, "/v1/requests", q, nil, &out)
}

// Get returns one request.
func (c *Client) Get(ctx context.Context, id string) (*wire.Request, error) {
	var out wire.Request
	return &out, c.do(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id), nil, nil, &out)
}

func (c *Client) decide(ctx context.Context, id, verb, reason string) (*wire.Request, error) {
	var out wire.Request
	return &out, c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(id)+"/"+verb, nil, wire.Decision{Reason: reason}, &out)
}

// Approve, Deny and Revoke decide on a request.
func (c *Client) Approve(ctx context.Context, id, reason string) (*wire.Request, error) {
	return c.ApproveWith(ctx, id, wire.ApproveRequest{Reason: reason})
}

// ApproveWith approves with a duration that shortens the grant, or a
// step-up code, as in gives them.
func (c *Client) ApproveWith(ctx context.Context, id string, in wire.ApproveRequest) (*wire.Request, error) {
	var out wire.Request
	return &out, c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(id)+"/approve", nil, in, &out)
}

func (c *Client) Deny(ctx context.Context, id, reason string) (*wire.Request, error) {
	return c.decide(ctx, id, "deny", reason)
}

func (c *Client) Revoke(ctx context.Context, id, reason string) (*wire.Request, error) {
	return c.decide(ctx, id, "revoke", reason)
}

// Certificate asks for a grant certificate for publicKey (an
// authorized_keys line).
func (c *Client) Certificate(ctx context.Context, id, publicKey string) (*wire.Certificate, error) {
	return c.CertificateWith(ctx, id, wire.CertificateRequest{PublicKey: publicKey})
}

// CertificateWith asks for a grant certificate with the body in (the key,
// and a step-up code for roles that ask for one).
func (c *Client) CertificateWith(ctx context.Context, id string, in wire.CertificateRequest) (*wire.Certificate, error) {
	var out wire.Certificate
	return &out, c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(id)+"/certificate", nil, in, &out)
}

// HopCertificate asks, as a bastion, for a per-session certificate.
func (c *Client) HopCertificate(ctx context.Context, id, resource, publicKey string) (*wire.Certificate, error) {
	var out wire.Certificate
	return &out, c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(id)+"/hop-certificate", nil,
		wire.HopCertificateRequest{Resource: resource, PublicKey: publicKey}, &out)
}

// Audit reads up to limit audit records after row after.
func (c *Client) Audit(ctx context.Context, after int64, limit int) ([]wire.AuditRecord, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(limit)}}
	var out wire.Audit
	return out.Records, c.do(ctx, http.MethodGet, "/v1/audit", q, nil, &out)
}

// VerifyAudit asks the CA to verify the whole audit chain.
func (c *Client) VerifyAudit(ctx context.Context) (*wire.AuditVerification, error) {
	var out wire.AuditVerification
	return &out, c.do(ctx, http.MethodGet, "/v1/audit/verify", nil, nil, &out)
}

// EnrollMFA enrolls the caller in TOTP; code is a current code when
// enrolling again.
func (c *Client) EnrollMFA(ctx context.Context, code string) (string, error) {
	var out wire.MFAEnrolled
	return out.URI, c.do(ctx, http.MethodPost, "/v1/mfa/enroll", nil, wire.MFAEnroll{Code: code}, &out)
}

// WhoAmI returns the principal the CA authenticated.
func (c *Client) WhoAmI(ctx context.Context) (string, error) {
	var out wire.WhoAmI
	return out.Principal, c.do(ctx, http.MethodGet, "/v1/whoami", nil, nil, &out)
}

// CAKeys returns the CA public keys (no signature needed).
func (c *Client) CAKeys(ctx context.Context) (*wire.CAKeys, error) {
	var out wire.CAKeys
	return &out, c.do(ctx, http.MethodGet, "/v1/ca", nil, nil, &out)
}

// KRL returns the current key revocation list (no signature needed).
func (c *Client) KRL(ctx context.Context) ([]byte, error) {
	var out []byte
	return out, c.do(ctx, http.MethodGet, "/v1/krl", nil, nil, &out)
}
