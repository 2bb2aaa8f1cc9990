package recording

import (
	"bytes"
	"io"
)

const (
	bel = 0x07
	can = 0x18
	sub = 0x1a
	esc = 0x1b
	del = 0x7f
)

// maxSequence bounds the escape or CSI sequence a Sanitizer holds; a longer
// one is dropped whole.
const maxSequence = 256

type sanitizerState uint8

const (
	stateGround    sanitizerState = iota
	stateAfterC2                  // held a 0xC2 byte: text, or the first half of a C1 control
	stateEscape                   // seq holds ESC and any intermediate bytes
	stateCSI                      // seq holds the CSI introducer and the bytes after it
	stateString                   // inside OSC, DCS, APC, PM or SOS: dropped through its end
	stateStringEsc                // inside a string, just after ESC
)

// Sanitizer is the streaming form of Sanitize: it writes to an underlying
// writer what Sanitize would return for everything written so far, carrying
// its parse state across calls so that a sequence split between writes is
// still caught. Bytes of an unfinished sequence are held until it ends and
// dropped if it never does.
//
// A Sanitizer is not safe for concurrent use. Its first write error is
// sticky.
type Sanitizer struct {
	w   io.Writer
	err error
	out []byte

	state    sanitizerState
	need     int  // UTF-8 continuation bytes still expected
	lo, hi   byte // range of the next continuation byte
	seq      []byte
	overflow bool // seq grew past maxSequence; drop the sequence
	bellEnds bool // the current string is an OSC, which BEL also ends
}

// NewSanitizer returns a Sanitizer writing to w.
func NewSanitizer(w io.Writer) *Sanitizer {
	return &Sanitizer{w: w}
}

// Write sanitizes p and writes the result to the underlying writer. It
// returns len(p) on success.
func (s *Sanitizer) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.out = s.sanitize(s.out[:0], p)
	if len(s.out) > 0 {
		if _, err := s.w.Write(s.out); err != nil {
			s.err = err
			return 0, err
		}
	}
	return len(p), nil
}

// Sanitize returns p without the sequences that could make the viewer's
// terminal answer, change its clipboard or title, or act outside the screen:
//
//   - strings: OSC (ESC ], all of them, including OSC 52 clipboard and OSC
//     0/1/2 titles), DCS (ESC P, which includes DECRQSS and sixel), APC
//     (ESC _), PM (ESC ^), SOS (ESC X) and the screen/tmux title ESC k,
//     each through its terminator (ST, or BEL for OSC);
//   - reports: DSR and cursor position (CSI … n), device attributes
//     (CSI … c), window operations (CSI … t), DECRQM (CSI … $ p),
//     XTVERSION (CSI > … q), DECREQTPARM (CSI … x), DECRQPSR (CSI … $ w),
//     DECRQTSR and DECRQUPSS (CSI … $ u, CSI … & u), DECRQDE (CSI " v),
//     DECRQCRA (CSI … * y), XTQMODKEYS (CSI ? … m), XTSMGRAPHICS
//     (CSI ? … S), XTREPORTSGR (CSI … # |), XTREPORTCOLORS (CSI … R), the
//     locator requests (CSI … ' |, CSI … ' w, CSI … ' z), the kitty
//     keyboard protocol (CSI ? u, CSI > u, CSI < u, CSI = u), media copy
//     (CSI … i) and DECID (ESC Z);
//   - ESC % (switching the terminal out of UTF-8, which would change how it
//     reads everything after);
//   - the 8-bit C1 forms of those introducers (DCS 0x90, SOS 0x98, DECID
//     0x9a, CSI 0x9b, ST 0x9c, OSC 0x9d, PM 0x9e, APC 0x9f), both as single
//     bytes that are not part of a UTF-8 character and as U+0080..U+009F
//     (0xC2 0x80..0x9F), handled like their 7-bit forms.
//
// Everything else passes unchanged, so full-screen programs still replay:
// text (including UTF-8 whose continuation bytes fall in 0x80..0x9f, such
// as "Ő", 0xC5 0x90), C0 controls, SGR colours, cursor movement, erasing,
// scrolling regions and modes such as the alternate screen (CSI ? 1049 h).
// A sequence cut short by the end of p, or by a byte that cannot continue
// it, is dropped.
//
// The viewer's terminal is assumed to decode UTF-8, as every current one
// does; bytes that are UTF-8 text are passed as text.
func Sanitize(p []byte) []byte {
	var s Sanitizer
	return s.sanitize(make([]byte, 0, len(p)), p)
}

