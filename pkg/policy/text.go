package policy

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// CheckText is the one rule for free text that people read: justifications,
// decision reasons, descriptions. Such text is shown in terminals and web
// pages, where some characters act instead of showing, or hide or reorder
// what is around them, so it must be valid UTF-8 and hold none of:
//
//   - control characters: C0 (escape, newline, tab, ...), DEL and C1 (CSI,
//     OSC, ...), which terminals obey;
//   - invisible formatting characters (Unicode category Cf): bidirectional
//     overrides, embeddings, isolates and marks, zero-width spaces, the byte
//     order mark, tag characters; only the zero-width joiner and non-joiner
//     stay, which emoji and several scripts need;
//   - line and paragraph separators (U+2028, U+2029).
//
// It returns an error naming the first such character; callers wrap it
// with their own named reason and add their own length limit.
func CheckText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("control character %U is not allowed", r)
		case r == '\u200c' || r == '\u200d': // ZWNJ, ZWJ
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
			return fmt.Errorf("invisible formatting character %U is not allowed", r)
		}
	}
	return nil
}
