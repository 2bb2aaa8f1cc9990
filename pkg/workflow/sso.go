package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Refusals of sign-ins through the identity provider.
var (
	// ErrSSOUnknownUser: the provider vouched for someone the policy
	// does not know.
	ErrSSOUnknownUser = errors.New("the identity provider signed in someone the Lockbox policy does not know")
	// ErrSSOPending: the code form's sign-in is gone (used, expired, or
	// never made); the person signs in at the provider again.
	ErrSSOPending = errors.New("this sign-in has expired or was used already; sign in again")
)

// DefaultSSOPendingFor is how long a sign-in through the provider waits
// for the Lockbox TOTP code.
const DefaultSSOPendingFor = 5 * time.Minute

// SSOLoginInput is a person the identity provider vouched for, with an
// ID token verified by the caller (pkg/sso).
type SSOLoginInput struct {
	User            string
	Issuer, Subject string
	// Groups: the token's groups claim, recorded as the user's directory
	// groups from the "oidc" source. GroupsOmitted: the provider left
	// them out (recorded as none, so no bound group counts).
	Groups        []string
	GroupsOmitted bool
	// MFA: the provider's MFA stands in for the TOTP code (config trusts
	// it and the token's amr/acr showed it). AMR and ACR are audited.
	MFA            bool
	AMR            []string
	ACR            string
	Addr           string // client IP
	Idle, Absolute time.Duration
	// PendingFor bounds the wait for the TOTP code (default
	// DefaultSSOPendingFor).
	PendingFor time.Duration
}

// SSOLogin is a sign-in through the provider: a web session, or (Pending
// set) a sign-in that waits for the person's TOTP code (SSOCode).
type SSOLogin struct {
	*WebLogin
	Pending string
}

func (in SSOLoginInput) detail() map[string]any {
	d := map[string]any{"client": in.Addr, "method": "oidc", "issuer": in.Issuer, "subject": in.Subject}
	if len(in.AMR) > 0 {
		d["amr"] = in.AMR
	}
	if in.ACR != "" {
		d["acr"] = in.ACR
	}
	if in.GroupsOmitted {
		d["groups_omitted"] = true
	}
	return d
}

