package route

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// Options tune the channels Channels builds; the zero value is what the
// CA uses.
type Options struct {
	// Now is the clock for webhook signatures (default time.Now).
	Now func() time.Time
	// RootCAs, if set, are the only CAs trusted for https endpoints;
	// nil means the system's. (An email endpoint's smtp.ca_file sets its
	// own.)
	RootCAs *x509.CertPool
}

// Channels builds the channel of every endpoint in p's notifications
// section, by name, resolving their secrets (files and environment
// variables). It fails if any endpoint cannot be built, with every
// problem, one per line, each as FILE:LINE of the endpoint's name.
func Channels(p *policy.Policy, o Options) (map[string]channel.Channel, error) {
	out := map[string]channel.Channel{}
	var errs []error
	for _, e := range p.Notifications.Endpoints {
		c, err := build(e, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.At, err))
			continue
		}
		out[e.Name] = c
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Check builds p's channels and drops them: what ca policy check and a
// (re)load do, so that a missing secret is found before it is needed.
func Check(p *policy.Policy) error {
	_, err := Channels(p, Options{})
	return err
}

func build(e policy.NotifyEndpoint, o Options) (channel.Channel, error) {
	ce := channel.Endpoint{
		Name:           e.Name,
		Kind:           channel.Kind(e.Kind),
		URL:            e.URL,
		URLSecret:      notify.SecretRef(e.URLSecret),
		Secret:         notify.SecretRef(e.Secret),
		AllowPlainHTTP: e.AllowPlainHTTP,
		HTTP:           notify.HTTPConfig{Timeout: e.Timeout, RootCAs: o.RootCAs, Now: o.Now},
		Now:            o.Now,
	}
	if e.Kind == policy.EndpointEmail {
		s := e.SMTP
		ce.SMTP = notify.SMTPConfig{
			Host: s.Host, Port: s.Port, From: s.From, Security: notify.SMTPSecurity(s.Security),
			Username: s.Username, Password: notify.SecretRef(s.Password),
			MessageIDDomain: s.MessageIDDomain, Timeout: s.Timeout,
		}
		if s.CAFile != "" {
			pool, err := readCAs(s.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%w %s: smtp: ca_file: %w", channel.ErrConfig, e.Name, err)
			}
			ce.SMTP.RootCAs = pool
		}
	}
	return channel.New(ce)
}

// readCAs reads a PEM file of CA certificates.
func readCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
