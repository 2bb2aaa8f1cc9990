package policy

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MatchCommand reports whether command, as sent by an SSH client, is allowed
// by one of patterns. Empty patterns allow any command that can be split.
//
// Pattern and command are split into words with SplitCommand. Each pattern
// word matches exactly one command word: '*' matches any run of characters
// (including '/' and none at all), '?' exactly one character, and every
// other character only itself. A pattern whose last word is "**" also
// matches any number of further words, including none. Otherwise the
// command must have exactly as many words as the pattern.
//
// Options match only where the pattern says so: a command word that starts
// with '-' or '+' (an option, or a command to less, vim and the like)
// matches only a pattern word that starts with the same character, never
// a word such as "*" or "?x", nor a "**" tail. So "journalctl -u *" admits
// "journalctl -u nginx" but not "journalctl -u --rotate", and
// "journalctl -u * **" not "journalctl -u x --vacuum-time=1s"; a pattern
// that means to admit options spells them out ("-n", "--since=*", "-*").
//
// A command holding a NUL byte or a newline, or one that does not split,
// never matches: the command gate runs the words directly, never through a
// shell, and such a command would not run as its author meant.
func MatchCommand(patterns []string, command string) bool {
	if strings.ContainsAny(command, "\x00\n") {
		return false
	}
	words, err := SplitCommand(command)
	if err != nil {
		return false
	}
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		pw, err := SplitCommand(p)
		if err == nil && len(pw) > 0 && matchWords(pw, words) {
			return true
		}
	}
	return false
}

func matchWords(pattern, words []string) bool {
	if last := len(pattern) - 1; pattern[last] == "**" {
		pattern = pattern[:last]
		if len(words) < len(pattern) {
			return false
		}
		for _, w := range words[len(pattern):] {
			if isOption(w) {
				return false
			}
		}
		words = words[:len(pattern)]
	}
	if len(words) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		w := words[i]
		if isOption(w) && (p == "" || p[0] != w[0]) || !matchWord(p, w) {
			return false
		}
	}
	return true
}

// isOption reports whether a command word would be read as an option (or,
// with '+', as a command: less +!sh, vim +cmd) rather than as an operand.
// Such a word matches only a pattern word that starts the same way.
func isOption(w string) bool { return w != "" && (w[0] == '-' || w[0] == '+') }

// matchWord matches one word against a glob of '*' and '?', character by
// character (a '?' matches one UTF-8 character, or one invalid byte). It
// backtracks only to the last '*', so it runs in O(len(p)*len(w)).
func matchWord(p, w string) bool {
	var pi, wi int
	star, starW := -1, 0
	for wi < len(w) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				star, starW = pi, wi
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(w[wi:])
				pi, wi = pi+1, wi+n
				continue
			default:
				if p[pi] == w[wi] {
					pi, wi = pi+1, wi+1
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last '*' swallow one more character and retry.
		_, n := utf8.DecodeRuneInString(w[starW:])
		starW += n
		pi, wi = star+1, starW
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// checkPattern reports why a pattern from a policy could never be used.
func checkPattern(p string) error {
	if strings.ContainsAny(p, "\x00\n") {
		return errors.New("contains a NUL byte or a newline")
	}
	words, err := SplitCommand(p)
	switch {
	case err != nil:
		return err
	case len(words) == 0:
		return errors.New("empty pattern")
	}
	return nil
}
