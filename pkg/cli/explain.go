package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/client"
)

// explain rewrites refusals whose cause lies on this side (who the CLI
// signs as, this machine's clock) into what to check, keeping the CA's
// code. Anything else passes unchanged.
func (a *app) explain(err error) error {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return err
	}
	w := a.who
	switch ce.Code {
	case "unknown_key":
		return &client.Error{Status: ce.Status, Code: ce.Code, Message: fmt.Sprintf(
			"the CA knows no user %q with key %s (from %s): check the user name (--user or LOCKBOX_USER), the key (--identity or LOCKBOX_IDENTITY), and that the CA's policy registers this key for this user",
			w.user, w.fingerprint, w.keyFrom)}
	case "stale_request":
		return &client.Error{Status: ce.Status, Code: ce.Code, Message: "the CA refused the call's time: this machine's clock is more than a minute from the CA's; set the clock right (NTP) and try again (" + ce.Message + ")"}
	}
	return err
}

// explainPending turns a grant_not_live refusal of request id into what to
// do instead when the request is in fact still pending; instead says what.
func explainPending(ctx context.Context, cl *client.Client, id string, err error, instead string) error {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "grant_not_live" {
		return err
	}
	req, gerr := cl.Get(ctx, id)
	if gerr != nil || req.State != "pending" {
		return err
	}
	return &client.Error{Status: ce.Status, Code: ce.Code, Message: fmt.Sprintf("%s is still pending approval; %s", id, instead)}
}
