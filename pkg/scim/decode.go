package scim

import (
	"errors"
	"slices"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/lockbox-ssh/lockbox/internal/clip"
)

// decodeObject parses data, which must be one JSON object, into v. Names
// given twice (anywhere in data) and invalid UTF-8 are refused. The
// names in known, the attributes v keeps, are matched exactly; a name
// that differs from one of them only in case is refused; any other name
// is accepted and dropped.
func decodeObject(data []byte, v any, known ...string) error {
	if jsontext.Value(data).Kind() != '{' {
		return invalid("invalidSyntax", "the body must be one JSON object")
	}
	var names map[string]jsontext.Value
	opts := []jsonv2.Options{jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false)}
	if err := jsonv2.Unmarshal(data, &names, opts...); err != nil {
		return invalid("invalidSyntax", "%s", jsonProblem(err))
	}
	for name := range names {
		if slices.Contains(known, name) {
			continue
		}
		if i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, name) }); i >= 0 {
			return invalid("invalidSyntax", "attribute %q: write it %q (Lockbox reads attribute names exactly as RFC 7643 spells them)", clip.Runes(name, 60), known[i])
		}
	}
	opts = append(opts, jsonv2.RejectUnknownMembers(false), jsonv2.MatchCaseInsensitiveNames(false))
	if err := jsonv2.Unmarshal(data, v, opts...); err != nil {
		return invalid("invalidValue", "%s", jsonProblem(err))
	}
	return nil
}

// jsonProblem says what is wrong with a body, without Go type names.
func jsonProblem(err error) string {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		where := string(se.JSONPointer)
		if where == "" {
			where = "the body"
		}
		if se.JSONKind != 0 {
			return where + ": wrong type of value"
		}
		return where + ": not a value Lockbox can read"
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return "attribute " + string(syn.JSONPointer) + " given more than once"
		}
		return "not valid JSON: " + syn.Err.Error()
	}
	return "not valid JSON"
}
