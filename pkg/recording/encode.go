package recording

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Raw bytes that are not valid UTF-8 are written as rawBase+b; see the
// package documentation.
const (
	rawBase rune = 0xF700
	rawLast rune = rawBase + 0xFF
)

// jsonSafe[b] reports whether the ASCII byte b may appear unescaped in a
// JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendEvent appends one event line, newline included.
func appendEvent(dst []byte, t time.Duration, kind byte, data []byte) []byte {
	dst = append(dst, '[')
	dst = appendSeconds(dst, t)
	dst = append(dst, ", \""...)
	dst = append(dst, kind)
	dst = append(dst, "\", "...)
	dst = appendData(dst, data)
	return append(dst, "]\n"...)
}

// appendSeconds writes t as seconds with exactly six decimals, computed in
// integers so that reading it back gives the same microsecond.
func appendSeconds(dst []byte, t time.Duration) []byte {
	us := max(t.Microseconds(), 0)
	dst = strconv.AppendInt(dst, us/1e6, 10)
	dot := len(dst)
	dst = strconv.AppendInt(dst, 1e6+us%1e6, 10) // "1" and six digits
	dst[dot] = '.'
	return dst
}

// appendData appends p as a JSON string literal, escaping bytes that are not
// valid UTF-8 (and characters in the escape range) as U+F700+b.
func appendData(dst, p []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(p); {
		if b := p[i]; b < utf8.RuneSelf {
			j := i
			for j < len(p) && p[j] < utf8.RuneSelf && jsonSafe[p[j]] {
				j++
			}
			if j > i {
				dst = append(dst, p[i:j]...)
				i = j
				continue
			}
			dst = appendEscapedASCII(dst, b)
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if (r == utf8.RuneError && size == 1) || (r >= rawBase && r <= rawLast) {
			for _, b := range p[i : i+size] {
				dst = utf8.AppendRune(dst, rawBase+rune(b))
			}
		} else {
			dst = append(dst, p[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

func appendEscapedASCII(dst []byte, b byte) []byte {
	switch b {
	case '"', '\\':
		return append(dst, '\\', b)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
}

// decodeData reverses the escaping of appendData on a decoded JSON string.
func decodeData(s string) []byte {
	if !hasRawEscape(s) {
		return []byte(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= rawBase && r <= rawLast {
			out = append(out, byte(r-rawBase))
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return out
}

// hasRawEscape reports whether s holds a character in U+F700..U+F7FF,
// encoded in UTF-8 as EF 9C 80 through EF 9F BF.
func hasRawEscape(s string) bool {
	for {
		i := strings.IndexByte(s, 0xEF)
		if i < 0 || i+1 >= len(s) {
			return false
		}
		if c := s[i+1]; c >= 0x9C && c <= 0x9F {
			return true
		}
		s = s[i+1:]
	}
}

// incompleteTail returns the length of the trailing bytes of p that begin a
// valid UTF-8 sequence but do not finish it.
func incompleteTail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i > len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if utf8.FullRune(p[i:]) {
				return 0
			}
			return len(p) - i
		}
	}
	return 0
}
