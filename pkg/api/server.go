package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Workflow is what the API needs from the control plane.
type Workflow interface {
	Submit(ctx context.Context, actor workflow.Actor, sub workflow.Submission) (*store.Request, error)
	ApproveWith(ctx context.Context, actor workflow.Actor, id string, in workflow.ApprovalInput) (*store.Request, error)
	Deny(ctx context.Context, actor workflow.Actor, id, reason string) (*store.Request, error)
	Revoke(ctx context.Context, actor workflow.Actor, id, reason string) (*store.Request, error)
	Get(ctx context.Context, actor workflow.Actor, id string) (*workflow.RequestView, error)
	List(ctx context.Context, actor workflow.Actor, f workflow.ListFilter) ([]*workflow.RequestView, error)
	IssueUserCert(ctx context.Context, actor workflow.Actor, id string, pub ssh.PublicKey, code workflow.StepUp) (*ssh.Certificate, error)
	IssueHopCert(ctx context.Context, actor workflow.Actor, id, resource string, pub ssh.PublicKey) (*ssh.Certificate, error)
	KRL(ctx context.Context) ([]byte, error)
	AuditLog(ctx context.Context, actor workflow.Actor, after int64, limit int) ([]audit.Record, error)
	VerifyAudit(ctx context.Context, actor workflow.Actor) (*workflow.Verification, error)
	EnrollMFA(ctx context.Context, actor workflow.Actor, code string) (string, error)
	CheckMFA(ctx context.Context, actor workflow.Actor, user, code, addr string) error
	StartSession(ctx context.Context, actor workflow.Actor, in workflow.SessionStart) (*workflow.SessionGrant, error)
	Heartbeat(ctx context.Context, actor workflow.Actor, ids []string) (map[string]workflow.SessionStatus, error)
	ReportSessionEnd(ctx context.Context, actor workflow.Actor, id string, end workflow.SessionEnd) error
	StoreRecording(ctx context.Context, actor workflow.Actor, id string, r io.Reader) error
	Sessions(ctx context.Context, actor workflow.Actor, f store.SessionFilter) ([]*store.Session, error)
	Recording(ctx context.Context, actor workflow.Actor, id string) (io.ReadCloser, *store.Session, error)
	UseNonce(ctx context.Context, principal, nonce string, expires time.Time) error
	Spend(ctx context.Context, n *workflow.Nonce) error
	RecordRefusal(ctx context.Context, actor workflow.Actor, action, subject string, reason error) error
	CountAnonymousRefusal(source, reason string) (first bool)
	SetPassword(ctx context.Context, actor workflow.Actor, password string) error
	Answered(ctx context.Context, actor workflow.Actor, key string) (*workflow.KeptAnswer, error)
	Admit(ctx context.Context, actor workflow.Actor, key string) (*workflow.KeptAnswer, error)
	CheckSession(ctx context.Context, actor workflow.Actor, in workflow.SessionCheck) error
	RecordBastionRefusals(ctx context.Context, actor workflow.Actor, refusals []workflow.BastionRefusal, counts []workflow.RefusalCount) error
	ReportBreakGlassSession(ctx context.Context, actor workflow.Actor, in workflow.BreakGlassReport) error
	CheckActive(ctx context.Context, actor workflow.Actor) error
}

// Config is what a Server needs.
type Config struct {
	Workflow Workflow
	// Keys returns the registered keys of "user:NAME" and "bastion:NAME".
	Keys apiauth.Keys
	// CAKeys are served at /v1/ca for clients and targets to trust.
	UserCA, HopCA, HostCA ssh.PublicKey
	// Authorities, when set, gives the CA keys at each call instead (they
	// change with a key rotation), with every key to trust.
	Authorities func() workflow.Authorities
	// AuditKey, served at /v1/ca too, signs audit checkpoints; Checkpoints
	// serves and signs them (GET and POST /v1/audit/checkpoint).
	AuditKey    ssh.PublicKey
	Checkpoints Checkpoints
	// Reviews, when set, serves access reviews under /v1/review.
	Reviews Reviews
	// Notifications, optional, lists the notification outbox for
	// auditors (GET /v1/notifications).
	Notifications Notifications
	// Live, when set, serves live view: bastions' reports, the list of
	// running sessions, and watches (live.go).
	Live Live
	// MaxUploads bounds the recordings received at once (default
	// DefaultMaxUploads), MaxUploadBytes their declared sizes together
	// (default DefaultMaxUploadBytes); an upload beyond either is refused
	// with 503 uploads_busy before a byte of it is read.
	MaxUploads     int
	MaxUploadBytes int64
	// Ping reports whether the database answers (for /healthz).
	Ping func(context.Context) error
	// StoreTimeout is one call's deadline for all its store work; a
	// database that does not answer within it makes the call fail with
	// 503. Default DefaultStoreTimeout.
	StoreTimeout time.Duration
	// HealthTimeout bounds /healthz's question to the database. Default
	// DefaultHealthTimeout.
	HealthTimeout time.Duration
	// Penalties, when set, counts every anonymous refusal against its
	// source's budget (pkg/penalty): a penalised source's new connections
	// are refused at accept (serve on Guard's listener) and its anonymous
	// calls answered with Connection: close. Authenticated calls are
	// never counted. Nil: no penalties.
	Penalties Penalties
	Clock     func() time.Time
	Logger    *slog.Logger
}

