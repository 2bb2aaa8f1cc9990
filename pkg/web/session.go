package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Cookie names. Over HTTPS the session cookie carries the __Host- prefix,
// which makes the browser insist on Secure, Path=/ and no Domain, so no
// other host or path can plant or read it. Browsers refuse __Host- and
// Secure cookies on plain http:// origins (except localhost), so over HTTP
// the plain name is used, without Secure.
const (
	secureCookie = "__Host-lockbox"
	plainCookie  = "lockbox"
)

func (s *Server) cookieName() string {
	if s.cfg.Secure {
		return secureCookie
	}
	return plainCookie
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: token, Path: "/", Secure: s.cfg.Secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.MaxAge.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", Secure: s.cfg.Secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// viewer is the logged-in person a page is for.
type viewer struct {
	Name    string
	Actor   workflow.Actor
	CSRF    string
	Auditor bool
	// Waiting counts the requests that wait for the viewer's approval,
	// shown in the navigation of every page (filled by render).
	Waiting int
	// Reviewer: the viewer may review some team (filled by render).
	Reviewer bool
	// Notifications: the viewer, an auditor, may see the notification
	// outbox (filled by render).
	Notifications bool
	token         string
}

// authedHandler is a handler for a logged-in viewer.
type authedHandler func(w http.ResponseWriter, r *http.Request, v *viewer)

// authed finds the viewer's web session. Without one, a GET goes to the
// login page (and back afterwards); a POST is refused with nothing
// changed. Every POST must carry the session's form token.
func (s *Server) authed(h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, token, err := s.session(r)
		if err != nil {
			if !errors.Is(err, workflow.ErrWebSession) {
				s.fail(w, r, nil, err)
				return
			}
			s.clearSessionCookie(w)
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.countAnonymous(w, r, "web_session", err)
			s.errorPage(w, r, nil, http.StatusForbidden, "Your session ended, so nothing was changed. Log in and try again.")
			return
		}
		actor := workflow.UserActor(ws.User)
		v := &viewer{Name: ws.User, Actor: actor, CSRF: ws.CSRF, Auditor: s.wf.IsAuditor(actor), token: token}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := parseForm(w, r); err != nil {
				s.refuseForm(w, r, v, err)
				return
			}
			if !s.checkFormToken(r, ws.CSRF) {
				s.refuseForgery(w, r, v)
				return
			}
		}
		h(w, r, v)
	})
}

// session returns the web session of r's cookie.
func (s *Server) session(r *http.Request) (*store.WebSession, string, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil, "", workflow.ErrWebSession
	}
	ws, err := s.wf.WebSession(r.Context(), c.Value, s.cfg.IdleTimeout)
	return ws, c.Value, err
}

// clientIP is the address failed logins are counted under: the peer's
// IP. (Behind a reverse proxy every client shares the proxy's address.)
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath keeps a post-login redirect on this site, under /ui/.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}
