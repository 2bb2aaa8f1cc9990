package policy

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// parser builds one Policy from several files. Each file is decoded in turn;
// references between entities are recorded and resolved once all files are
// read, since any file may define what another one names.
type parser struct {
	nodes
	pol       *Policy
	defined   map[string]loc // "KIND NAME" -> where it was defined
	refs      []ref
	keyOwners map[string]keyOwner // by key.Marshal()
	// routeNodes are the notification routes' nodes, by route.
	routeNodes []routeNode
	// emailOwners are the users' addresses, in lower case.
	emailOwners map[string]keyOwner
	settingsAt  loc
	// unsetMax are roles without max_duration: they get the default from
	// settings, which may come from a later file.
	unsetMax []*Role
	// unsetGate are roles with allowed commands and no force_command: they
	// get settings.command_gate.
	unsetGate []*Role
}

// ref is a name used somewhere that must be defined somewhere.
type ref struct {
	kind, name, what string
	at               loc
}

type keyOwner struct {
	owner string
	at    loc
}

// Parse parses and validates a policy made of the given files (name ->
// content). Names are used only in error messages and to order the files.
// It does no I/O. On failure the error lists every problem found, one per
// line, each as FILE:LINE: message.
func Parse(files map[string][]byte) (*Policy, error) {
	if len(files) == 0 {
		return nil, errors.New("policy: no policy files")
	}
	p := &parser{
		pol: &Policy{
			Users:     map[string]*User{},
			Groups:    map[string]*Group{},
			Teams:     map[string]*Team{},
			Roles:     map[string]*Role{},
			Resources: map[string]*Resource{},
			Bastions:  map[string]*Bastion{},
		},
		defined:     map[string]loc{},
		keyOwners:   map[string]keyOwner{},
		emailOwners: map[string]keyOwner{},
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p.file = name
		p.parseFile(files[name])
	}
	p.finish()
	p.pol.files = maps.Clone(files)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *lineError) int {
			return cmp.Or(strings.Compare(a.at.file, b.at.file), cmp.Compare(a.at.line, b.at.line))
		})
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return p.pol, nil
}

func (p *parser) parseFile(data []byte) {
	if line, msg := badBytes(data); msg != "" {
		p.errorAt(loc{p.file, line}, "%s", msg)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err != io.EOF {
			p.syntaxError(err)
		}
		return
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.errorf(&extra, "a second YAML document; a policy file holds one document (split it into two files)")
		return
	case err != io.EOF:
		p.syntaxError(err)
		return
	}
	if len(doc.Content) > 0 {
		p.top(doc.Content[0])
	}
}

// badBytes finds what YAML would reject without saying where: invalid UTF-8
// and control characters.
func badBytes(data []byte) (line int, msg string) {
	line = 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size == 1:
			return line, "not valid UTF-8 text"
		case r == '\n':
			line++
		case unicode.IsControl(r) && r != '\t' && r != '\r':
			return line, "control character " + strconv.QuoteRune(r) + " is not allowed"
		}
		data = data[size:]
	}
	return 0, ""
}

var yamlLineRE = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the messages of the YAML parser (as opposed to its
// scanner). With them the YAML library reports the 0-based line where the
// enclosing block starts, not the line of the problem itself.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxError reports a YAML syntax error at the best line the YAML library
// gives, or line 1 when it gives none.
func (p *parser) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(yamlParserProblems, msg) {
		p.errorAt(loc{p.file, line + 1}, "YAML syntax error in the block starting here: %s", msg)
		return
	}
	p.errorAt(loc{p.file, max(line, 1)}, "YAML syntax error: %s", msg)
}

var topFields = []string{"settings", "users", "groups", "teams", "roles", "resources", "bastions", "notifications"}

func (p *parser) top(root *yaml.Node) {
	f, ok := p.fields(root, "policy file", topFields...)
	if !ok {
		return
	}
	if n, ok := f["settings"]; ok {
		p.settings(keyNode(root, "settings"), n)
	}
	for _, n := range p.list(f["users"], "users") {
		p.user(n)
	}
	for _, n := range p.list(f["groups"], "groups") {
		p.group(n)
	}
	for _, n := range p.list(f["teams"], "teams") {
		p.team(n)
	}
	for _, n := range p.list(f["roles"], "roles") {
		p.role(n)
	}
	for _, n := range p.list(f["resources"], "resources") {
		p.resource(n)
	}
	for _, n := range p.list(f["bastions"], "bastions") {
		p.bastion(n)
	}
	if n, ok := f["notifications"]; ok {
		p.notifications(n)
	}
}

// keyNode returns the key node of field name in mapping m, for its line.
func keyNode(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i]
		}
	}
	return m
}

// finish fills defaults that depend on settings, resolves references and
// derives group membership.
func (p *parser) finish() {
	s := &p.pol.Settings
	s.MaxActiveGrantsPerUser = cmp.Or(s.MaxActiveGrantsPerUser, DefaultMaxActiveGrantsPerUser)
	s.MaxPendingRequestsPerUser = cmp.Or(s.MaxPendingRequestsPerUser, DefaultMaxPendingRequestsPerUser)
	s.DefaultMaxDuration = cmp.Or(s.DefaultMaxDuration, DefaultMaxDuration)
	s.CommandGate = cmp.Or(s.CommandGate, DefaultCommandGate)
	for _, r := range p.unsetMax {
		r.MaxDuration = s.DefaultMaxDuration
	}
	for _, r := range p.unsetGate {
		r.ForceCommand = s.CommandGate
	}
	p.finishNotifications()
	for _, r := range p.refs {
		if _, ok := p.defined[r.kind+" "+r.name]; !ok {
			hint := ""
			if r.kind == "tag" {
				hint = " (no resource has this tag)"
			}
			p.errorAt(r.at, "%s: unknown %s %q%s", r.what, r.kind, r.name, hint)
		}
	}
	for _, u := range p.pol.Users {
		for _, g := range u.Groups {
			if grp := p.pol.Groups[g]; grp != nil {
				grp.Members = append(grp.Members, u.Name)
			}
		}
	}
	for _, g := range p.pol.Groups {
		slices.Sort(g.Members)
	}
}