// sanitize appends the sanitized form of p to dst.
func (s *Sanitizer) sanitize(dst, p []byte) []byte {
	for i := 0; i < len(p); i++ {
		if s.state == stateGround && s.need == 0 && p[i] < 0x80 && p[i] != esc {
			j := i + 1
			for j < len(p) && p[j] < 0x80 && p[j] != esc {
				j++
			}
			dst = append(dst, p[i:j]...)
			i = j - 1
			continue
		}
		dst = s.step(dst, p[i])
	}
	return dst
}

func (s *Sanitizer) step(dst []byte, b byte) []byte {
	switch s.state {
	case stateAfterC2:
		return s.afterC2(dst, b)
	case stateEscape:
		return s.escape(dst, b)
	case stateCSI:
		return s.csi(dst, b)
	case stateString:
		return s.inString(b, dst)
	case stateStringEsc:
		if b == '\\' { // ST
			s.state = stateGround
			return dst
		}
		s.startEscape() // ESC ends the string and starts a new sequence
		return s.escape(dst, b)
	}
	return s.ground(dst, b)
}

func (s *Sanitizer) ground(dst []byte, b byte) []byte {
	if s.need > 0 {
		if b >= s.lo && b <= s.hi {
			s.need--
			s.lo, s.hi = 0x80, 0xBF
			return append(dst, b)
		}
		s.need = 0 // broken character: b starts afresh
	}
	switch {
	case b == esc:
		s.startEscape()
	case b < 0x80:
		dst = append(dst, b)
	case b <= 0x9F: // a C1 control, not part of a UTF-8 character
		dst = s.c1(dst, b, false)
	case b == 0xC2: // U+0080..U+00BF: wait to see whether it is a C1 control
		s.state = stateAfterC2
	case b >= 0xC3 && b <= 0xF4:
		s.startCharacter(b)
		dst = append(dst, b)
	default: // stray continuation byte, or a byte UTF-8 never uses
		dst = append(dst, b)
	}
	return dst
}

// startCharacter notes the continuation bytes a UTF-8 lead byte calls for.
func (s *Sanitizer) startCharacter(b byte) {
	s.need, s.lo, s.hi = 1, 0x80, 0xBF
	switch {
	case b >= 0xF0:
		s.need = 3
	case b >= 0xE0:
		s.need = 2
	}
	switch b {
	case 0xE0:
		s.lo = 0xA0
	case 0xED:
		s.hi = 0x9F
	case 0xF0:
		s.lo = 0x90
	case 0xF4:
		s.hi = 0x8F
	}
}

func (s *Sanitizer) afterC2(dst []byte, b byte) []byte {
	s.state = stateGround
	switch {
	case b >= 0x80 && b <= 0x9F:
		return s.c1(dst, b, true)
	case b >= 0xA0 && b <= 0xBF:
		return append(dst, 0xC2, b)
	}
	return s.ground(append(dst, 0xC2), b)
}

// c1 handles the C1 control b, sent as one byte or, if twoByte, as 0xC2 b.
func (s *Sanitizer) c1(dst []byte, b byte, twoByte bool) []byte {
	switch b {
	case 0x90, 0x98, 0x9E, 0x9F: // DCS, SOS, PM, APC
		s.startString(false)
	case 0x9D: // OSC
		s.startString(true)
	case 0x9B: // CSI
		s.state, s.overflow = stateCSI, false
		s.seq = s.seq[:0]
		if twoByte {
			s.seq = append(s.seq, 0xC2)
		}
		s.seq = append(s.seq, b)
	case 0x9A, 0x9C: // DECID; ST with no string to end
	default:
		if twoByte {
			dst = append(dst, 0xC2)
		}
		dst = append(dst, b)
	}
	return dst
}

