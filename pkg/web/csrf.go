package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
)

// Cross-site request forgery has two guards. http.CrossOriginProtection
// (around every route) refuses a POST whose Sec-Fetch-Site or Origin
// names another site; and every form carries a token that must match the
// web session's (or, for the login form, a cookie's) in constant time.
// The session cookie is also SameSite=Strict.

const (
	csrfField   = "csrf"
	loginCookie = "lockbox-login" // double-submit token of the login form
	maxForm     = 16 << 10
)

var errForgery = errors.New("form token missing or wrong")

// checkFormToken compares the parsed form's token with want.
func (s *Server) checkFormToken(r *http.Request, want string) bool {
	got := r.PostForm.Get(csrfField)
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// refuseForgery audits and answers a POST without the right form token:
// one row for a logged-in viewer; counted with the address's other
// anonymous refusals for anyone else.
func (s *Server) refuseForgery(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v == nil {
		s.countAnonymous(w, r, "web_form_token", errForgery)
	} else if err := s.wf.RecordRefusal(r.Context(), v.Actor, "web.csrf.refused", r.Method+" "+r.URL.Path, errForgery); err != nil && !errors.Is(err, errForgery) {
		s.log.Error("auditing a refused form", "err", err)
	}
	s.errorPage(w, r, v, http.StatusForbidden, "This form could not be verified (it is stale or did not come from this site), so nothing was changed. Reload the page and try again.")
}

// countAnonymous counts a refusal of a caller without a web session
// under its address (audited once per interval with the count, see
// workflow.FlushAnonymousRefusals), logs the first of each interval, and
// counts it against the source's penalty budget (penalise). Call it before
// the answer's header is written.
func (s *Server) countAnonymous(w http.ResponseWriter, r *http.Request, reason string, err error) {
	s.penalise(w, r)
	s.noteAnonymous(r, reason, err)
}

// noteAnonymous is countAnonymous without the penalty, for a refusal that
// is not the caller's doing.
func (s *Server) noteAnonymous(r *http.Request, reason string, err error) {
	if s.wf.CountAnonymousRefusal(clientIP(r), reason) {
		s.log.Warn("refused a form nobody logged in sent; more from this address are counted and audited once per interval",
			"source", clientIP(r), "reason", reason, "path", r.URL.Path, "err", err)
	}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginToken returns the login form's token, setting its cookie if the
// browser has none yet.
func (s *Server) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.loginCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	t := randomToken()
	http.SetCookie(w, &http.Cookie{Name: s.loginCookieName(), Value: t, Path: "/ui/login", Secure: s.cfg.Secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return t
}

func (s *Server) loginCookieName() string {
	if s.cfg.Secure {
		return "__Secure-" + loginCookie
	}
	return loginCookie
}

func (s *Server) checkLoginToken(r *http.Request) bool {
	c, err := r.Cookie(s.loginCookieName())
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostForm.Get(csrfField)), []byte(c.Value)) == 1
}
