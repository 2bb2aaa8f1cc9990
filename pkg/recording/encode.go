package recording

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
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

// plain[b] reports whether byte b may be copied into a JSON string as it
// is: printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// escape is how a byte is written when it is not plain and not part of a
// valid multi-byte character: its JSON escape if it is ASCII, or
// rawBase+b. It is padded to eight bytes so that it is stored with one
// move.
type escape struct {
	seq [8]byte
	len int
}

var escapes = func() (t [256]escape) {
	for b := range 256 {
		switch {
		case plain[b]:
		case b < utf8.RuneSelf:
			t[b].len = copy(t[b].seq[:], appendEscapedASCII(nil, byte(b)))
		default:
			t[b].len = utf8.EncodeRune(t[b].seq[:], rawBase+rune(b))
		}
	}
	return t
}()

// mayLead reports whether b can begin a valid multi-byte UTF-8 character.
func mayLead(b byte) bool { return b >= 0xC2 && b <= 0xF4 }

// appendEventStart appends an event line up to its data.
func appendEventStart(dst []byte, t time.Duration, kind byte) []byte {
	dst = append(dst, '[')
	dst = appendSeconds(dst, t)
	dst = append(dst, ", \""...)
	dst = append(dst, kind)
	return append(dst, "\", "...)
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

// runLen is how many copies of one escaped ASCII byte (binary zeros, say)
// make a run that appendText stops before; see Writer.event.
const runLen = 8192

// appendText appends p as the inside of a JSON string literal, escaping
// bytes that are not valid UTF-8 (and characters in the escape range) as
// U+F700+b. It returns how many bytes of p it encoded: all of them, unless
// it stopped at the start of a run of at least runLen copies of one
// escaped ASCII byte.
//
// It is on the path of every byte a session relays, so it reserves the
// worst case (six bytes per input byte, as \u0000) once and writes by
// index, in one loop: printable bytes are tested and copied eight at a
// time, and a lone escaped ASCII byte (a line feed in text) is written
// without leaving that loop; a run of one escaped byte is written by
// doubling copies.
func appendText(dst, p []byte) ([]byte, int) {
	dst = slices.Grow(dst, 6*len(p)+len(escape{}.seq))
	out := dst[len(dst):cap(dst)]
	n, i := 0, 0
	for i < len(p) {
		// out holds six bytes for each of p[:i] and eight more, so a
		// word written past the plain bytes still fits.
		for i+8 <= len(p) {
			x := binary.LittleEndian.Uint64(p[i:])
			binary.LittleEndian.PutUint64(out[n:], x)
			if bad := notPlain(x); bad != 0 {
				k := bits.TrailingZeros64(bad) / 8
				i, n = i+k, n+k
				break
			}
			i, n = i+8, n+8
		}
		for i < len(p) && plain[p[i]] {
			out[n] = p[i]
			i, n = i+1, n+1
		}
		if i == len(p) {
			break
		}
		b := p[i]
		switch {
		case b < utf8.RuneSelf && (i+1 == len(p) || p[i+1] != b):
			*(*[8]byte)(out[n:]) = escapes[b].seq
			n += escapes[b].len
			i++
		case !mayLead(b):
			j := i + runLength(p[i:])
			if b < utf8.RuneSelf && j-i >= runLen {
				return dst[:len(dst)+n], i
			}
			e := &escapes[b]
			start, end := n, n+(j-i)*e.len
			*(*[8]byte)(out[n:]) = e.seq
			n += e.len
			for n < end {
				n += copy(out[n:end], out[start:n])
			}
			i = j
		default:
			r, size := utf8.DecodeRune(p[i:])
			if (r == utf8.RuneError && size == 1) || (r >= rawBase && r <= rawLast) {
				for _, c := range p[i : i+size] {
					*(*[8]byte)(out[n:]) = escapes[c].seq
					n += escapes[c].len
				}
			} else {
				n += copy(out[n:], p[i:i+size])
			}
			i += size
		}
	}
	return dst[:len(dst)+n], len(p)
}

// runLength returns how many times p's first byte repeats at its start
// (a run of zeros is as long as the output that holds it, up to a whole
// read of 128 KiB). It compares eight bytes at a time, and once the run
// is runBlock bytes long, whole blocks against the run's start with
// bytes.Equal, which compares with vector instructions: where a block
// differs, the word loop finds the first byte that does.
func runLength(p []byte) int {
	const ones = 0x0101010101010101
	pat := ones * uint64(p[0])
	n := 1
	for n+8 <= len(p) {
		if x := binary.LittleEndian.Uint64(p[n:]) ^ pat; x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
		if n >= runBlock {
			for n+runBlock <= len(p) && bytes.Equal(p[n:n+runBlock], p[:runBlock]) {
				n += runBlock
			}
		}
	}
	for n < len(p) && p[n] == p[0] {
		n++
	}
	return n
}

// runBlock is how many bytes runLength compares at once in a long run.
const runBlock = 256

// notPlain flags the bytes of x (little-endian) that are not plain: the
// top bit of each is set in the result, and the lowest flagged byte is
// the first that is not plain. Two tests cover the four cases, each
// flagging a byte whose top bit is set (v|v-c has it when v has it):
// x^0x02 maps the control characters (0x00-0x1F) onto themselves and '"'
// (0x22) onto 0x20, the only bytes it leaves below 0x21; x^'\\' is zero
// only for a backslash, and v-1 has the top bit set for a zero. A
// subtraction borrows only from a byte below its bound, a flagged one, so
// it can flag a byte after the first flagged one, never before.
func notPlain(x uint64) uint64 {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	low, backslash := x^(ones*0x02), x^(ones*'\\')
	return (low | (low - ones*0x21) | backslash | (backslash - ones)) & tops
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

// decodeData reverses the escaping of appendText on a decoded JSON string.
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

// A chunk of output or input is written as bytes (base64, "O" and "I"
// events) rather than text when it is at least bytesMin long and at least
// one in bytesShare of its first bytesSample bytes is not part of valid
// UTF-8: binary data such as an archive or encrypted output, where about
// half the bytes are. Terminal output with the odd stray byte stays text,
// readable with gunzip and shown by any asciicast player; so do runs of
// zero bytes, which are valid UTF-8 and are written as cached members.
const (
	bytesMin    = 256
	bytesSample = 256
	bytesShare  = 8
)

// mostlyNotText reports whether p is to be written as bytes.
func mostlyNotText(p []byte) bool {
	if len(p) < bytesMin {
		return false
	}
	sample := p[:bytesSample]
	invalid := 0
	for i := 0; i < len(sample); {
		if sample[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(sample[i:])
		if r == utf8.RuneError && size == 1 && utf8.FullRune(sample[i:]) {
			invalid++
		}
		i += size
	}
	return invalid*bytesShare >= len(sample)
}