// SSOLogin signs in a person the provider vouched for. Someone the policy
// does not know, or the directory disabled, is refused and audited
// (web.login.refused). With in.MFA the web session opens at once;
// otherwise a pending sign-in is stored and its token returned, for the
// TOTP code form; a person without TOTP enrolment is refused.
func (s *Service) SSOLogin(ctx context.Context, in SSOLoginInput) (*SSOLogin, error) {
	if in.Idle <= 0 || in.Absolute <= 0 {
		return nil, errors.New("workflow: web session lifetimes must be positive")
	}
	if in.PendingFor <= 0 {
		in.PendingFor = DefaultSSOPendingFor
	}
	actor := Actor("web:" + in.Addr)
	user := in.User
	if len(user) > maxWebUser {
		user = "(malformed)"
	}
	groups, err := ssoGroups(in)
	if err != nil {
		return nil, s.RecordRefusal(ctx, actor, "web.login.refused", user, err)
	}
	pending, pendingHash, err := s.newToken()
	if err != nil {
		return nil, err
	}
	var out *SSOLogin
	var members map[string][]string
	err = s.update(ctx, func(tx store.Tx) error {
		out, members = nil, nil
		now := s.now()
		detail := in.detail()
		if s.policy().Users[user] == nil {
			return s.refuse(tx, actor, "web.login.refused", user, fmt.Errorf("%w: %q", ErrSSOUnknownUser, user), detail)
		}
		if err := checkActive(tx, user); err != nil {
			return s.refuse(tx, actor, "web.login.refused", user, err, detail)
		}
		if in.MFA {
			detail["mfa"] = "provider"
			wl, m, err := s.openSSOSession(tx, user, groups, in.Addr, in.Idle, in.Absolute, detail)
			out, members = &SSOLogin{WebLogin: wl}, m
			return err
		}
		if _, err := tx.MFA(user); errors.Is(err, store.ErrNotFound) {
			return s.refuse(tx, actor, "web.login.refused", user,
				fmt.Errorf("%w: %s has no TOTP enrolment, which signing in through the identity provider still needs; enrol with lockbox mfa enroll", ErrMFANotEnrolled, user), detail)
		} else if err != nil {
			return err
		}
		if err := tx.PruneSSOPending(now); err != nil {
			return err
		}
		if err := tx.CreateSSOPending(&store.SSOPending{TokenHash: pendingHash, User: user, Groups: groups, Issuer: in.Issuer,
			Subject: in.Subject, Addr: in.Addr, CreatedAt: now, Expires: now.Add(in.PendingFor)}); err != nil {
			return err
		}
		out = &SSOLogin{Pending: pending}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "web.login.sso", Subject: user, Detail: detail})
	})
	if err == nil && members != nil {
		s.keepMemberships(members)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ssoGroups checks the token's groups as the directory's names are
// checked; none when the provider left them out.
func ssoGroups(in SSOLoginInput) ([]string, error) {
	if in.GroupsOmitted {
		return nil, nil
	}
	for _, g := range in.Groups {
		if err := checkDirectoryText("group", g, true); err != nil {
			return nil, err
		}
	}
	return in.Groups, nil
}

// SSOCodeInput is the TOTP code given after a sign-in through the
// provider.
type SSOCodeInput struct {
	Pending        string // the token SSOLogin returned
	Code           string
	Addr           string
	Idle, Absolute time.Duration
}

// SSOCode finishes a pending sign-in with the person's TOTP code. The
// pending sign-in is spent by the first try, right or wrong: a wrong code
// means signing in at the provider again, and counts as a failed login
// for the person's throttles.
func (s *Service) SSOCode(ctx context.Context, in SSOCodeInput) (*WebLogin, error) {
	if in.Idle <= 0 || in.Absolute <= 0 {
		return nil, errors.New("workflow: web session lifetimes must be positive")
	}
	if !validToken(in.Pending) {
		return nil, ErrSSOPending
	}
	actor := Actor("web:" + in.Addr)
	var out *WebLogin
	var members map[string][]string
	err := s.update(ctx, func(tx store.Tx) error {
		out, members = nil, nil
		now := s.now()
		p, err := tx.TakeSSOPending(TokenHash(in.Pending))
		if errors.Is(err, store.ErrNotFound) {
			return refusal{ErrSSOPending}
		}
		if err != nil {
			return err
		}
		detail := map[string]any{"client": in.Addr, "method": "oidc", "issuer": p.Issuer, "subject": p.Subject}
		if !now.Before(p.Expires) {
			return s.refuse(tx, actor, "web.login.refused", p.User, ErrSSOPending, detail)
		}
		ths := s.throttles("web-", p.User, in.Addr)
		if err := s.checkThrottles(tx, actor, p.User, ths, detail); err != nil {
			return err
		}
		if s.policy().Users[p.User] == nil {
			return s.refuse(tx, actor, "web.login.refused", p.User, fmt.Errorf("%w: %q", ErrSSOUnknownUser, p.User), detail)
		}
		if s.loginCode(tx, p.User, in.Code) != nil {
			if err := countFailures(tx, ths, now); err != nil {
				return err
			}
			detail["failed"] = "code"
			return s.refuse(tx, actor, "web.login.failed", p.User, ErrLoginFailed, detail)
		}
		if err := clearThrottles(tx, ths); err != nil {
			return err
		}
		if err := checkActive(tx, p.User); err != nil {
			return s.refuse(tx, actor, "web.login.refused", p.User, err, detail)
		}
		detail["mfa"] = "totp"
		out, members, err = s.openSSOSession(tx, p.User, p.Groups, in.Addr, in.Idle, in.Absolute, detail)
		return err
	})
	if err == nil && members != nil {
		s.keepMemberships(members)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// openSSOSession records the user's groups from the provider (source
// "oidc", replacing the last sign-in's), opens a web session with a new
// token and audits the login. It returns the directory membership to
// keep once the transaction commits.
func (s *Service) openSSOSession(tx store.Tx, user string, groups []string, addr string, idle, absolute time.Duration, detail map[string]any) (*WebLogin, map[string][]string, error) {
	now := s.now()
	token, tokenHash, err := s.newToken()
	if err != nil {
		return nil, nil, err
	}
	csrf, _, err := s.newToken()
	if err != nil {
		return nil, nil, err
	}
	if err := tx.SetDirectoryMemberships(user, store.SourceOIDC, groups, now); err != nil {
		return nil, nil, err
	}
	members, err := readMemberships(tx)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.PruneWebSessions(now); err != nil {
		return nil, nil, err
	}
	ws := &store.WebSession{TokenHash: tokenHash, User: user, CSRF: csrf, Addr: addr, CreatedAt: now, LastSeen: now,
		IdleUntil: now.Add(min(idle, absolute)), Expires: now.Add(absolute)}
	if err := tx.CreateWebSession(ws); err != nil {
		return nil, nil, err
	}
	detail["groups"] = groups
	if err := record(tx, audit.Event{Time: now, Actor: string(UserActor(user)), Action: "web.login", Subject: user, Detail: detail}); err != nil {
		return nil, nil, err
	}
	return &WebLogin{Token: token, Session: ws}, members, nil
}
