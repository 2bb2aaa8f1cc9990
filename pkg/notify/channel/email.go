package channel

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/render"
)

// ErrNoAddress is a message none of whose recipients has an email
// address: permanent, as retrying will not give them one.
var ErrNoAddress = errors.New("notify: no recipient has an email address")

// email sends to the addresses of the message's recipients.
type email struct {
	name string
	smtp *notify.SMTP
}

func newEmail(e Endpoint) (*email, error) {
	if e.URL != "" || e.URLSecret != "" || e.Secret != "" {
		return nil, errors.New("email takes smtp settings, not url or secret")
	}
	s, err := notify.NewSMTP(e.SMTP)
	if err != nil {
		return nil, err
	}
	return &email{name: e.Name, smtp: s}, nil
}

func (c *email) Name() string { return c.name }

func (c *email) Deliver(ctx context.Context, m *notify.Message) error {
	e, err := render.Email(m)
	if err != nil {
		return invalid(err)
	}
	if len(e.To) == 0 {
		return &notify.Failure{Class: notify.Permanent, Err: fmt.Errorf("%w (message %s)", ErrNoAddress, m.Key)}
	}
	return c.smtp.Send(ctx, e)
}
