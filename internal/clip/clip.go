// Package clip shortens text that outside input put in an error, a log
// line or an audit row, without cutting a character in two.
package clip

import "unicode/utf8"

// Marker ends text that was shortened.
const Marker = "..."

// Runes keeps the first n characters of s, and Marker if there were more.
func Runes(s string, n int) string {
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + Marker
}

// Bytes keeps the longest start of s that is at most n bytes and does not
// end inside a character.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(n, 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
