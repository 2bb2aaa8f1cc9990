// Package inert makes text from the store safe to show on a terminal or a
// page: control characters (terminal escapes) and bidirectional overrides
// become visible \xNN and \uNNNN instead of acting. A leaf package, shared
// by the CLI and the web pages.
package inert

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text returns s with newlines and tabs as spaces, control characters
// (C0, DEL, C1) as \xNN, and bidirectional overrides and isolates as
// \uNNNN; invalid UTF-8 becomes U+FFFD.
func Text(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			// Bidirectional overrides could make text read differently
			// from what it is.
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
