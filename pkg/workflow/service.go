package workflow

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/tally"
)

// Config is what a Service needs. New checks it once.
type Config struct {
	Store  store.Store
	Policy *policy.Holder
	// UserCA signs grant certificates, HopCA the bastion's per-session
	// certificates. HostCA, optional, signs host certificates.
	UserCA, HopCA, HostCA ssh.Signer
	// UserTrusted, HopTrusted and HostTrusted are each CA's other key
	// during a key rotation (see [Authorities]); nil outside one.
	// SetAuthorities replaces all six later.
	UserTrusted, HopTrusted, HostTrusted []ssh.PublicKey
	// Secrets seals TOTP secrets at rest.
	Secrets *secretbox.Box
	// PendingTimeout: a request nobody decides within it expires. Default 24h.
	PendingTimeout time.Duration
	// Skew backdates certificates for clocks that run behind. Default and
	// maximum 1m.
	Skew time.Duration
	// HopTTL is a hop certificate's life from its issue (plus the skew
	// allowance before it): the few minutes the bastion's one login with it
	// needs. It never outlives the grant either. Default DefaultHopTTL;
	// 1s to MaxHopTTL.
	HopTTL time.Duration
	// LeaseTTL is how long a session's one-per-user lease lasts without a
	// heartbeat: after a bastion crash, the user may log in again once it
	// runs out. Default 30s.
	LeaseTTL time.Duration
	// AnswerTTL is how long the answer of a call made with an idempotency
	// key is kept, at least. Default DefaultAnswerTTL.
	AnswerTTL time.Duration
	// Recordings keeps uploaded session recordings.
	Recordings Recordings
	// EligibilityNotice is how long before a dated team membership or
	// eligibility entry ends that the sweeper records it as ending
	// (eligibility.ending), once. Default DefaultEligibilityNotice.
	EligibilityNotice time.Duration
	// AnonymousSources bounds the (source, reason) pairs of anonymous
	// refusals counted between flushes; 0 means DefaultAnonymousSources.
	AnonymousSources int
	// Router picks where each notification goes; the request path writes
	// one outbox row per target (package outbox delivers them). Nil: no
	// notification is queued.
	Router notify.Router
	// WebURL is the web form's address (scheme and host, no trailing
	// slash), for the links in notifications; empty: no links.
	WebURL string
	// GrantEndingNotice is how long before a grant ends that the sweeper
	// queues grant.ending_soon. Default DefaultGrantEndingNotice.
	GrantEndingNotice time.Duration
	// Live bounds live view; zero fields take their defaults (live.go).
	Live  LiveConfig
	Clock func() time.Time
	Rand  io.Reader
}

// DefaultHopTTL is how long a hop certificate lasts unless configured;
// MaxHopTTL is the longest allowed. The bastion logs in with a hop
// certificate once, right after it is issued, and sshd checks a
// certificate only at authentication, so the session outlives it.
const (
	DefaultHopTTL = 5 * time.Minute
	MaxHopTTL     = time.Hour
)

// Service runs the workflow. It is safe for concurrent use.
type Service struct {
	cfg       Config
	anonymous *tally.Counter // refusals of unknown callers, until the next flush
	directory atomic.Pointer[directoryView]
	keys      atomic.Pointer[Authorities] // the CA keys; SetAuthorities replaces them
	live      liveCache                   // live output chunks recently read (livecache.go)
	waits     liveWaits                   // live reads waiting for output, by session (livewait.go)
	grants    grantHints                  // grants as last issued for (granthint.go)
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("workflow: no store")
	case cfg.Policy == nil || cfg.Policy.Get() == nil:
		return nil, errors.New("workflow: no policy")
	case cfg.Secrets == nil:
		return nil, errors.New("workflow: no secret box for MFA secrets")
	case cfg.Skew < 0 || cfg.Skew > time.Minute:
		return nil, fmt.Errorf("workflow: skew %v outside 0..1m", cfg.Skew)
	case cfg.PendingTimeout < 0 || cfg.HopTTL < 0 || cfg.EligibilityNotice < 0 || cfg.GrantEndingNotice < 0:
		return nil, errors.New("workflow: negative timeout")
	case cfg.HopTTL != 0 && (cfg.HopTTL < time.Second || cfg.HopTTL > MaxHopTTL):
		return nil, fmt.Errorf("workflow: hop certificate validity %v outside 1s..%v", cfg.HopTTL, MaxHopTTL)
	}
	keys := &Authorities{UserCA: cfg.UserCA, HopCA: cfg.HopCA, HostCA: cfg.HostCA, User: cfg.UserTrusted, Hop: cfg.HopTrusted, Host: cfg.HostTrusted}
	if err := keys.check(); err != nil {
		return nil, err
	}
	if cfg.PendingTimeout == 0 {
		cfg.PendingTimeout = 24 * time.Hour
	}
	if cfg.Skew == 0 {
		cfg.Skew = time.Minute
	}
	if cfg.HopTTL == 0 {
		cfg.HopTTL = DefaultHopTTL
	}
	if cfg.EligibilityNotice == 0 {
		cfg.EligibilityNotice = DefaultEligibilityNotice
	}
	if cfg.GrantEndingNotice == 0 {
		cfg.GrantEndingNotice = DefaultGrantEndingNotice
	}
	if cfg.WebURL != "" {
		u, err := url.Parse(cfg.WebURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("workflow: web address %q: want http(s)://host[:port]", cfg.WebURL)
		}
		cfg.WebURL = strings.TrimSuffix(cfg.WebURL, "/")
	}
	if cfg.AnswerTTL <= 0 {
		cfg.AnswerTTL = DefaultAnswerTTL
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.AnonymousSources <= 0 {
		cfg.AnonymousSources = DefaultAnonymousSources
	}
	cfg.Live.setDefaults()
	svc := &Service{cfg: cfg, anonymous: tally.New(cfg.AnonymousSources)}
	svc.keys.Store(keys)
	return svc, nil
}