// Server serves the API. Use it as an http.Handler.
type Server struct {
	wf      Workflow
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	signed  *apiauth.Verifier // state-changing calls: nonces in the store, for every replica
	reading *apiauth.Verifier // reads: nonces in memory
	uploads *uploadGate
	// liveAnswers keeps each session's last live read answer, encoded.
	liveAnswers liveAnswers
}

// New checks cfg and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Workflow == nil || cfg.Keys == nil || (cfg.Authorities == nil && (cfg.UserCA == nil || cfg.HopCA == nil)) {
		return nil, errors.New("api: workflow, keys and CA keys are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = DefaultHealthTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	s := &Server{wf: cfg.Workflow, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.signed = &apiauth.Verifier{Keys: cfg.Keys, Nonces: storeNonces{cfg.Workflow}, Clock: cfg.Clock}
	s.reading = &apiauth.Verifier{Keys: cfg.Keys, Nonces: &apiauth.MemoryNonces{Clock: cfg.Clock}, Clock: cfg.Clock}
	s.uploads = &uploadGate{maxN: cfg.MaxUploads, maxByte: cfg.MaxUploadBytes}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.health)
	s.mux.HandleFunc("GET /v1/ca", s.caKeys)
	s.mux.HandleFunc("GET /v1/krl", s.krl)
	s.mux.Handle("GET /v1/whoami", s.auth(s.whoami))
	s.mux.Handle("POST /v1/requests", s.auth(s.idempotent(s.submit)))
	s.mux.Handle("GET /v1/requests", s.auth(s.list))
	s.mux.Handle("GET /v1/requests/{id}", s.auth(s.get))
	s.mux.Handle("POST /v1/requests/{id}/approve", s.auth(s.idempotent(s.approve)))
	s.mux.Handle("POST /v1/requests/{id}/deny", s.auth(s.idempotent(s.deny)))
	s.mux.Handle("POST /v1/requests/{id}/revoke", s.auth(s.idempotent(s.revoke)))
	s.mux.Handle("POST /v1/requests/{id}/certificate", s.authSpending(s.idempotent(s.certificate)))
	s.mux.Handle("POST /v1/requests/{id}/hop-certificate", s.authSpending(s.idempotent(s.hopCertificate)))
	s.mux.Handle("GET /v1/audit", s.auth(s.auditLog))
	s.mux.Handle("GET /v1/audit/verify", s.auth(s.auditVerify))
	s.mux.Handle("POST /v1/mfa/enroll", s.auth(s.idempotent(s.enrollMFA)))
	s.mux.Handle("POST /v1/mfa/check", s.auth(s.idempotent(s.checkMFA)))
	s.mux.Handle("POST /v1/password", s.auth(s.idempotent(s.setPassword)))
	s.mux.Handle("POST /v1/sessions", s.auth(s.idempotent(s.startSession)))
	s.mux.Handle("POST /v1/sessions/heartbeat", s.auth(s.heartbeat))
	s.mux.Handle("POST /v1/sessions/{id}/end", s.auth(s.idempotent(s.endSession)))
	s.mux.HandleFunc("PUT /v1/sessions/{id}/recording", s.uploadRecording)
	s.mux.Handle("GET /v1/sessions", s.auth(s.listSessions))
	s.mux.Handle("GET /v1/sessions/{id}/recording", s.auth(s.getRecording))
	s.checkpointRoutes()
	s.reviewRoutes()
	s.notificationRoutes()
	s.liveRoutes()
	s.mux.Handle("POST /v1/bastion/refusals", s.auth(s.bastionRefusals))
	s.mux.Handle("POST /v1/bastion/break-glass-sessions", s.auth(s.breakGlassSession))
	s.mux.Handle("POST /v1/sessions/check", s.auth(s.checkSession))
}

// ServeHTTP routes the call once: a call to a route that wants a
// signature and carries no Authorization header at all is refused straight
// away (refuseUnsigned), which is all an anonymous flood costs the CA;
// every other call gets its store deadline (withStoreDeadline) and its
// handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	handler, pattern := s.mux.Handler(r)
	if _, ok := handler.(signed); ok && len(r.Header["Authorization"]) == 0 {
		s.refuseUnsigned(w, r)
		return
	}
	s.withStoreDeadline(pattern, s.mux).ServeHTTP(w, r)
}

// Route is the pattern that serves r ("POST /v1/requests/{id}/approve"),
// or "" when none does: a label of bounded cardinality for metrics.
func (s *Server) Route(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return pattern
}

// storeNonces records nonces through the workflow's store and reports a
// reused one as a replay.
type storeNonces struct{ wf Workflow }

func (n storeNonces) Use(ctx context.Context, principal, nonce string, expires time.Time) error {
	if pending := workflow.NonceOf(ctx); pending != nil && pending.Principal == "" {
		// Spent by the call's own write, or before its answer (authSpending).
		pending.Principal, pending.Value, pending.Expires = principal, nonce, expires
		return nil
	}
	err := n.wf.UseNonce(ctx, principal, nonce, expires)
	if errors.Is(err, store.ErrDuplicate) {
		return apiauth.ErrReplay
	}
	return err
}
