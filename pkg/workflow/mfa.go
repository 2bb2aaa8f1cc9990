package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"time"
)

func mfaAD(user string) []byte { return []byte("lockbox-mfa:" + user) }

// EnrollMFA makes a new TOTP secret for the actor and returns its otpauth
// URI. A user already enrolled must give a current code from the old
// secret, so a stolen identity key alone cannot move someone's second
// factor to the thief's phone.
func (s *Service) EnrollMFA(ctx context.Context, actor Actor, code string) (string, error) {
	if !actor.IsUser() {
		return "", fmt.Errorf("%w: only people enroll", ErrForbidden)
	}
	user := actor.User()
	var uri string
	err := s.update(ctx, func(tx store.Tx) error {
		now := s.now()
		old, err := tx.MFA(user)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := s.checkCode(tx, old, code); err != nil {
				return s.refuse(tx, actor, "mfa.refused", user, fmt.Errorf("%w: to enroll again give a current code (--code)", ErrMFAEnrolled), nil)
			}
		}
		secret, u, err := totp.NewSecret("Lockbox", user, s.cfg.Rand)
		if err != nil {
			return err
		}
		uri = u
		setResult(ctx, u)
		if err := tx.PutMFA(&store.MFA{User: user, Secret: s.cfg.Secrets.Seal(secret, mfaAD(user)), LastStep: 0, EnrolledAt: now}); err != nil {
			return err
		}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "mfa.enrolled", Subject: user})
	})
	if err != nil {
		return "", err
	}
	return uri, nil
}

// CheckMFA checks user's TOTP code, as a second factor at the bastion or
// the web form's login. A code is good once. Failures are counted in the
// store, per person and per person and address (per address only for
// users the policy does not know; see throttles), and past a few, further
// attempts are refused for a while that doubles with each failure.
func (s *Service) CheckMFA(ctx context.Context, actor Actor, user, code, addr string) error {
	return s.update(ctx, func(tx store.Tx) error {
		detail := map[string]any{"client": addr}
		why, err := s.verifyCode(tx, user, code, addr, detail)
		if err != nil {
			return err
		}
		if why != nil {
			return s.refuse(tx, actor, "mfa.refused", user, why, detail)
		}
		return nil
	})
}

// verifyCode is the one check of a TOTP code, for CheckMFA and for step-up
// (stepUp): inside tx, it refuses while the person is throttled, then
// checks code and spends its time step, so a code works once. A wrong code
// (or a user not enrolled) counts a failure; a good one clears the
// person's counts. It returns why the code is refused (for the caller to
// audit, with what detail gained) or an error that is not a refusal.
func (s *Service) verifyCode(tx store.Tx, user, code, addr string, detail map[string]any) (why, err error) {
	ths := s.throttles("", user, addr)
	now := s.now()
	th, wait, err := blocking(tx, ths, now)
	if err != nil {
		return nil, err
	}
	if th != nil {
		detail["throttled"] = th.scope
		wait = wait.Round(time.Second)
		return fmt.Errorf("%w: too many wrong codes; try again in %v", ErrThrottled, wait), nil
	}
	m, err := tx.MFA(user)
	if err == nil {
		err = s.checkCode(tx, m, code)
	} else if errors.Is(err, store.ErrNotFound) {
		err = ErrMFANotEnrolled
	}
	if err == nil {
		return nil, clearThrottles(tx, ths) // success clears the person's counts
	}
	if !errors.Is(err, ErrMFACode) && !errors.Is(err, ErrMFANotEnrolled) {
		return nil, err
	}
	if terr := countFailures(tx, ths, now); terr != nil {
		return nil, terr
	}
	return err, nil
}

// checkCode validates code and spends its time step.
func (s *Service) checkCode(tx store.Tx, m *store.MFA, code string) error {
	secret, err := s.cfg.Secrets.Open(m.Secret, mfaAD(m.User))
	if err != nil {
		return fmt.Errorf("opening %s's MFA secret: %w", m.User, err)
	}
	step, err := totp.Validate(secret, code, s.now(), m.LastStep)
	if err != nil {
		return codeRefused{err}
	}
	if err := tx.AdvanceMFAStep(m.User, step); err != nil {
		return codeRefused{err}
	}
	return nil
}

// codeRefused is ErrMFACode as the person reads it, said once (the cause,
// "totp: invalid code", would say it twice); errors.Is still finds the
// cause.
type codeRefused struct{ cause error }

func (e codeRefused) Error() string   { return ErrMFACode.Error() }
func (e codeRefused) Unwrap() []error { return []error{ErrMFACode, e.cause} }

// UseNonce records a signed API call's nonce in the store, so a replay is
// refused by every CA replica. It implements apiauth.NonceStore.
func (s *Service) UseNonce(ctx context.Context, principal, nonce string, expires time.Time) error {
	return s.cfg.Store.Update(ctx, func(tx store.Tx) error { return tx.UseNonce(principal, nonce, expires) })
}
