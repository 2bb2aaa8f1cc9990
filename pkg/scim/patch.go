package scim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/lockbox-ssh/lockbox/internal/clip"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Bounds of a PATCH.
const (
	maxOperations = 1000
	maxPath       = 512
)

type patchBody struct {
	Schemas    []string         `json:"schemas"`
	Operations []jsontext.Value `json:"Operations"`
}

type patchOpIn struct {
	Op    string         `json:"op"`
	Path  string         `json:"path"`
	Value jsontext.Value `json:"value"`
}

// operation is one PATCH operation, read: op lowercased, path parsed
// (nil without one).
type operation struct {
	op    string
	path  *filter.Path
	value jsontext.Value
}

// readPatch decodes a PatchOp body.
func (s *Server) readPatch(w http.ResponseWriter, r *http.Request) ([]operation, bool) {
	b, err := s.body(r)
	if err == nil {
		var ops []operation
		if ops, err = parsePatch(b); err == nil {
			return ops, true
		}
	}
	s.refuse(w, r, err)
	return nil, false
}

// parsePatch reads a PatchOp body (RFC 7644 3.5.2).
func parsePatch(b []byte) ([]operation, error) {
	var body patchBody
	if err := decodeObject(b, &body, "schemas", "Operations"); err != nil {
		return nil, err
	}
	switch {
	case len(body.Operations) == 0:
		return nil, invalid("invalidValue", "Operations is required and may not be empty")
	case len(body.Operations) > maxOperations:
		return nil, invalid("invalidValue", "at most %d operations in one PATCH", maxOperations)
	}
	out := make([]operation, 0, len(body.Operations))
	for _, raw := range body.Operations {
		var in patchOpIn
		if err := decodeObject(raw, &in, "op", "path", "value"); err != nil {
			return nil, err
		}
		op := operation{op: strings.ToLower(in.Op), value: in.Value}
		if op.op != "add" && op.op != "remove" && op.op != "replace" {
			return nil, invalid("invalidValue", "op %q: want add, remove or replace", clip.Runes(in.Op, 60))
		}
		if in.Path != "" {
			if len(in.Path) > maxPath {
				return nil, invalid("invalidPath", "the path has more than %d bytes", maxPath)
			}
			p, err := filter.ParsePath([]byte(in.Path))
			if err != nil {
				return nil, invalid("invalidPath", "path %q is not a SCIM attribute path", clip.Runes(in.Path, 60))
			}
			op.path = &p
		}
		switch {
		case op.path == nil && op.op == "remove":
			return nil, invalid("noTarget", "remove needs a path")
		case op.op != "remove" && len(op.value) == 0:
			return nil, invalid("invalidValue", "%s needs a value", op.op)
		}
		out = append(out, op)
	}
	return out, nil
}

var strict = []jsonv2.Options{jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false)}

// attribute names the attribute a path targets, lowercased, if it is one
// of the resource's core attributes (its schema URN may prefix it);
// "" for an extension's attribute. complex is set when the path filters
// values or names a sub-attribute.
func attribute(p *filter.Path, schema string) (name string, complex bool) {
	a := p.AttributePath
	if a.URIPrefix != nil && !strings.EqualFold(*a.URIPrefix, schema) {
		return "", false
	}
	return strings.ToLower(a.AttributeName), p.ValueExpression != nil || a.SubAttribute != nil || p.SubAttribute != nil
}

func stringValue(v jsontext.Value, name string) (string, error) {
	var s string
	if err := jsonv2.Unmarshal(v, &s, strict...); err != nil {
		return "", invalid("invalidValue", "%s takes a string", name)
	}
	return s, nil
}

// activeValue reads active: a boolean, or the strings "True" and "False"
// in any case, as Entra ID sends them.
func activeValue(v jsontext.Value) (bool, error) {
	var b bool
	if err := jsonv2.Unmarshal(v, &b, strict...); err == nil {
		return b, nil
	}
	var s string
	if err := jsonv2.Unmarshal(v, &s, strict...); err == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, invalid("invalidValue", "active takes true or false")
}

