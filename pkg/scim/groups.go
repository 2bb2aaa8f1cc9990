package scim

import (
	"net/http"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// decodeMembers reads a members list: objects whose value is a user's id.
func decodeMembers(list []jsontext.Value) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, item := range list {
		var m memberRef
		if err := decodeObject(item, &m, memberAttributes...); err != nil {
			return nil, err
		}
		if strings.TrimSpace(m.Value) == "" {
			return nil, invalid("invalidValue", "a member needs a value: the user's id")
		}
		out = append(out, m.Value)
	}
	return out, nil
}

// readGroup decodes a Group body.
func (s *Server) readGroup(w http.ResponseWriter, r *http.Request) (*store.DirectoryGroup, bool) {
	b, err := s.body(r)
	if err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	var in groupIn
	err = decodeObject(b, &in, groupAttributes...)
	if err == nil && in.DisplayName == nil {
		err = invalid("invalidValue", "displayName is required")
	}
	g := &store.DirectoryGroup{}
	if err == nil && in.Members != nil {
		g.Members, err = decodeMembers(*in.Members)
	}
	if err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	g.DisplayName, g.ExternalID = *in.DisplayName, deref(in.ExternalID)
	return g, true
}

// withMembers reports whether the answer lists members: not when the
// caller asks to leave them out (excludedAttributes=members).
func withMembers(r *http.Request) bool {
	for _, a := range strings.Split(r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			return false
		}
	}
	return true
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	g, ok := s.readGroup(w, r)
	if !ok {
		return
	}
	out, err := s.dir.CreateDirectoryGroup(r.Context(), *g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", baseURL(r)+"/Groups/"+out.ID)
	writeJSON(w, http.StatusCreated, groupResource(r, out, true))
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.dir.DirectoryGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupResource(r, g, withMembers(r)))
}

// replaceGroup is PUT: names and members as the body gives them.
func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readGroup(w, r)
	if !ok {
		return
	}
	out, err := s.dir.ChangeDirectoryGroup(r.Context(), r.PathValue("id"), func(g *store.DirectoryGroup) error {
		g.DisplayName, g.ExternalID, g.Members = in.DisplayName, in.ExternalID, append([]string(nil), in.Members...)
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupResource(r, out, true))
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) {
	ops, ok := s.readPatch(w, r)
	if !ok {
		return
	}
	out, err := s.dir.ChangeDirectoryGroup(r.Context(), r.PathValue("id"), func(g *store.DirectoryGroup) error {
		return applyGroupPatch(g, ops)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupResource(r, out, withMembers(r)))
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if err := s.dir.DeleteDirectoryGroup(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	page, err := readPage(r)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	var groups []*store.DirectoryGroup
	total := 0
	if page.filter != "" {
		groups, err = s.findGroups(r, page.filter)
		total = len(groups)
		groups = cut(page, groups)
	} else {
		groups, total, err = s.dir.DirectoryGroups(r.Context(), page.start-1, page.count)
	}
	if err != nil {
		s.answer(w, r, err)
		return
	}
	out := listResponse{Schemas: []string{listSchema}, TotalResults: total, StartIndex: page.start, ItemsPerPage: len(groups), Resources: []any{}}
	for _, g := range groups {
		out.Resources = append(out.Resources, groupResource(r, g, withMembers(r)))
	}
	writeJSON(w, http.StatusOK, out)
}
