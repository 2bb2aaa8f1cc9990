package scim

import (
	"net/http"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// readUser decodes a User body.
func (s *Server) readUser(w http.ResponseWriter, r *http.Request) (*userIn, bool) {
	b, err := s.body(r)
	if err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	var in userIn
	if err := decodeObject(b, &in, userAttributes...); err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	if in.UserName == nil {
		s.refuse(w, r, invalid("invalidValue", "userName is required"))
		return nil, false
	}
	return &in, true
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readUser(w, r)
	if !ok {
		return
	}
	u := store.DirectoryUser{UserName: *in.UserName, ExternalID: deref(in.ExternalID), DisplayName: deref(in.DisplayName), Active: true}
	if in.Active != nil {
		u.Active = *in.Active
	}
	out, err := s.dir.CreateDirectoryUser(r.Context(), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", baseURL(r)+"/Users/"+out.ID)
	writeJSON(w, http.StatusCreated, userResource(r, out))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.dir.DirectoryUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userResource(r, u))
}

// replaceUser is PUT: the body replaces what Lockbox keeps. An active
// left out keeps its value, so a PUT never reactivates by omission.
func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readUser(w, r)
	if !ok {
		return
	}
	out, err := s.dir.ChangeDirectoryUser(r.Context(), r.PathValue("id"), func(u *store.DirectoryUser) error {
		u.UserName, u.ExternalID, u.DisplayName = *in.UserName, deref(in.ExternalID), deref(in.DisplayName)
		if in.Active != nil {
			u.Active = *in.Active
		}
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userResource(r, out))
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	ops, ok := s.readPatch(w, r)
	if !ok {
		return
	}
	out, err := s.dir.ChangeDirectoryUser(r.Context(), r.PathValue("id"), func(u *store.DirectoryUser) error {
		return applyUserPatch(u, ops)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userResource(r, out))
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.dir.DeleteDirectoryUser(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	page, err := readPage(r)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	var users []*store.DirectoryUser
	total := 0
	if page.filter != "" {
		users, err = s.findUsers(r, page.filter)
		total = len(users)
		users = page.cut(users)
	} else {
		users, total, err = s.dir.DirectoryUsers(r.Context(), page.start-1, page.count)
	}
	if err != nil {
		s.answer(w, r, err)
		return
	}
	out := listResponse{Schemas: []string{listSchema}, TotalResults: total, StartIndex: page.start, ItemsPerPage: len(users), Resources: []any{}}
	for _, u := range users {
		out.Resources = append(out.Resources, userResource(r, u))
	}
	writeJSON(w, http.StatusOK, out)
}