func (s *Service) now() time.Time { return s.cfg.Clock().UTC() }

// Actor is an authenticated caller: "user:NAME" or "bastion:NAME".
type Actor string

// User returns the user name, or "" if the actor is not a user.
func (a Actor) User() string { return strings.TrimPrefix(string(a), "user:") }

// IsUser reports whether the actor is a person.
func (a Actor) IsUser() bool { return strings.HasPrefix(string(a), "user:") && len(a) > 5 }

// Bastion returns the bastion name, or "" if the actor is not a bastion.
func (a Actor) Bastion() string {
	if !strings.HasPrefix(string(a), "bastion:") {
		return ""
	}
	return string(a)[len("bastion:"):]
}

// UserActor and BastionActor build actors.
func UserActor(name string) Actor    { return Actor("user:" + name) }
func BastionActor(name string) Actor { return Actor("bastion:" + name) }

// update runs fn in a store transaction. A refusal returned by fn commits
// (its audit record must stay) and is then returned to the caller. If the
// call carries a Claim not yet kept, its answer is kept in the same
// transaction (see answers.go); so is its nonce, if the call carries one
// not yet spent (see nonce.go).
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	c := claimOf(ctx)
	if c != nil && c.kept != nil {
		c = nil // kept by an earlier transaction of this call
	}
	n := NonceOf(ctx)
	if !n.pending() {
		n = nil
	}
	var refused error
	var kept *KeptAnswer
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		refused, kept = nil, nil
		if c != nil {
			c.result = nil
		}
		if n != nil {
			if err := n.use(tx); err != nil {
				return err
			}
		}
		err := fn(tx)
		var r refusal
		if errors.As(err, &r) {
			refused, err = r.err, nil
		}
		if err != nil || c == nil {
			return err
		}
		kept, err = s.keepAnswer(tx, c, refused)
		return err
	})
	if n != nil {
		err = n.settle(err)
	}
	if err != nil {
		return err
	}
	if c != nil {
		c.kept = kept
	}
	return refused
}

// record appends an audit event inside tx.
func record(tx store.Tx, e audit.Event) error {
	detail, err := audit.EncodeDetail(e.Detail)
	if err != nil {
		return err
	}
	return recordEncoded(tx, e, detail)
}

// recordEncoded is record with e's detail encoded already
// (audit.EncodeDetail), before the transaction: its encoding is then not
// part of the store's writer's work.
func recordEncoded(tx store.Tx, e audit.Event, detail []byte) error {
	seq, hash, err := tx.AuditHead()
	if err != nil {
		return err
	}
	if hash == nil {
		hash = audit.Genesis
	}
	r := audit.SealEncoded(seq, hash, e, detail)
	return tx.AppendAudit(store.AuditRecord{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action,
		Subject: r.Subject, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash})
}

// refuse audits a refusal and returns it so that update commits the audit
// record and hands err to the caller.
func (s *Service) refuse(tx store.Tx, actor Actor, action, subject string, err error, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["reason"] = err.Error()
	if aerr := record(tx, audit.Event{Time: s.now(), Actor: string(actor), Action: action, Subject: subject, Detail: detail}); aerr != nil {
		return aerr
	}
	return refusal{err}
}

// RecordRefusal audits a refusal made at the edge (bad signature, bad
// input) before any workflow method ran. It returns reason once audited,
// or the error that kept it from being audited; either way the caller
// answers with what it returns.
func (s *Service) RecordRefusal(ctx context.Context, actor Actor, action, subject string, reason error) error {
	return s.update(ctx, func(tx store.Tx) error {
		return s.refuse(tx, actor, action, subject, reason, nil)
	})
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID makes a request ID: "req-" and 16 random base32 characters.
func (s *Service) newID() (string, error) {
	b := make([]byte, 10)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("making a request ID: %w", err)
	}
	return "req-" + idEncoding.EncodeToString(b), nil
}

// ValidRequestID reports whether id has the shape newID makes, so that the
// edge refuses anything else before it reaches the store.
func ValidRequestID(id string) bool {
	if len(id) != 20 || !strings.HasPrefix(id, "req-") {
		return false
	}
	_, err := idEncoding.DecodeString(id[4:])
	return err == nil
}
