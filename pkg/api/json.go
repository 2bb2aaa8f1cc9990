package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// decode parses body into v strictly: exactly one JSON value, valid
// UTF-8, no unknown names, no name given twice, and names matched
// exactly as the contract spells them (never case-folded). Every body the
// API reads goes through here, so that one body cannot mean two things to
// two readers.
func decode(body []byte, v any) error {
	if jsontext.Value(body).Kind() != '{' {
		return fmt.Errorf("%w: the body must be one JSON object", workflow.ErrBadInput)
	}
	err := jsonv2.Unmarshal(body, v,
		jsonv2.RejectUnknownMembers(true),
		jsonv2.MatchCaseInsensitiveNames(false),
		jsontext.AllowDuplicateNames(false),
		jsontext.AllowInvalidUTF8(false))
	if err != nil {
		return fmt.Errorf("%w: %s", workflow.ErrBadInput, jsonProblem(err))
	}
	return nil
}

// jsonProblem says what is wrong with a body in words for its sender,
// without the decoder's Go type names.
func jsonProblem(err error) string {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		where := string(se.JSONPointer)
		if where == "" {
			where = "the body"
		}
		switch {
		case errors.Is(se.Err, jsonv2.ErrUnknownName):
			return fmt.Sprintf("unknown field %s (names are case-sensitive)", where)
		case se.JSONKind != 0:
			return fmt.Sprintf("%s: wrong type (got %s)", where, kindName(se.JSONKind))
		}
		return fmt.Sprintf("%s: %v", where, errors.Unwrap(se))
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("field %s given more than once", syn.JSONPointer)
		}
		return fmt.Sprintf("not valid JSON at byte %d: %v", syn.ByteOffset, syn.Err)
	}
	return err.Error()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	encodeJSON(w, v) //nolint:errcheck // the client went away; nothing to do
}

// encodeJSON writes v as every answer is written: indented, one value, a
// newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
