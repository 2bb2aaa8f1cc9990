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
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.session(r); err == nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := loginData{Next: localPath(r.URL.Query().Get("next")), Token: s.loginToken(w, r)}
	s.render(w, r, http.StatusOK, "login", page{Title: "Log in", Data: d})
}

// login checks user name, password and TOTP code. Every failure shows the
// same message; the workflow does the same work for unknown users and
// throttles failures per account and per address.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
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
	d := loginData{User: user, Next: localPath(f.Get("next")), Token: s.loginToken(w, r)}
	res, err := s.wf.WebLogin(r.Context(), workflow.WebLoginInput{User: user, Password: f.Get("password"),
		Code: strings.TrimSpace(f.Get("code")), Addr: clientIP(r), Idle: s.cfg.IdleTimeout, Absolute: s.cfg.MaxAge})
	if err != nil {
		status, msg := describe(err)
		if status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
			s.fail(w, r, nil, err)
			return
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

func (s *Server) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := s.wf.WebLogout(r.Context(), v.token); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
