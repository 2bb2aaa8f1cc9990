package recording

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// appendTextByteByByte is appendText written the plain way, one byte at a
// time, to check the fast one against.
func appendTextByteByByte(dst, p []byte) ([]byte, int) {
	for i := 0; i < len(p); {
		b := p[i]
		switch {
		case plain[b]:
			dst = append(dst, b)
			i++
		case b < utf8.RuneSelf:
			run := 1
			for i+run < len(p) && p[i+run] == b {
				run++
			}
			if run >= runLen && (i == 0 || p[i-1] != b) {
				return dst, i
			}
			dst = appendEscapedASCII(dst, b)
			i++
		default:
			r, size := utf8.DecodeRune(p[i:])
			if (r == utf8.RuneError && size == 1) || (r >= rawBase && r <= rawLast) {
				for _, c := range p[i : i+size] {
					dst = utf8.AppendRune(dst, rawBase+rune(c))
				}
			} else {
				dst = append(dst, p[i:i+size]...)
			}
			i += size
		}
	}
	return dst, len(p)
}

func checkAppendText(t *testing.T, prefix, p []byte) {
	t.Helper()
	want, wantN := appendTextByteByByte(bytes.Clone(prefix), p)
	got, gotN := appendText(bytes.Clone(prefix), p)
	if gotN != wantN || !bytes.Equal(got, want) {
		t.Fatalf("appendText(%q) = %q, %d; want %q, %d", p, got, gotN, want, wantN)
	}
}

// textPieces are the kinds of byte appendText treats differently.
var textPieces = []string{"a", "abcdefgh", " ", "\"", "\\", "\n", "\r\n", "\t", "\x00", "\x1b[1m", "\x1f", "\x7f",
	"é", "日本", "😀", "\xc3", "\xe6\x97", "\xff", "\x80", "\xef\x9c\x80", "\xef\x9f\xbf", "\xf4\x90\x80\x80"}

func TestAppendTextMatchesByteByByte(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var p []byte
		for range r.IntN(40) {
			piece := textPieces[r.IntN(len(textPieces))]
			for range 1 + r.IntN(3)*r.IntN(12) {
				p = append(p, piece...)
			}
		}
		checkAppendText(t, []byte("[0.1, \"o\", \""), p)
	}
	for _, b := range []byte{0, '\n', '"', 0x1b, 0xff} {
		for _, size := range []int{runLen - 1, runLen, runLen + 7, 3 * runLen} {
			run := bytes.Repeat([]byte{b}, size)
			checkAppendText(t, nil, run)
			checkAppendText(t, nil, append([]byte("text "), run...))
			checkAppendText(t, nil, append(append([]byte("text "), run...), "text"...))
		}
	}
}

func TestNotPlainFlagsTheFirstByteThatIsNotPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for b := range 256 {
		for pos := range 8 {
			for trial := range 64 {
				var w [8]byte
				for i := range w {
					switch {
					case i < pos:
						for w[i] = byte(r.Uint32()); !plain[w[i]]; w[i] = byte(r.Uint32()) {
						}
					case i == pos:
						w[i] = byte(b)
					case trial%2 == 0:
						w[i] = byte(r.Uint32())
					default:
						w[i] = 'a'
					}
				}
				want := 0
				for want < 8 && plain[w[want]] {
					want++
				}
				got := 8
				if bad := notPlain(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
					uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56); bad != 0 {
					for got = 0; bad>>(8*got+7)&1 == 0; got++ {
					}
				}
				if got != want {
					t.Fatalf("notPlain(%q) flags byte %d first, want %d", w[:], got, want)
				}
			}
		}
	}
}

// appendText agrees with appendTextByteByByte.
func FuzzAppendText(f *testing.F) {
	for _, s := range textPieces {
		f.Add([]byte(s + "lockbox bench: the quick brown fox\n" + s))
	}
	f.Add(bytes.Repeat([]byte{0}, runLen+1))
	f.Fuzz(func(t *testing.T, p []byte) { checkAppendText(t, nil, p) })
}

// plainRun returns how many bytes at the start of p are plain, testing
// eight bytes at a time with notPlain as appendText does.
func plainRun(p []byte) int {
	i := 0
	for ; i+8 <= len(p); i += 8 {
		if bad := notPlain(binary.LittleEndian.Uint64(p[i:])); bad != 0 {
			return i + bits.TrailingZeros64(bad)/8
		}
	}
	for i < len(p) && plain[p[i]] {
		i++
	}
	return i
}
