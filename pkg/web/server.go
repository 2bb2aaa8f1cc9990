// Package web is the approver web form and the SRE pages, served by the CA
// under /ui/: login with password and TOTP, pending requests and decisions,
// grants and revocation, sessions and their replay, the audit log.
//
// It uses the workflow through the small Workflow interface below, renders
// with html/template only, and sends a strict Content-Security-Policy with
// every page. State changes only on POST, behind Go's cross-origin
// protection and a per-session form token. docs/web.md describes the
// choices.
package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Workflow is what the web pages need from the control plane.
type Workflow interface {
	WebLogin(ctx context.Context, in workflow.WebLoginInput) (*workflow.WebLogin, error)
	WebSession(ctx context.Context, token string, idle time.Duration) (*store.WebSession, error)
	WebLogout(ctx context.Context, token string) error

	Get(ctx context.Context, actor workflow.Actor, id string) (*workflow.RequestView, error)
	List(ctx context.Context, actor workflow.Actor, f workflow.ListFilter) ([]*workflow.RequestView, error)
	WaitingFor(ctx context.Context, actor workflow.Actor) (int, error)
	History(ctx context.Context, actor workflow.Actor, user string, limit int) ([]*store.Request, error)
	ActiveGrants(ctx context.Context, actor workflow.Actor) ([]*store.Request, error)
	ApproveWith(ctx context.Context, actor workflow.Actor, id string, in workflow.ApprovalInput) (*store.Request, error)
	Deny(ctx context.Context, actor workflow.Actor, id, reason string) (*store.Request, error)
	Revoke(ctx context.Context, actor workflow.Actor, id, reason string) (*store.Request, error)

	Sessions(ctx context.Context, actor workflow.Actor, f store.SessionFilter) ([]*store.Session, error)
	Session(ctx context.Context, actor workflow.Actor, id string) (*store.Session, error)
	Recording(ctx context.Context, actor workflow.Actor, id string) (io.ReadCloser, *store.Session, error)

	AuditLog(ctx context.Context, actor workflow.Actor, after int64, limit int) ([]audit.Record, error)
	VerifyAudit(ctx context.Context, actor workflow.Actor) (*workflow.Verification, error)
	IsAuditor(actor workflow.Actor) bool
	SSOLogin(ctx context.Context, in workflow.SSOLoginInput) (*workflow.SSOLogin, error)
	SSOCode(ctx context.Context, in workflow.SSOCodeInput) (*workflow.WebLogin, error)

	RecordRefusal(ctx context.Context, actor workflow.Actor, action, subject string, reason error) error
	CountAnonymousRefusal(source, reason string) (first bool)
}

// Config is what a Server needs.
type Config struct {
	Workflow Workflow
	// Secure says the pages are served over HTTPS: the session cookie is
	// then __Host-lockbox with the Secure attribute. Over plain HTTP it is
	// "lockbox" without Secure (browsers refuse both on http:// origins
	// other than localhost).
	Secure bool
	// IdleTimeout ends a web session after this long without a request
	// (default 30m); MaxAge ends it this long after login (default 12h).
	IdleTimeout time.Duration
	MaxAge      time.Duration
	Logger      *slog.Logger
	// Reviews, when set, serves the access review page (/ui/review).
	Reviews Reviews
	// Notifications, when set, serves the notification outbox page for
	// auditors (/ui/notifications).
	Notifications Notifications
	// SSO, when set, offers signing in through the identity provider
	// (/ui/login/sso), on a button saying "Sign in with SSOName" (default
	// "your organisation"). NoPasswordLogin turns the password and code
	// form off; it needs SSO.
	SSO             SSO
	SSOName         string
	NoPasswordLogin bool
	// Live, when set, shows running sessions live to those who may watch
	// them (pages_live.go).
	Live Live
	// Penalties, when set, counts every refusal of a caller without a web
	// session (a form without its token or unreadable, a failed login or
	// code, a sign-in the identity provider's answer did not carry, a POST
	// after the session ended) against its source's penalty budget.
	Penalties Penalties
	// Clock tells the pages what time it is (whether a grant is live or
	// still scheduled); default time.Now. Give the workflow's clock.
	Clock func() time.Time
}

// Server serves the web pages. Use it as an http.Handler for /ui/.
type Server struct {
	wf      Workflow
	cfg     Config
	log     *slog.Logger
	pages   *pages
	handler http.Handler
}

// New checks cfg, parses the templates and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Workflow == nil {
		return nil, errors.New("web: no workflow")
	}
	if cfg.IdleTimeout < 0 || cfg.MaxAge < 0 {
		return nil, errors.New("web: negative session lifetime")
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 12 * time.Hour
	}
	if cfg.NoPasswordLogin && cfg.SSO == nil {
		return nil, errors.New("web: password login turned off without single sign-on: nobody could log in")
	}
	if cfg.SSOName == "" {
		cfg.SSOName = "your organisation"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{wf: cfg.Workflow, cfg: cfg, log: cfg.Logger, pages: p}
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	s.handler = securityHeaders(cop.Handler(mux))
	return s, nil
}

func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /ui/static/", staticFiles())
	mux.HandleFunc("GET /ui/login", s.loginPage)
	mux.HandleFunc("POST /ui/login", s.login)
	if s.cfg.SSO != nil {
		mux.HandleFunc("GET "+ssoPath, s.ssoBegin)
		mux.HandleFunc("GET "+ssoPath+"/callback", s.ssoCallback)
		mux.HandleFunc("POST "+ssoPath+"/code", s.ssoCode)
	}
	mux.Handle("POST /ui/logout", s.authed(s.logout))

	mux.Handle("GET /ui/{$}", s.authed(s.home))
	mux.Handle("GET /ui/requests/{id}", s.authed(s.requestPage))
	mux.Handle("POST /ui/requests/{id}/approve", s.authed(s.approve))
	mux.Handle("POST /ui/requests/{id}/deny", s.authed(s.deny))
	mux.Handle("POST /ui/requests/{id}/revoke", s.authed(s.revoke))
	mux.Handle("GET /ui/grants", s.authed(s.grantsPage))

	mux.Handle("GET /ui/sessions", s.authed(s.sessionsPage))
	mux.Handle("GET /ui/sessions/{id}", s.authed(s.sessionPage))
	mux.Handle("GET /ui/sessions/{id}/cast", s.authed(s.cast))

	mux.Handle("GET /ui/audit", s.authed(s.auditPage))
	mux.Handle("GET /ui/audit/export", s.authed(s.auditExport))
	s.reviewRoutes(mux)
	s.notificationRoutes(mux)
	s.liveRoutes(mux)

	mux.HandleFunc("/ui/", s.notFound)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// crossOriginDenied answers a POST that another site's page sent.
func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	s.errorPage(w, r, nil, http.StatusForbidden, "This form was sent from another site, so it was refused. Nothing was changed.")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, nil, http.StatusNotFound, "There is no such page.")
}
