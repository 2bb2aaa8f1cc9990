package workflow

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Errors of the web form's logins.
var (
	// ErrLoginFailed is the one answer to every failed login: unknown user,
	// no password set, wrong password, wrong or reused code.
	ErrLoginFailed = errors.New("wrong user name, password or code")
	// ErrWebSession: no such web session, or it ended (idle, expired,
	// logged out).
	ErrWebSession = errors.New("not logged in")
)

// Password length bounds, in bytes.
const (
	MinPassword = 12
	MaxPassword = 256
)

// PasswordParams are argon2id's costs. One hash with the defaults (64 MiB,
// one pass, two lanes) takes about 80 ms on a 2-core machine.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams are the costs new passwords are hashed with.
var DefaultPasswordParams = PasswordParams{Memory: 64 * 1024, Time: 1, Threads: 2}

// hashSlots bounds concurrent password hashing: each takes Memory KiB, so
// a burst of logins cannot exhaust the CA's memory.
var hashSlots = make(chan struct{}, 4)

func withHashSlot(ctx context.Context, fn func()) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hashSlots }()
	fn()
	return nil
}

var b64 = base64.RawStdEncoding

// HashPassword returns password's argon2id hash as a PHC string:
// $argon2id$v=19$m=65536,t=1,p=2$SALT$HASH.
func HashPassword(password string, p PasswordParams, rand io.Reader) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("making a salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC string encoded,
// comparing in constant time. A malformed string is an error.
func CheckPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errors.New("not an argon2id hash")
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("argon2id parameters %q: %w", parts[3], err)
	}
	// Bounds keep a corrupt row from costing the CA its memory.
	if p.Memory < 8*1024 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 16 {
		return false, fmt.Errorf("argon2id parameters %q out of bounds", parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("argon2id salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, errors.New("argon2id hash: bad key")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// checkPasswordInput keeps passwords to what a form and a terminal can
// both carry.
func checkPasswordInput(pw string) error {
	switch {
	case len(pw) < MinPassword:
		return fmt.Errorf("%w: a password needs at least %d characters", ErrBadInput, MinPassword)
	case len(pw) > MaxPassword:
		return fmt.Errorf("%w: a password has at most %d bytes", ErrBadInput, MaxPassword)
	case strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: the password holds control characters", ErrBadInput)
	}
	return nil
}

// SetPassword sets the actor's web form password and ends their web
// sessions. Only people have one; the signed API call is the proof of
// identity, so a stolen identity key could set it, but the web login
// still needs the TOTP code.
func (s *Service) SetPassword(ctx context.Context, actor Actor, password string) error {
	if !actor.IsUser() || s.policy().Users[actor.User()] == nil {
		return fmt.Errorf("%w: only people have passwords", ErrForbidden)
	}
	if err := checkPasswordInput(password); err != nil {
		return s.RecordRefusal(ctx, actor, "password.refused", actor.User(), err)
	}
	var hash string
	var herr error
	if err := withHashSlot(ctx, func() { hash, herr = HashPassword(password, DefaultPasswordParams, s.cfg.Rand) }); err != nil {
		return err
	}
	if herr != nil {
		return herr
	}
	return s.update(ctx, func(tx store.Tx) error {
		now := s.now()
		if err := tx.PutPassword(&store.Password{User: actor.User(), Hash: hash, SetAt: now}); err != nil {
			return err
		}
		if err := tx.DeleteUserWebSessions(actor.User()); err != nil {
			return err
		}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "password.set", Subject: actor.User()})
	})
}

// dummyHash is checked for users without a password, so that a login for
// an unknown user costs the same as one for a known user.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("no such user: dummy password", DefaultPasswordParams, strings.NewReader(strings.Repeat("lockbox-dummy!", 2)))
	return h
})

// WebLoginInput is what someone typed into the login form, and the
// session lifetimes to grant.
type WebLoginInput struct {
	User, Password, Code string
	Addr                 string // client IP
	Idle, Absolute       time.Duration
}

