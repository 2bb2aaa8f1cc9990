package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

type user struct {
	name, password string
	mfa            bool
	groups         []string
}

// storage is the provider's state, in memory: op.Storage.
type storage struct {
	client *client
	key    *rsa.PrivateKey
	keyID  string

	mu       sync.Mutex
	users    map[string]*user
	requests map[string]*authRequest // by ID
	codes    map[string]string       // code → request ID
	tokens   map[string]*accessToken
	// What the next ID tokens look like (POST /control).
	audience []string
	lifetime time.Duration
}

type accessToken struct {
	subject string
	expires time.Time
}

func newStorage(clientID, secret, redirect string) (*storage, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	return &storage{client: &client{id: clientID, secret: secret, redirects: []string{redirect}}, key: key, keyID: randomID(),
		users: map[string]*user{}, requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]*accessToken{},
		lifetime: 5 * time.Minute}, nil
}

func (s *storage) addUser(spec string) error {
	f := strings.SplitN(spec, ":", 4)
	if len(f) != 4 || f[0] == "" || f[1] == "" {
		return fmt.Errorf("-user %q: want NAME:PASSWORD:AMR:GROUPS", spec)
	}
	u := &user{name: f[0], password: f[1], mfa: f[2] == "mfa"}
	if f[3] != "" {
		u.groups = strings.Split(f[3], ",")
	}
	s.users[u.name] = u
	return nil
}

// control changes the next ID tokens' audience and lifetime.
func (s *storage) control(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PostForm.Has("audience") {
		s.audience = nil
		if a := r.PostForm.Get("audience"); a != "" {
			s.audience = []string{a}
		}
	}
	if v := r.PostForm.Get("id_token_lifetime"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.lifetime = d
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *storage) authenticate(id, name, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return errors.New("this sign-in has expired; start again")
	}
	u, ok := s.users[name]
	if !ok || subtle.ConstantTimeCompare([]byte(u.password), []byte(password)) != 1 {
		return errors.New("wrong user name or password")
	}
	req.subject, req.done, req.authTime = "sub-"+u.name, true, time.Now()
	req.amr = []string{"pwd"}
	if u.mfa {
		req.amr = append(req.amr, "mfa", "otp")
	}
	return nil
}

func (s *storage) userBySubject(sub string) *user {
	return s.users[strings.TrimPrefix(sub, "sub-")]
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

type notFound struct{ error }

func (notFound) IsNotFound() {}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &authRequest{id: randomID(), created: time.Now(), req: r}
	if r.CodeChallenge != "" {
		req.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.requests[req.id] = req
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		return r, nil
	}
	return nil, notFound{errors.New("no such auth request")}
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, notFound{errors.New("no such code")}
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest runs once a code was exchanged: the code is spent.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for c, rid := range s.codes {
		if rid == id {
			delete(s.codes, c)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := randomID(), time.Now().Add(5*time.Minute)
	s.tokens[id] = &accessToken{subject: r.GetSubject(), expires: exp}
	return id, exp, nil
}

var errUnsupported = errors.New("not supported by the test provider")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{s.keyID, s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{s.keyID, s.key}}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.id {
		return nil, errors.New("no such client")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.client
	c.lifetime = s.lifetime
	return &c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || subtle.ConstantTimeCompare([]byte(secret), []byte(s.client.secret)) != 1 {
		return errors.New("wrong client credentials")
	}
	return nil
}

// SetUserinfoFromScopes fills the ID token's claims: the user name, and
// the groups.
func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, subject, _ string, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userBySubject(subject)
	if u == nil {
		return errors.New("no such user")
	}
	info.Subject = subject
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.name
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = u.name+"@example.com", true
		}
	}
	if u.groups != nil {
		info.AppendClaims("groups", u.groups)
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	return s.SetUserinfoFromScopes(ctx, info, subject, "", []string{oidc.ScopeProfile, oidc.ScopeEmail})
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (s *storage) Health(context.Context) error { return nil }
