package policy

import "strings"

// QuoteCommand writes words as one command line that SplitCommand reads
// back as exactly those words, and that a POSIX shell runs as exactly those
// words: each word is single-quoted, and a quote inside a word ends the
// quoting, is escaped with a backslash, and starts it again. So
// nothing in a word (;, &&, |, $(...), backquotes, ${IFS}, newlines,
// redirections, globs) means anything to the shell. The CA sends a matched
// command to the target this way, and writes the patterns after the gate in
// a force-command, which sshd runs through the login's shell.
func QuoteCommand(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(w, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}
