package scim

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Directory is what the endpoint needs from the workflow: the directory's
// users and groups, each change made, audited and followed (membership,
// deprovisioning) in one transaction.
type Directory interface {
	CreateDirectoryUser(ctx context.Context, u store.DirectoryUser) (*store.DirectoryUser, error)
	DirectoryUser(ctx context.Context, id string) (*store.DirectoryUser, error)
	FindDirectoryUser(ctx context.Context, userName string) (*store.DirectoryUser, error)
	DirectoryUsers(ctx context.Context, offset, limit int) ([]*store.DirectoryUser, int, error)
	ChangeDirectoryUser(ctx context.Context, id string, change func(*store.DirectoryUser) error) (*store.DirectoryUser, error)
	DeleteDirectoryUser(ctx context.Context, id string) error

	CreateDirectoryGroup(ctx context.Context, g store.DirectoryGroup) (*store.DirectoryGroup, error)
	DirectoryGroup(ctx context.Context, id string) (*store.DirectoryGroup, error)
	FindDirectoryGroup(ctx context.Context, displayName string) (*store.DirectoryGroup, error)
	DirectoryGroups(ctx context.Context, offset, limit int) ([]*store.DirectoryGroup, int, error)
	ChangeDirectoryGroup(ctx context.Context, id string, change func(*store.DirectoryGroup) error) (*store.DirectoryGroup, error)
	DeleteDirectoryGroup(ctx context.Context, id string) error

	RecordRefusal(ctx context.Context, actor workflow.Actor, action, subject string, reason error) error
	CountAnonymousRefusal(source, reason string) (first bool)
}

// Config is what a Server needs.
type Config struct {
	Directory Directory
	// Token is the bearer token the directory sends; at least
	// MinTokenLength bytes.
	Token []byte
	// StoreTimeout bounds one call's store work. Default 5s.
	StoreTimeout time.Duration
	// MaxBody bounds a request body. Default DefaultMaxBody.
	MaxBody int64
	Logger  *slog.Logger
	// Penalties, when set, counts every call refused for its bearer token
	// against its source's penalty budget.
	Penalties Penalties
}

// Penalties counts a refusal of a caller nobody authenticated against its
// source's per-source penalty budget: cmd/ca passes the API server
// (api.Server.Penalise), whose guarded listener the endpoint shares, so a
// source over its budget has its new connections refused at accept.
// Penalise reports whether the source is penalised now.
type Penalties interface {
	Penalise(addr netip.Addr, source string) (penalised bool)
}

// MinTokenLength is the shortest bearer token accepted, in bytes.
const MinTokenLength = 32

// DefaultMaxBody bounds bodies: a group of several thousand members fits.
const DefaultMaxBody = 1 << 20

// Prefix is where the endpoint is mounted.
const Prefix = "/scim/v2"

// Server serves the SCIM endpoint. Use it as an http.Handler under Prefix.
type Server struct {
	cfg   Config
	dir   Directory
	token [sha256.Size]byte
	log   *slog.Logger
	mux   *http.ServeMux
}

// New checks cfg.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Directory == nil:
		return nil, errors.New("scim: no directory")
	case len(cfg.Token) < MinTokenLength:
		return nil, fmt.Errorf("scim: the bearer token has %d bytes; it needs at least %d (make one with: openssl rand -base64 48)", len(cfg.Token), MinTokenLength)
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 5 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, dir: cfg.Directory, token: sha256.Sum256(cfg.Token), log: cfg.Logger, mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET "+Prefix+"/ServiceProviderConfig", s.serviceProviderConfig)
	s.mux.HandleFunc("POST "+Prefix+"/Users", s.createUser)
	s.mux.HandleFunc("GET "+Prefix+"/Users", s.listUsers)
	s.mux.HandleFunc("GET "+Prefix+"/Users/{id}", s.getUser)
	s.mux.HandleFunc("PUT "+Prefix+"/Users/{id}", s.replaceUser)
	s.mux.HandleFunc("PATCH "+Prefix+"/Users/{id}", s.patchUser)
	s.mux.HandleFunc("DELETE "+Prefix+"/Users/{id}", s.deleteUser)
	s.mux.HandleFunc("POST "+Prefix+"/Groups", s.createGroup)
	s.mux.HandleFunc("GET "+Prefix+"/Groups", s.listGroups)
	s.mux.HandleFunc("GET "+Prefix+"/Groups/{id}", s.getGroup)
	s.mux.HandleFunc("PUT "+Prefix+"/Groups/{id}", s.replaceGroup)
	s.mux.HandleFunc("PATCH "+Prefix+"/Groups/{id}", s.patchGroup)
	s.mux.HandleFunc("DELETE "+Prefix+"/Groups/{id}", s.deleteGroup)
	s.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errNoRoute)
	})
}

// ServeHTTP authenticates the caller before anything else, bounds the
// call's store work and its body, and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !s.authenticated(r) {
		source := sourceAddr(r)
		s.penalise(w, r, source)
		if s.dir.CountAnonymousRefusal(source, "scim_token") {
			s.log.Warn("refused a SCIM call without the right bearer token; more from this source are counted and audited once per interval",
				"source", source, "method", r.Method, "path", r.URL.Path)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockbox-scim"`)
		s.writeError(w, r, errUnauthenticated)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	s.mux.ServeHTTP(w, r)
}

// authenticated compares the bearer token in constant time (hashes of
// equal length, so the token's length does not show either).
func (s *Server) authenticated(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// penalise counts a call refused for its token against its source. While
// the source is penalised the answer closes the connection, so a caller
// keeping it alive has to open a new one, which is refused at accept.
func (s *Server) penalise(w http.ResponseWriter, r *http.Request, source string) {
	if s.cfg.Penalties == nil {
		return
	}
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	if s.cfg.Penalties.Penalise(ap.Addr(), source) {
		w.Header().Set("Connection", "close")
	}
}

func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// body reads a request's JSON body: application/scim+json or
// application/json, at most MaxBody bytes.
func (s *Server) body(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return nil, errContentType
		}
	}
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	return b, nil
}

// refuse audits a refusal of the directory's call made here, before the
// workflow saw it, and answers it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, reason error) {
	if err := s.dir.RecordRefusal(r.Context(), workflow.DirectoryActor, "directory.refused", r.Method+" "+clip.Runes(r.URL.Path, 200), reason); !errors.Is(err, reason) {
		reason = err
	}
	s.writeError(w, r, reason)
}
