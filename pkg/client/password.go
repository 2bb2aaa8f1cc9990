package client

import (
	"context"
	"net/http"
)

// passwordBody is the body of POST /v1/password (pkg/api/password.go).
type passwordBody struct {
	Password string `json:"password"`
}

// SetPassword sets the caller's password for the web form.
func (c *Client) SetPassword(ctx context.Context, password string) error {
	return c.do(ctx, http.MethodPost, "/v1/password", nil, passwordBody{Password: password}, nil)
}
