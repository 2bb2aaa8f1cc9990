package policy

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Membership names one team membership: User listed in Team's members.
type Membership struct {
	Team string `json:"team"`
	User string `json:"user"`
}

// RemoveMembers returns a copy of the policy files (name -> content, as
// given to Parse) with each membership in remove taken out of its team's
// members list, and every other byte as it was: the lines of a block
// list item go, a flow list ([alice, bob]) is written again without the
// item. It checks its own work: the result must parse, and its teams must
// list exactly the members they listed before, less those removed; else
// it returns an error and no files. A membership the files do not hold is
// an error too. Only files that change are in the result.
func RemoveMembers(files map[string][]byte, remove []Membership) (map[string][]byte, error) {
	before, err := Parse(files)
	if err != nil {
		return nil, fmt.Errorf("the policy files do not parse: %w", err)
	}
	want := map[Membership]bool{}
	for _, m := range remove {
		t := before.Teams[m.Team]
		if t == nil || !slices.Contains(t.Members, m.User) {
			return nil, fmt.Errorf("%s is not a member of team %s in these policy files", m.User, m.Team)
		}
		want[m] = true
	}
	changed := map[string][]byte{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		out, err := removeInFile(files[name], want)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !bytes.Equal(out, files[name]) {
			changed[name] = out
		}
	}
	after := maps.Clone(files)
	maps.Copy(after, changed)
	p, err := Parse(after)
	if err != nil {
		return nil, fmt.Errorf("the edited policy would not parse (nothing was changed): %w", err)
	}
	for name, t := range before.Teams {
		kept := slices.DeleteFunc(slices.Clone(t.Members), func(u string) bool { return want[Membership{name, u}] })
		if nt := p.Teams[name]; nt == nil || !slices.Equal(kept, nt.Members) {
			return nil, fmt.Errorf("the edit would change team %s's members other than as asked (nothing was changed)", name)
		}
	}
	if len(p.Teams) != len(before.Teams) {
		return nil, errors.New("the edit would change the teams (nothing was changed)")
	}
	return changed, nil
}

// removeInFile takes the members in want out of the teams of one file.
func removeInFile(data []byte, want map[Membership]bool) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return data, nil // empty, or Parse reported it already
	}
	teams := mappingValue(doc.Content[0], "teams")
	if teams == nil || teams.Kind != yaml.SequenceNode {
		return data, nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	var flows []flowEdit
	drop := map[int]bool{} // 0-based line numbers of block items to delete
	for _, team := range teams.Content {
		name := mappingValue(team, "name")
		members := mappingValue(team, "members")
		if name == nil || members == nil || members.Kind != yaml.SequenceNode {
			continue
		}
		var gone []int
		for i, item := range members.Content {
			user := item
			if item.Kind == yaml.MappingNode {
				user = mappingValue(item, "name")
			}
			if user != nil && want[Membership{name.Value, user.Value}] {
				gone = append(gone, i)
			}
		}
		if len(gone) == 0 {
			continue
		}
		if members.Style&yaml.FlowStyle != 0 {
			flows = append(flows, flowEdit{members, gone})
			continue
		}
		for _, i := range gone {
			first, last := members.Content[i].Line-1, lastLine(members.Content[i])-1
			if first > 0 && strings.TrimSpace(lines[first-1]) == "-" && !strings.HasPrefix(strings.TrimSpace(lines[first]), "-") {
				first-- // "-" alone on its line, the item below it
			}
			for l := first; l <= last && l < len(lines); l++ {
				drop[l] = true
			}
		}
	}
	text := string(data)
	// Flow lists are rewritten from the end of the file back, so earlier
	// offsets stay good; then block items are dropped by line.
	slices.SortFunc(flows, func(a, b flowEdit) int { return b.seq.Line*100000 + b.seq.Column - (a.seq.Line*100000 + a.seq.Column) })
	for _, f := range flows {
		var err error
		if text, err = f.apply(text); err != nil {
			return nil, err
		}
	}
	if len(drop) == 0 {
		return []byte(text), nil
	}
	var out strings.Builder
	for i, l := range strings.SplitAfter(text, "\n") {
		if !drop[i] {
			out.WriteString(l)
		}
	}
	return []byte(out.String()), nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// lastLine is the last line (1-based) that n's text reaches.
func lastLine(n *yaml.Node) int {
	last := n.Line
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		last += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	}
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

// flowEdit removes items (by index) from a flow sequence.
type flowEdit struct {
	seq  *yaml.Node
	gone []int
}

// apply rewrites the sequence in text: it finds the '[' where the YAML
// parser put it, splits the items at top-level commas (minding quotes
// and nesting), and writes the kept ones back, ", " between them.
func (f flowEdit) apply(text string) (string, error) {
	start, ok := offsetOf(text, f.seq.Line, f.seq.Column)
	if !ok || start >= len(text) || text[start] != '[' {
		return "", fmt.Errorf("line %d: the members list is not where the YAML parser put it", f.seq.Line)
	}
	end, items, err := splitFlow(text, start)
	if err != nil {
		return "", fmt.Errorf("line %d: %w", f.seq.Line, err)
	}
	if len(items) != len(f.seq.Content) {
		return "", fmt.Errorf("line %d: the members list has %d items, the YAML parser found %d", f.seq.Line, len(items), len(f.seq.Content))
	}
	var kept []string
	for i, it := range items {
		if !slices.Contains(f.gone, i) {
			kept = append(kept, strings.TrimSpace(it))
		}
	}
	return text[:start] + "[" + strings.Join(kept, ", ") + "]" + text[end:], nil
}

// offsetOf turns the YAML parser's 1-based line and column (in
// characters) into a byte offset.
func offsetOf(text string, line, col int) (int, bool) {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	for c := 1; c < col; c++ {
		if off >= len(text) || text[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRuneInString(text[off:])
		off += size
	}
	return off, true
}

// splitFlow reads the flow sequence opening at text[start] and returns
// the offset just past its ']' and the text of each item.
func splitFlow(text string, start int) (end int, items []string, err error) {
	depth, itemStart := 0, start+1
	var quote byte
	for i := start; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote && !(quote == '"' && text[i-1] == '\\') {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n'):
			return 0, nil, errors.New("a comment inside a flow list; write the members one per line (- name) to edit them")
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				if s := strings.TrimSpace(text[itemStart:i]); s != "" {
					items = append(items, text[itemStart:i])
				}
				return i + 1, items, nil
			}
		case c == ',' && depth == 1:
			items = append(items, text[itemStart:i])
			itemStart = i + 1
		}
	}
	return 0, nil, errors.New("a members list without its closing ]")
}