func (s *Sanitizer) startEscape() {
	s.state, s.overflow, s.need = stateEscape, false, 0
	s.seq = append(s.seq[:0], esc)
}

func (s *Sanitizer) startString(bellEnds bool) {
	s.state, s.bellEnds, s.need = stateString, bellEnds, 0
}

// escape handles b after ESC and any intermediate bytes held in seq.
func (s *Sanitizer) escape(dst []byte, b byte) []byte {
	switch {
	case b == esc:
		s.startEscape() // the terminal starts over; so do we
	case b == can || b == sub:
		s.state = stateGround
		dst = append(dst, b)
	case b < 0x20:
		dst = append(dst, b) // executed without ending the sequence
	case b == del:
	case b >= 0x80:
		s.state = stateGround
		return s.ground(dst, b)
	case b < 0x30: // intermediate
		s.hold(b)
	case len(s.seq) == 1 && b == '[':
		s.state = stateCSI
		s.seq = append(s.seq, b)
	case len(s.seq) == 1 && b == ']':
		s.startString(true)
	case len(s.seq) == 1 && (b == 'P' || b == '_' || b == '^' || b == 'X' || b == 'k'):
		s.startString(false)
	default: // final byte
		s.state = stateGround
		dropped := s.overflow || (len(s.seq) == 1 && b == 'Z') || bytes.IndexByte(s.seq, '%') >= 0
		if !dropped {
			dst = append(append(dst, s.seq...), b)
		}
	}
	return dst
}

// csi handles b inside a control sequence.
func (s *Sanitizer) csi(dst []byte, b byte) []byte {
	switch {
	case b == esc:
		s.startEscape()
	case b == can || b == sub:
		s.state = stateGround
		dst = append(dst, b)
	case b < 0x20:
		dst = append(dst, b)
	case b == del:
	case b >= 0x80:
		s.state = stateGround
		return s.ground(dst, b)
	case b < 0x40: // parameter or intermediate
		s.hold(b)
	default: // final byte
		s.state = stateGround
		if !s.overflow && csiAllowed(csiBody(s.seq), b) {
			dst = append(append(dst, s.seq...), b)
		}
	}
	return dst
}

func (s *Sanitizer) hold(b byte) {
	if len(s.seq) >= maxSequence {
		s.overflow = true
		return
	}
	s.seq = append(s.seq, b)
}

// inString drops b, a byte of an OSC, DCS, APC, PM or SOS string, noting
// the string's end.
func (s *Sanitizer) inString(b byte, dst []byte) []byte {
	switch {
	case b == esc:
		s.state = stateStringEsc
	case b == bel && s.bellEnds, b == can, b == sub, b == 0x9C:
		s.state = stateGround
	}
	return dst
}

// csiBody returns the parameter and intermediate bytes of a held CSI.
func csiBody(seq []byte) []byte {
	if seq[0] == esc || seq[0] == 0xC2 { // ESC [ or 0xC2 0x9B
		return seq[2:]
	}
	return seq[1:] // 0x9B
}

// csiAllowed reports whether the control sequence with the given parameter
// and intermediate bytes and final byte is harmless to replay.
func csiAllowed(body []byte, final byte) bool {
	var private byte
	if len(body) > 0 && body[0] >= '<' && body[0] <= '?' {
		private = body[0]
	}
	has := func(c byte) bool { return bytes.IndexByte(body, c) >= 0 }
	switch final {
	case 'n', 'c', 't', 'i', 'R':
		return false
	case 'p':
		return !has('$')
	case 'q':
		return private != '>'
	case 'x':
		return hasIntermediate(body)
	case 'w':
		return !has('$') && !has('\'')
	case 'u':
		return private == 0 && !has('$') && !has('&')
	case 'v':
		return !has('"')
	case 'y':
		return !has('*')
	case 'z':
		return !has('\'')
	case '|':
		return !has('#') && !has('\'')
	case 'm', 'S':
		return private != '?'
	}
	return true
}

func hasIntermediate(body []byte) bool {
	for _, b := range body {
		if b >= 0x20 && b <= 0x2F {
			return true
		}
	}
	return false
}
