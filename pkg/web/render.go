package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/inert"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/when"
)

// pages are the parsed templates: each page is layout.html plus its own
// file.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"clean":    clean,
	"time":     formatTime,
	"duration": when.Duration,
	"join":     func(l []string) string { return clean(strings.Join(l, ", ")) },
	"state":    func(s store.State) string { return string(s) },
	"bytes":    formatBytes,
	"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"days":     reviewDays,
}

func parsePages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parsing the layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web: parsing %s: %w", name, err)
		}
		p.byName[strings.TrimSuffix(name, ".html")] = t
	}
	return p, nil
}

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // which menu item is current
	Viewer *viewer
	Flash  string
	Error  string
	Data   any
	// StyleNonce is set on the replay page only (see replayCSP).
	StyleNonce string
}

// render writes page name with status. Templates run into a buffer first,
// so a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t := s.pages.byName[name]
	if t == nil {
		s.log.Error("no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p.Viewer != nil {
		p.Viewer.Waiting = s.waiting(r, p.Viewer)
		p.Viewer.Reviewer = s.mayReview(p.Viewer)
		p.Viewer.Notifications = s.cfg.Notifications != nil && p.Viewer.Auditor
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.log.Error("rendering a page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// waiting counts the requests that wait for v, for the navigation. Only
// pages need it, so only render asks. A failure (the database) leaves
// the count out and is logged: the page itself says what went wrong.
func (s *Server) waiting(r *http.Request, v *viewer) int {
	n, err := s.wf.WaitingFor(r.Context(), v.Actor)
	if err != nil {
		s.log.Error("counting the requests waiting for the viewer", "user", v.Name, "err", err)
		return 0
	}
	return n
}

// errorPage shows msg, written for the person, with status.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Viewer: v, Error: msg})
}

// fail answers err: a refusal the person can act on is shown as such;
// anything else is logged and shown without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	status, msg := describe(err)
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		s.log.Error("store unavailable", "path", r.URL.Path, "err", err)
	}
	if errors.Is(err, errCanceled) {
		return
	}
	s.errorPage(w, r, v, status, msg)
}

// clean shows text from the CA inert (see package inert).
func clean(s string) string { return inert.Text(s) }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return when.Stamp(t)
}

func formatBytes(n int64) string {
	switch {
	case n <= 0:
		return "–"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
