package workflow

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Authorities are the CA keys the workflow signs with and publishes. Each
// CA signs with one key; during a key rotation it has one more key that is
// published, trusted and covered by the KRL but signs nothing: the next key
// (prepared) or the previous one (until retired).
type Authorities struct {
	UserCA, HopCA, HostCA ssh.Signer // HostCA may be nil
	User, Hop, Host       []ssh.PublicKey
}

// UserKeys, HopKeys and HostKeys list the keys of one CA to trust now,
// the signing key first.
func (a Authorities) UserKeys() []ssh.PublicKey { return trusted(a.UserCA, a.User) }

// HopKeys: see UserKeys.
func (a Authorities) HopKeys() []ssh.PublicKey { return trusted(a.HopCA, a.Hop) }

// HostKeys: see UserKeys; empty without a host CA.
func (a Authorities) HostKeys() []ssh.PublicKey { return trusted(a.HostCA, a.Host) }

func trusted(s ssh.Signer, others []ssh.PublicKey) []ssh.PublicKey {
	if s == nil {
		return nil
	}
	return append([]ssh.PublicKey{s.PublicKey()}, others...)
}

// check refuses missing signers, a key that is a certificate, and any key
// that appears twice: the three CAs must never share a key, even across a
// rotation (the bastion would take a hop certificate for a grant).
func (a *Authorities) check() error {
	if a.UserCA == nil || a.HopCA == nil {
		return errors.New("workflow: the user and hop CA keys are required")
	}
	if a.HostCA == nil && len(a.Host) > 0 {
		return errors.New("workflow: host CA keys to trust but no host CA signer")
	}
	seen := map[string]string{}
	for kind, keys := range map[string][]ssh.PublicKey{"user": a.UserKeys(), "hop": a.HopKeys(), "host": a.HostKeys()} {
		for _, k := range keys {
			if k == nil {
				return fmt.Errorf("workflow: a nil %s CA key", kind)
			}
			if _, ok := k.(*ssh.Certificate); ok {
				return fmt.Errorf("workflow: a %s CA key is a certificate", kind)
			}
			fp := string(k.Marshal())
			if other, ok := seen[fp]; ok {
				return fmt.Errorf("workflow: the user, hop and host CAs must be different keys: %s is both a %s and a %s CA key", ssh.FingerprintSHA256(k), other, kind)
			}
			seen[fp] = kind
		}
	}
	return nil
}

// Authorities returns the CA keys in use now.
func (s *Service) Authorities() Authorities { return *s.keys.Load() }

// SetAuthorities replaces the CA keys: new certificates are signed with
// a's signers from the next issuance on, and /v1/ca and the KRL follow. It
// refuses keys that check would refuse, keeping the old ones, and audits
// the change as ca.keys.loaded by actor with each CA's fingerprints. The audit row is written first: a store that cannot take
// it leaves the old keys in use.
func (s *Service) SetAuthorities(ctx context.Context, actor Actor, a Authorities) error {
	if err := a.check(); err != nil {
		return err
	}
	err := s.update(ctx, func(tx store.Tx) error {
		return record(tx, audit.Event{Time: s.now(), Actor: string(actor), Action: "ca.keys.loaded", Subject: "ca",
			Detail: authorityDetail(&a)})
	})
	if err != nil {
		return fmt.Errorf("auditing the new CA keys (the old ones stay in use): %w", err)
	}
	s.keys.Store(&a)
	return nil
}

// authorityDetail names each CA's keys by fingerprint, the signing key
// first.
func authorityDetail(a *Authorities) map[string]any {
	d := map[string]any{}
	for kind, keys := range map[string][]ssh.PublicKey{"user": a.UserKeys(), "hop": a.HopKeys(), "host": a.HostKeys()} {
		fps := make([]string, len(keys))
		for i, k := range keys {
			fps[i] = ssh.FingerprintSHA256(k)
		}
		if len(fps) > 0 {
			d[kind] = fps
		}
	}
	return d
}

// RecordKeyStep audits one step of a CA key rotation an operator ran on
// the CA host (ca rotate): action is ca.key.prepared, ca.key.rotated or
// ca.key.retired, subject the CA ("user", "hop" or "host"), and the detail
// names the signing key and every key trusted after the step.
func (s *Service) RecordKeyStep(ctx context.Context, operator, action, kind string, signing ssh.PublicKey, trusted []ssh.PublicKey, extra map[string]any) error {
	d := map[string]any{"signing": ssh.FingerprintSHA256(signing)}
	fps := make([]string, len(trusted))
	for i, k := range trusted {
		fps[i] = ssh.FingerprintSHA256(k)
	}
	d["trusted"] = fps
	for k, v := range extra {
		d[k] = v
	}
	return s.update(ctx, func(tx store.Tx) error {
		return record(tx, audit.Event{Time: s.now(), Actor: "operator:" + operator, Action: action, Subject: kind, Detail: d})
	})
}

// RecordOperatorAction audits an action an operator took on the CA host
// outside the API (ca backup, ca restore): actor "operator:NAME".
func (s *Service) RecordOperatorAction(ctx context.Context, operator, action, subject string, detail map[string]any) error {
	return s.update(ctx, func(tx store.Tx) error {
		return record(tx, audit.Event{Time: s.now(), Actor: "operator:" + operator, Action: action, Subject: subject, Detail: detail})
	})
}
