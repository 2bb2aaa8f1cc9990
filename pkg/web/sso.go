package web

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/sso"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// SSO is the identity provider's side of a sign-in (pkg/sso's Client).
type SSO interface {
	Begin(ctx context.Context) (*sso.Start, error)
	Finish(ctx context.Context, cb sso.Callback) (*sso.Identity, error)
}

// The sign-in cookie binds a sign-in's state, nonce and PKCE verifier to
// the browser that began it. It must be SameSite=Lax: the provider sends
// the browser back with a cross-site top-level GET, on which Strict
// cookies are not sent. It lives for the sign-in only and is cleared at
// the callback, whatever happens there.
const (
	ssoCookie        = "lockbox-sso"
	ssoPendingCookie = "lockbox-sso-pending" // the sign-in waiting for its TOTP code
	ssoPath          = "/ui/login/sso"
	ssoCookieAge     = 10 * time.Minute
)

func (s *Server) ssoCookieName(base string) string {
	if s.cfg.Secure {
		return "__Secure-" + base
	}
	return base
}

func (s *Server) setSSOCookie(w http.ResponseWriter, name, value string, mode http.SameSite, age time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: s.ssoCookieName(name), Value: value, Path: ssoPath, Secure: s.cfg.Secure,
		HttpOnly: true, SameSite: mode, MaxAge: int(age.Seconds())})
}

func (s *Server) clearSSOCookie(w http.ResponseWriter, name string, mode http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: s.ssoCookieName(name), Value: "", Path: ssoPath, Secure: s.cfg.Secure,
		HttpOnly: true, SameSite: mode, MaxAge: -1})
}

// encodeStart packs a sign-in's start and the page to return to into the
// cookie's value: four dot-separated base64url fields.
func encodeStart(st *sso.Start, next string) string {
	return st.State + "." + st.Nonce + "." + st.Verifier + "." + base64.RawURLEncoding.EncodeToString([]byte(next))
}

func decodeStart(v string) (sso.Start, string, bool) {
	f := strings.Split(v, ".")
	if len(f) != 4 || f[0] == "" || f[1] == "" || f[2] == "" {
		return sso.Start{}, "", false
	}
	next, err := base64.RawURLEncoding.DecodeString(f[3])
	if err != nil {
		return sso.Start{}, "", false
	}
	return sso.Start{State: f[0], Nonce: f[1], Verifier: f[2]}, localPath(string(next)), true
}

// ssoBegin sends the browser to the provider. It changes nothing on the
// server: the sign-in's secrets go into the browser's cookie.
func (s *Server) ssoBegin(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.SSO.Begin(r.Context())
	if err != nil {
		s.refuseSSO(w, r, err)
		return
	}
	s.setSSOCookie(w, ssoCookie, encodeStart(st, localPath(r.URL.Query().Get("next"))), http.SameSiteLaxMode, ssoCookieAge)
	http.Redirect(w, r, st.URL, http.StatusSeeOther)
}

// ssoCallback is where the provider sends the browser back.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	var start sso.Start
	next := "/ui/"
	if c, err := r.Cookie(s.ssoCookieName(ssoCookie)); err == nil {
		if st, n, ok := decodeStart(c.Value); ok {
			start, next = st, n
		}
	}
	s.clearSSOCookie(w, ssoCookie, http.SameSiteLaxMode)
	q := r.URL.Query()
	id, err := s.cfg.SSO.Finish(r.Context(), sso.Callback{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"), Start: start})
	if err != nil {
		s.refuseSSO(w, r, err)
		return
	}
	res, err := s.wf.SSOLogin(r.Context(), workflow.SSOLoginInput{User: id.User, Issuer: id.Issuer, Subject: id.Subject,
		Groups: id.Groups, GroupsOmitted: id.GroupsOmitted, MFA: id.MFA, AMR: id.AMR, ACR: id.ACR, Addr: clientIP(r),
		Idle: s.cfg.IdleTimeout, Absolute: s.cfg.MaxAge})
	if err != nil {
		s.refuseSSOLogin(w, r, err)
		return
	}
	if res.WebLogin == nil {
		s.setSSOCookie(w, ssoPendingCookie, res.Pending, http.SameSiteStrictMode, workflow.DefaultSSOPendingFor)
		s.render(w, r, http.StatusOK, "ssocode", page{Title: "Your code", Data: loginData{User: id.User, Next: next, Token: s.loginToken(w, r)}})
		return
	}
	s.signedIn(w, r, res.Token, next)
}

// ssoCode takes the TOTP code after a sign-in through the provider.
func (s *Server) ssoCode(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.refuseForm(w, r, nil, err)
		return
	}
	if !s.checkLoginToken(r) {
		s.refuseForgery(w, r, nil)
		return
	}
	pending := ""
	if c, err := r.Cookie(s.ssoCookieName(ssoPendingCookie)); err == nil {
		pending = c.Value
	}
	s.clearSSOCookie(w, ssoPendingCookie, http.SameSiteStrictMode)
	wl, err := s.wf.SSOCode(r.Context(), workflow.SSOCodeInput{Pending: pending, Code: strings.TrimSpace(r.PostForm.Get("code")),
		Addr: clientIP(r), Idle: s.cfg.IdleTimeout, Absolute: s.cfg.MaxAge})
	if err != nil {
		switch {
		case errors.Is(err, workflow.ErrSSOPending):
			s.countAnonymous(w, r, "sso_pending", err)
		case errors.Is(err, workflow.ErrLoginFailed):
			s.penalise(w, r) // the workflow audited the failure
		}
		s.refuseSSOLogin(w, r, err)
		return
	}
	s.signedIn(w, r, wl.Token, localPath(r.PostForm.Get("next")))
}

