package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

type loginData struct {
	User  string
	Next  string
	Token string
	// SSO: offer signing in through the identity provider (named
	// SSOName); Password: offer the password and code form.
	SSO      bool
	SSOName  string
	Password bool
}

func (s *Server) newLoginData(w http.ResponseWriter, r *http.Request, user, next string) loginData {
	return loginData{User: user, Next: localPath(next), Token: s.loginToken(w, r), SSO: s.cfg.SSO != nil,
		SSOName: s.cfg.SSOName, Password: !s.cfg.NoPasswordLogin}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.session(r); err == nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := s.newLoginData(w, r, "", r.URL.Query().Get("next"))
	s.render(w, r, http.StatusOK, "login", page{Title: "Log in", Data: d})
}

// login checks user name, password and TOTP code. Every failure shows the
// same message; the workflow does the same work for unknown users and
// throttles failures per account and per address.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoPasswordLogin {
		s.countAnonymous(w, r, "web_password_off", errPasswordOff)
		s.errorPage(w, r, nil, http.StatusForbidden, "Logging in with a password is turned off here: sign in through your identity provider.")
		return
	}
	if err := parseForm(w, r); err != nil {
		s.refuseForm(w, r, nil, err)
		return
	}
	if !s.checkLoginToken(r) {
		s.refuseForgery(w, r, nil)
		return
	}
	f := r.PostForm
	user := strings.TrimSpace(f.Get("user"))
	d := s.newLoginData(w, r, user, f.Get("next"))
	res, err := s.wf.WebLogin(r.Context(), workflow.WebLoginInput{User: user, Password: f.Get("password"),
		Code: strings.TrimSpace(f.Get("code")), Addr: clientIP(r), Idle: s.cfg.IdleTimeout, Absolute: s.cfg.MaxAge})
	if err != nil {
		status, msg := describe(err)
		if status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
			s.fail(w, r, nil, err)
			return
		}
		if !errors.Is(err, workflow.ErrDeactivated) {
			s.penalise(w, r) // the workflow audited the failure
		}
		switch {
		case errors.Is(err, workflow.ErrDeactivated):
			// Said only once the password and code were right.
			msg = "Your account is disabled in your organisation's directory, so you cannot log in. Ask an administrator of the directory."
		case !errors.Is(err, workflow.ErrThrottled):
			msg = "Wrong user name, password or code."
		}
		s.render(w, r, status, "login", page{Title: "Log in", Error: msg, Data: d})
		return
	}
	// A fresh token at every login: a session ID planted before login is
	// never the one that becomes authenticated.
	s.setSessionCookie(w, res.Token)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

var errPasswordOff = errors.New("password login is turned off")

func (s *Server) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := s.wf.WebLogout(r.Context(), v.token); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
