package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Paging bounds: count defaults to defaultCount and is at most maxCount.
const (
	defaultCount = 100
	maxCount     = 1000
	maxFilter    = 512
)

// page is a list query: startIndex (from 1), count, and a filter.
type page struct {
	start, count int
	filter       string
}

func readPage(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{start: 1, count: defaultCount, filter: q.Get("filter")}
	for name, v := range map[string]*int{"startIndex": &p.start, "count": &p.count} {
		s := q.Get(name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, invalid("invalidValue", "%s must be a whole number", name)
		}
		*v = n
	}
	p.start = max(p.start, 1)
	p.count = min(max(p.count, 0), maxCount)
	if len(p.filter) > maxFilter {
		return p, invalid("invalidFilter", "the filter has more than %d bytes", maxFilter)
	}
	return p, nil
}

// cut pages a list found by a filter.
func cut[T any](p page, all []T) []T {
	if p.start-1 >= len(all) {
		return nil
	}
	all = all[p.start-1:]
	return all[:min(len(all), p.count)]
}

func (p page) cut(users []*store.DirectoryUser) []*store.DirectoryUser { return cut(p, users) }

// equalities reads a filter Lockbox can answer: ATTR eq "VALUE" terms
// joined by and, each attribute one of allowed (in any case, with or
// without the resource's schema URN), at most once. It returns the
// values by the attribute's name as allowed spells it.
func equalities(raw, schema string, allowed ...string) (map[string]string, error) {
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return nil, invalid("invalidFilter", "the filter is not SCIM filter syntax")
	}
	out := map[string]string{}
	var walk func(filter.Expression) error
	walk = func(e filter.Expression) error {
		switch x := e.(type) {
		case *filter.LogicalExpression:
			if x.Operator != filter.AND {
				return invalid("invalidFilter", "Lockbox answers filters of eq terms joined by and")
			}
			if err := walk(x.Left); err != nil {
				return err
			}
			return walk(x.Right)
		case *filter.AttributeExpression:
			p := x.AttributePath
			if p.SubAttribute != nil || (p.URIPrefix != nil && !strings.EqualFold(*p.URIPrefix, schema)) {
				return invalid("invalidFilter", "Lockbox filters on %s only", strings.Join(allowed, ", "))
			}
			i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, p.AttributeName) })
			v, ok := x.CompareValue.(string)
			switch {
			case i < 0:
				return invalid("invalidFilter", "Lockbox filters on %s only", strings.Join(allowed, ", "))
			case x.Operator != filter.EQ || !ok:
				return invalid("invalidFilter", "Lockbox answers %s eq \"VALUE\" only", allowed[i])
			}
			if _, twice := out[allowed[i]]; twice {
				return invalid("invalidFilter", "%s is given twice", allowed[i])
			}
			// The parser keeps the string's escapes; JSON reads them.
			if err := json.Unmarshal([]byte(`"`+v+`"`), &v); err != nil {
				return invalid("invalidFilter", "the value of %s is not a valid string", allowed[i])
			}
			out[allowed[i]] = v
			return nil
		}
		return invalid("invalidFilter", "Lockbox answers filters of eq terms joined by and")
	}
	if err := walk(expr); err != nil {
		return nil, err
	}
	return out, nil
}

// notFound reports whether err says only that nothing matched.
func notFound(err error) bool { return errors.Is(err, workflow.ErrNoDirectoryEntry) }

// findUsers answers userName eq "x" (and id eq "y").
func (s *Server) findUsers(r *http.Request, raw string) ([]*store.DirectoryUser, error) {
	eq, err := equalities(raw, userSchema, "userName", "id")
	if err != nil {
		return nil, err
	}
	var u *store.DirectoryUser
	if name, ok := eq["userName"]; ok {
		u, err = s.dir.FindDirectoryUser(r.Context(), name)
	} else {
		u, err = s.dir.DirectoryUser(r.Context(), eq["id"])
	}
	if notFound(err) || (err == nil && eq["id"] != "" && u.ID != eq["id"]) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []*store.DirectoryUser{u}, nil
}

// findGroups answers displayName eq "x", id eq "y", and either with
// members eq "USER-ID" (is this user a member).
func (s *Server) findGroups(r *http.Request, raw string) ([]*store.DirectoryGroup, error) {
	eq, err := equalities(raw, groupSchema, "displayName", "id", "members")
	if err != nil {
		return nil, err
	}
	var g *store.DirectoryGroup
	switch {
	case eq["displayName"] != "":
		g, err = s.dir.FindDirectoryGroup(r.Context(), eq["displayName"])
	case eq["id"] != "":
		g, err = s.dir.DirectoryGroup(r.Context(), eq["id"])
	default:
		return nil, invalid("invalidFilter", "filter groups by displayName or id")
	}
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, byMember := eq["members"]
	if (eq["id"] != "" && g.ID != eq["id"]) || (byMember && !slices.Contains(g.Members, eq["members"])) {
		return nil, nil
	}
	return []*store.DirectoryGroup{g}, nil
}
