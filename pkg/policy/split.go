package policy

import (
	"errors"
	"strings"
)

var (
	errUnbalancedQuote = errors.New("unbalanced quote")
	errTrailingEscape  = errors.New("backslash at the end")
	errNUL             = errors.New("NUL byte")
)

// SplitCommand splits a command line into words the way a POSIX shell would
// if it expanded nothing: words are separated by unquoted spaces, tabs and
// newlines; single quotes keep everything literal; inside double quotes a
// backslash escapes only $, `, ", \ and newline; outside quotes a backslash
// escapes any character, and backslash-newline joins lines. Nothing else is
// special: $, *, ;, | and the like stay in the words as they are.
// Unbalanced quotes, a trailing backslash and NUL bytes are errors.
func SplitCommand(command string) ([]string, error) {
	if strings.IndexByte(command, 0) >= 0 {
		return nil, errNUL
	}
	var (
		words  []string
		word   strings.Builder
		inWord bool
	)
	for i := 0; i < len(command); i++ {
		c := command[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
			continue
		case c == '\'':
			end := strings.IndexByte(command[i+1:], '\'')
			if end < 0 {
				return nil, errUnbalancedQuote
			}
			word.WriteString(command[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			end, err := doubleQuoted(command[i+1:], &word)
			if err != nil {
				return nil, err
			}
			i += end + 1
		case c == '\\':
			if i+1 == len(command) {
				return nil, errTrailingEscape
			}
			i++
			if command[i] == '\n' {
				continue // line continuation: no character, no word break
			}
			word.WriteByte(command[i])
		default:
			word.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// doubleQuoted copies the text after an opening double quote into word and
// returns the index of the closing quote in s.
func doubleQuoted(s string, word *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i, nil
		case c == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
			i++
			if s[i] != '\n' {
				word.WriteByte(s[i])
			}
		default:
			word.WriteByte(c)
		}
	}
	return 0, errUnbalancedQuote
}