// applyUserPatch applies ops to u. Attributes Lockbox does not keep are
// accepted and change nothing.
func applyUserPatch(u *store.DirectoryUser, ops []operation) error {
	for _, op := range ops {
		if op.path == nil {
			var in userIn
			if err := decodeObject(op.value, &in, userAttributes...); err != nil {
				return err
			}
			if in.UserName != nil {
				u.UserName = *in.UserName
			}
			if in.ExternalID != nil {
				u.ExternalID = *in.ExternalID
			}
			if in.DisplayName != nil {
				u.DisplayName = *in.DisplayName
			}
			if in.Active != nil {
				u.Active = *in.Active
			}
			continue
		}
		name, complex := attribute(op.path, userSchema)
		kept := map[string]*string{"username": &u.UserName, "externalid": &u.ExternalID, "displayname": &u.DisplayName}
		field, isText := kept[name]
		switch {
		case !isText && name != "active":
			continue // not kept
		case complex:
			return invalid("invalidPath", "%s is a single value", op.path.AttributePath.AttributeName)
		case op.op == "remove" && (name == "active" || name == "username"):
			return invalid("mutability", "%s cannot be removed", op.path.AttributePath.AttributeName)
		case op.op == "remove":
			*field = ""
		case name == "active":
			b, err := activeValue(op.value)
			if err != nil {
				return err
			}
			u.Active = b
		default:
			s, err := stringValue(op.value, op.path.AttributePath.AttributeName)
			if err != nil {
				return err
			}
			*field = s
		}
	}
	return nil
}

// membersValue reads a list of members, or one member given alone.
func membersValue(v jsontext.Value) ([]string, error) {
	if v.Kind() == '{' {
		return decodeMembers([]jsontext.Value{v})
	}
	var list []jsontext.Value
	if err := jsonv2.Unmarshal(v, &list, strict...); err != nil {
		return nil, invalid("invalidValue", "members takes a list of {\"value\": USER-ID}")
	}
	return decodeMembers(list)
}

// memberFilter reads members[value eq "ID"]: the one member a remove
// names.
func memberFilter(e filter.Expression) (string, error) {
	x, ok := e.(*filter.AttributeExpression)
	if ok && strings.EqualFold(x.AttributePath.AttributeName, "value") && x.AttributePath.SubAttribute == nil && x.Operator == filter.EQ {
		if id, ok := x.CompareValue.(string); ok {
			if err := json.Unmarshal([]byte(`"`+id+`"`), &id); err == nil {
				return id, nil
			}
		}
	}
	return "", invalid("invalidFilter", `a member is named as members[value eq "USER-ID"]`)
}

// applyGroupPatch applies ops to g.
func applyGroupPatch(g *store.DirectoryGroup, ops []operation) error {
	for _, op := range ops {
		if op.path == nil {
			var in groupIn
			if err := decodeObject(op.value, &in, groupAttributes...); err != nil {
				return err
			}
			if in.DisplayName != nil {
				g.DisplayName = *in.DisplayName
			}
			if in.ExternalID != nil {
				g.ExternalID = *in.ExternalID
			}
			if in.Members != nil {
				ids, err := decodeMembers(*in.Members)
				if err != nil {
					return err
				}
				g.Members = changeMembers(op.op, g.Members, ids)
			}
			continue
		}
		name, complex := attribute(op.path, groupSchema)
		switch {
		case name == "members":
			if err := patchMembers(g, op); err != nil {
				return err
			}
		case name != "displayname" && name != "externalid":
			continue // not kept
		case complex:
			return invalid("invalidPath", "%s is a single value", op.path.AttributePath.AttributeName)
		case op.op == "remove" && name == "displayname":
			return invalid("mutability", "displayName cannot be removed")
		case op.op == "remove":
			g.ExternalID = ""
		default:
			s, err := stringValue(op.value, op.path.AttributePath.AttributeName)
			if err != nil {
				return err
			}
			if name == "displayname" {
				g.DisplayName = s
			} else {
				g.ExternalID = s
			}
		}
	}
	return nil
}

// patchMembers applies one operation on members.
func patchMembers(g *store.DirectoryGroup, op operation) error {
	p := op.path
	switch {
	case p.SubAttribute != nil || p.AttributePath.SubAttribute != nil:
		return invalid("invalidPath", "members are added and removed whole")
	case p.ValueExpression != nil:
		if op.op != "remove" {
			return invalid("invalidPath", `members[value eq "ID"] is for remove; add members with path "members"`)
		}
		id, err := memberFilter(p.ValueExpression)
		if err != nil {
			return err
		}
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == id })
		return nil
	case op.op == "remove" && (len(op.value) == 0 || op.value.Kind() == 'n'):
		g.Members = nil
		return nil
	}
	ids, err := membersValue(op.value)
	if err != nil {
		return err
	}
	g.Members = changeMembers(op.op, g.Members, ids)
	return nil
}

// changeMembers adds, replaces with or removes ids.
func changeMembers(op string, members, ids []string) []string {
	switch op {
	case "replace":
		return ids
	case "remove":
		return slices.DeleteFunc(members, func(m string) bool { return slices.Contains(ids, m) })
	}
	return append(members, ids...)
}
