package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file walks yaml.Node trees by hand rather than decoding into structs:
// that way every error carries the line of the exact node at fault, and all
// errors in a file are reported at once instead of the first one only.

// loc is where something was written.
type loc struct {
	file string
	line int
}

func (l loc) String() string { return fmt.Sprintf("%s:%d", l.file, l.line) }

// lineError is an error in a policy file, printed as FILE:LINE: message.
type lineError struct {
	at  loc
	msg string
}

func (e *lineError) Error() string { return e.at.String() + ": " + e.msg }

// nodes decodes the nodes of one file at a time and collects errors.
type nodes struct {
	file string
	errs []*lineError
}

func (d *nodes) at(n *yaml.Node) loc { return loc{d.file, n.Line} }

func (d *nodes) errorAt(l loc, format string, args ...any) {
	d.errs = append(d.errs, &lineError{l, fmt.Sprintf(format, args...)})
}

func (d *nodes) errorf(n *yaml.Node, format string, args ...any) {
	d.errorAt(d.at(n), format, args...)
}

// usable reports whether n holds a value, rejecting aliases: they would let a
// small file expand into a huge policy and are never needed here.
func (d *nodes) usable(n *yaml.Node, what string) bool {
	if n == nil || isNull(n) {
		return false
	}
	if n.Kind == yaml.AliasNode {
		d.errorf(n, "%s: YAML aliases (*%s) are not supported in policy files", what, n.Value)
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// fields checks that n is a mapping whose keys are among allowed, each given
// once, and returns the value nodes by key. ok is false if n is not a mapping.
func (d *nodes) fields(n *yaml.Node, what string, allowed ...string) (f map[string]*yaml.Node, ok bool) {
	if !d.usable(n, what) {
		return map[string]*yaml.Node{}, n == nil || isNull(n)
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping of fields (key: value), found %s", what, kindName(n))
		return nil, false
	}
	f = make(map[string]*yaml.Node, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: field names must be plain words", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.errorf(k, "%s: field %q given twice (first at line %d)", what, k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		if !slices.Contains(allowed, k.Value) {
			d.errorf(k, "%s: unknown field %q (known fields: %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		f[k.Value] = v
	}
	return f, true
}

// list returns the items of a sequence; a missing or null value is empty.
func (d *nodes) list(n *yaml.Node, what string) []*yaml.Node {
	if !d.usable(n, what) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list, found %s", what, kindName(n))
		return nil
	}
	return n.Content
}

// str returns a scalar's text; a missing or null value is "".
func (d *nodes) str(n *yaml.Node, what string) string {
	if !d.usable(n, what) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: expected a single value, found %s", what, kindName(n))
		return ""
	}
	return n.Value
}

// strs returns the items of a list of scalars with their nodes.
func (d *nodes) strs(n *yaml.Node, what string) []*yaml.Node {
	var out []*yaml.Node
	for _, item := range d.list(n, what) {
		if d.str(item, what) != "" {
			out = append(out, item)
		} else if item.Kind == yaml.ScalarNode {
			d.errorf(item, "%s: empty item", what)
		}
	}
	return out
}

func (d *nodes) boolean(n *yaml.Node, what string) bool {
	if !d.usable(n, what) {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.errorf(n, "%s: expected true or false, found %s", what, describe(n))
	}
	return b
}

// integer returns a scalar integer, or def when the value is missing.
func (d *nodes) integer(n *yaml.Node, what string, def int) int {
	if !d.usable(n, what) {
		return def
	}
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.errorf(n, "%s: expected a whole number, found %s", what, describe(n))
		return def
	}
	return i
}

// duration returns a Go duration in (0, LongestMaxDuration], or 0 when the
// value is missing or bad.
func (d *nodes) duration(n *yaml.Node, what string) time.Duration {
	s := d.str(n, what)
	if s == "" {
		if n != nil && !isNull(n) && n.Kind == yaml.ScalarNode {
			d.errorf(n, "%s: empty duration; use a Go duration such as 30m or 2h", what)
		}
		return 0
	}
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		d.errorf(n, "%s: bad duration %q; use a Go duration such as 30m or 2h", what, s)
		return 0
	case v <= 0:
		d.errorf(n, "%s: duration %s must be positive", what, s)
		return 0
	case v > LongestMaxDuration:
		d.errorf(n, "%s: duration %s is over the limit of %s", what, s, LongestMaxDuration)
		return 0
	}
	return v
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	default:
		return describe(n)
	}
}

// describe names a scalar for an error message, shortened and quoted so a
// hostile value cannot garble the operator's terminal.
func describe(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return fmt.Sprintf("%q", v)
}
