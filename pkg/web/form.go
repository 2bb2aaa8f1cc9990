package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// formFields are the names the web form's POST bodies carry (see the
// templates), exactly as spelled there.
var formFields = map[string]bool{
	csrfField: true, "next": true, "user": true, "password": true, "code": true,
	"digest": true, "reason": true, "back": true, "duration": true, "team": true, "decision": true,
}

var errBadForm = fmt.Errorf("%w: form", workflow.ErrBadInput)

// parseForm reads a bounded form body strictly: every field is one of
// formFields, spelled exactly so, and given at most once. Repeated or
// case-folded names would let one form mean two things (Get takes the
// first value), so they are refused like an ambiguous JSON body. Fields of
// the URL's query are not read from POSTs.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: unreadable: %v", errBadForm, err)
	}
	for name, values := range r.PostForm {
		switch {
		case !formFields[name]:
			return fmt.Errorf("%w: unknown field %q (names are case-sensitive)", errBadForm, name[:min(len(name), 40)])
		case len(values) > 1:
			return fmt.Errorf("%w: field %q given more than once", errBadForm, name)
		}
	}
	return nil
}

// refuseForm answers a form that parseForm refused, audited under the
// viewer when there is one, else counted under the address.
func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	if v == nil {
		s.countAnonymous(w, r, "web_bad_form", err)
	} else {
		if aerr := s.wf.RecordRefusal(r.Context(), v.Actor, "web.input.refused", r.Method+" "+r.URL.Path, err); aerr != nil && !errors.Is(aerr, errBadForm) {
			s.log.Error("auditing a refused form", "err", aerr)
		}
	}
	s.errorPage(w, r, v, http.StatusBadRequest, "The form could not be read ("+strings.TrimPrefix(err.Error(), errBadForm.Error()+": ")+"), so nothing was changed. Reload the page and try again.")
}
