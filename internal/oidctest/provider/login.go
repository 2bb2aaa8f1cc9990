package main

import (
	"context"
	"html/template"
	"net/http"
)

// login is the provider's own login form: user name and password.
type login struct {
	st       *storage
	callback func(ctx context.Context, id string) string
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>User name <input id="username" name="username" autofocus></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="submit" type="submit">Sign in</button>
</form></body></html>`))

func (l *login) page(w http.ResponseWriter, r *http.Request) {
	l.render(w, http.StatusOK, r.URL.Query().Get("authRequestID"), "")
}

func (l *login) render(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	loginPage.Execute(w, struct{ ID, Error string }{id, msg}) //nolint:errcheck // the client went away
}

func (l *login) check(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		l.render(w, http.StatusBadRequest, "", "unreadable form")
		return
	}
	id := r.PostForm.Get("id")
	if err := l.st.authenticate(id, r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
		l.render(w, http.StatusUnauthorized, id, err.Error())
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}