// WebLogin is a new web session. Token goes into the cookie; the store
// keeps only its hash.
type WebLogin struct {
	Token   string
	Session *store.WebSession
}

const maxWebUser = 64

// WebLogin checks a user name, password and TOTP code and opens a web
// session. Every failure gives ErrLoginFailed, and costs the same password
// hashing work. Failures are counted in the store as CheckMFA counts them
// (per account, and per account and address; per address for names the
// policy does not know), so every replica throttles alike.
func (s *Service) WebLogin(ctx context.Context, in WebLoginInput) (*WebLogin, error) {
	if in.Idle <= 0 || in.Absolute <= 0 {
		return nil, errors.New("workflow: web session lifetimes must be positive")
	}
	user := in.User
	if len(user) > maxWebUser || strings.ContainsFunc(user, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		user = "(malformed)"
	}
	actor := Actor("web:" + in.Addr)
	ths := s.throttles("web-", user, in.Addr)
	detail := map[string]any{"client": in.Addr}
	if err := s.update(ctx, func(tx store.Tx) error { return s.checkThrottles(tx, actor, user, ths, detail) }); err != nil {
		return nil, err
	}
	var stored string
	if err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		p, err := tx.Password(user)
		if err == nil {
			stored = p.Hash
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}); err != nil {
		return nil, err
	}
	known := stored != "" && s.policy().Users[user] != nil
	if !known {
		stored = dummyHash()
	}
	var ok bool
	var herr error
	if err := withHashSlot(ctx, func() { ok, herr = CheckPassword(stored, in.Password) }); err != nil {
		return nil, err
	}
	if herr != nil {
		return nil, fmt.Errorf("checking %s's password: %w", user, herr)
	}
	ok = ok && known
	token, tokenHash, err := s.newToken()
	if err != nil {
		return nil, err
	}
	csrf, _, err := s.newToken()
	if err != nil {
		return nil, err
	}
	var out *WebLogin
	err = s.update(ctx, func(tx store.Tx) error {
		out = nil
		now := s.now()
		if err := s.checkThrottles(tx, actor, user, ths, detail); err != nil {
			return err
		}
		failed := ""
		switch {
		case !ok:
			failed = "password"
		case s.loginCode(tx, user, in.Code) != nil:
			failed = "code"
		}
		if failed != "" {
			if err := countFailures(tx, ths, now); err != nil {
				return err
			}
			return s.refuse(tx, actor, "web.login.failed", user, ErrLoginFailed,
				map[string]any{"client": in.Addr, "failed": failed})
		}
		if err := clearThrottles(tx, ths); err != nil {
			return err
		}
		if err := checkActive(tx, user); err != nil {
			return s.refuse(tx, actor, "web.login.refused", user, err, map[string]any{"client": in.Addr})
		}
		if err := tx.PruneWebSessions(now); err != nil {
			return err
		}
		ws := &store.WebSession{TokenHash: tokenHash, User: user, CSRF: csrf, Addr: in.Addr, CreatedAt: now, LastSeen: now,
			IdleUntil: now.Add(min(in.Idle, in.Absolute)), Expires: now.Add(in.Absolute)}
		if err := tx.CreateWebSession(ws); err != nil {
			return err
		}
		out = &WebLogin{Token: token, Session: ws}
		return record(tx, audit.Event{Time: now, Actor: string(UserActor(user)), Action: "web.login", Subject: user, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loginCode checks and spends a TOTP code; any failure is just "no".
func (s *Service) loginCode(tx store.Tx, user, code string) error {
	m, err := tx.MFA(user)
	if err != nil {
		return err
	}
	return s.checkCode(tx, m, code)
}

func (s *Service) checkThrottles(tx store.Tx, actor Actor, user string, ths []throttle, detail map[string]any) error {
	th, wait, err := blocking(tx, ths, s.now())
	if err != nil || th == nil {
		return err
	}
	detail["throttled"] = th.scope
	wait = wait.Round(time.Second)
	return s.refuse(tx, actor, "web.login.refused", user, fmt.Errorf("%w: too many failed logins; try again in %v", ErrThrottled, max(wait, time.Second)), detail)
}

// newToken makes a random 256-bit token (base64url) and its hex SHA-256.
func (s *Service) newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", "", fmt.Errorf("making a session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash is how a web session token is stored.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

// WebSession returns the live web session of token and records its use,
// moving its idle deadline forward (never past its absolute end). An idle
// or expired session is deleted; either way the answer is ErrWebSession.
func (s *Service) WebSession(ctx context.Context, token string, idle time.Duration) (*store.WebSession, error) {
	if !validToken(token) {
		return nil, ErrWebSession
	}
	hash := TokenHash(token)
	var out *store.WebSession
	err := s.update(ctx, func(tx store.Tx) error {
		out = nil
		ws, err := tx.WebSession(hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		if !now.Before(ws.IdleUntil) || !now.Before(ws.Expires) || s.policy().Users[ws.User] == nil || checkActive(tx, ws.User) != nil {
			return tx.DeleteWebSession(hash)
		}
		ws.LastSeen = now
		if next := now.Add(idle); next.Before(ws.Expires) {
			ws.IdleUntil = next
		} else {
			ws.IdleUntil = ws.Expires
		}
		if err := tx.TouchWebSession(hash, ws.LastSeen, ws.IdleUntil); err != nil {
			return err
		}
		out = ws
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, ErrWebSession
	}
	return out, nil
}

// WebLogout ends the web session of token.
func (s *Service) WebLogout(ctx context.Context, token string) error {
	if !validToken(token) {
		return nil
	}
	hash := TokenHash(token)
	return s.update(ctx, func(tx store.Tx) error {
		ws, err := tx.WebSession(hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteWebSession(hash); err != nil {
			return err
		}
		return record(tx, audit.Event{Time: s.now(), Actor: string(UserActor(ws.User)), Action: "web.logout", Subject: ws.User})
	})
}

// History returns user's latest requests, newest first, as far as actor
// may see them (the approver's view of a requester's record).
func (s *Service) History(ctx context.Context, actor Actor, user string, limit int) ([]*store.Request, error) {
	if !actor.IsUser() {
		return nil, fmt.Errorf("%w: only people list requests", ErrForbidden)
	}
	var out []*store.Request
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		rs, err := tx.Requests(store.RequestFilter{User: user, Limit: limit})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, r := range rs {
			if s.mayManage(actor, r) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// ActiveGrants returns the live grants actor may manage (and so revoke),
// newest first.
func (s *Service) ActiveGrants(ctx context.Context, actor Actor) ([]*store.Request, error) {
	if !actor.IsUser() {
		return nil, fmt.Errorf("%w: only people list grants", ErrForbidden)
	}
	var out []*store.Request
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		rs, err := tx.Requests(store.RequestFilter{States: []store.State{store.Approved}})
		if err != nil {
			return err
		}
		out = out[:0]
		now := s.now()
		for _, r := range rs {
			if r.Granted(now) && s.mayManage(actor, r) { // live, or scheduled to open later
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// IsAuditor reports whether actor may read the audit log and everyone's
// sessions, so that the web form shows those pages only to them.
func (s *Service) IsAuditor(actor Actor) bool {
	return actor.IsUser() && s.policy().IsAuditor(actor.User())
}

// Session returns session id for its own user and auditors; anyone else
// gets ErrNoSession, as for a missing one.
func (s *Service) Session(ctx context.Context, actor Actor, id string) (*store.Session, error) {
	var sess *store.Session
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { sess, err = tx.Session(id); return err })
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	if err != nil {
		return nil, err
	}
	if !actor.IsUser() || (actor.User() != sess.User && !s.policy().IsAuditor(actor.User())) {
		return nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	return sess, nil
}