// signedIn sets the new session's cookie and moves on to next. After the
// provider's redirects the navigation counts as cross-site, so a
// SameSite=Strict cookie would not be sent with a redirect to next; the
// page moves on by itself instead (a same-site navigation), with a link
// for browsers that do not.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, token, next string) {
	s.setSessionCookie(w, token)
	s.render(w, r, http.StatusOK, "signedin", page{Title: "Signed in", Data: loginData{Next: next}})
}

// refuseSSO answers a sign-in the provider's answer did not carry: no one
// is known yet, so the refusal is counted under the address with its
// reason (audited as anonymous.refused once per interval) and logged.
func (s *Server) refuseSSO(w http.ResponseWriter, r *http.Request, err error) {
	reason := sso.Reason(err)
	if reason == "unreachable" {
		// The provider is down: not the caller's doing, so not penalised.
		s.noteAnonymous(r, "sso_"+reason, err)
	} else {
		s.countAnonymous(w, r, "sso_"+reason, err)
	}
	status, msg := http.StatusForbidden, ssoMessages[reason]
	switch reason {
	case "unreachable":
		status = http.StatusServiceUnavailable
		s.log.Error("identity provider unreachable", "err", err)
	case "token", "claims", "provider", "error":
		// The page sends the administrator here for the reason.
		s.log.Warn("sign-in through the identity provider refused", "reason", reason, "source", clientIP(r), "err", err)
	}
	if msg == "" {
		msg = ssoMessages["token"]
	}
	s.render(w, r, status, "error", page{Title: "Not signed in", Error: msg, Data: s.loginLinks()})
}

var ssoMessages = map[string]string{
	"state":       "This sign-in could not be matched to this browser: it is stale, was begun in another browser, or did not come from your identity provider. You are not signed in. Sign in again.",
	"provider":    "Your identity provider did not sign you in. You are not signed in.",
	"code":        "Your identity provider would not confirm this sign-in (it was used already or has expired). You are not signed in. Sign in again.",
	"unreachable": "The CA cannot reach your identity provider just now, so you are not signed in. Try again in a moment.",
	"token":       "The answer from your identity provider could not be verified, so you are not signed in. An administrator finds the reason in the CA's log.",
	"audience":    "The answer from your identity provider was meant for another application, so you are not signed in.",
	"expired":     "The answer from your identity provider has expired (or the clocks disagree), so you are not signed in. Sign in again.",
	"nonce":       "The answer from your identity provider belongs to another sign-in, so you are not signed in. Sign in again.",
	"claims":      "Your identity provider did not say which Lockbox user you are, so you are not signed in. An administrator finds the reason in the CA's log.",
}

// refuseSSOLogin answers a refusal of the workflow after the provider
// vouched for someone; the workflow audited it.
func (s *Server) refuseSSOLogin(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusForbidden, ""
	switch {
	case errors.Is(err, workflow.ErrSSOUnknownUser):
		msg = "Your identity provider signed you in, but Lockbox has no user of that name, so you cannot use it. Ask whoever keeps the Lockbox policy to add you."
	case errors.Is(err, workflow.ErrDeactivated):
		msg = "Your account is disabled in your organisation's directory, so you cannot log in. Ask an administrator of the directory."
	case errors.Is(err, workflow.ErrSSOPending):
		msg = "This sign-in has expired or was used already. Sign in again."
	case errors.Is(err, workflow.ErrLoginFailed):
		status, msg = http.StatusUnauthorized, "Wrong or reused code. Sign in again."
	default:
		status, msg = describe(err)
		if status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
			s.fail(w, r, nil, err)
			return
		}
	}
	s.render(w, r, status, "error", page{Title: "Not signed in", Error: msg, Data: s.loginLinks()})
}

// loginLinks tells the error page to offer signing in again.
func (s *Server) loginLinks() *loginData { return &loginData{SSO: s.cfg.SSO != nil, Next: "/ui/"} }
