package recording

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// appendBase64 writes what encoding/base64 writes, for every length and
// whatever dst held.
func TestAppendBase64MatchesTheStandardEncoding(t *testing.T) {
	src := randomBytes(4 << 10)
	for n := 0; n <= 200; n++ {
		for _, prefix := range []string{"", `[1.000000, "O", "`} {
			got := appendBase64([]byte(prefix), src[:n])
			want := base64.StdEncoding.AppendEncode([]byte(prefix), src[:n])
			if !bytes.Equal(got, want) {
				t.Fatalf("%d bytes after %q:\n got %q\nwant %q", n, prefix, got, want)
			}
		}
	}
	if got, want := appendBase64(nil, src), base64.StdEncoding.AppendEncode(nil, src); !bytes.Equal(got, want) {
		t.Fatalf("%d bytes: encodings differ", len(src))
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte("\xff\x00\x80abc"), []byte("prefix"))
	f.Fuzz(func(t *testing.T, src, prefix []byte) {
		got := appendBase64(bytes.Clone(prefix), src)
		want := base64.StdEncoding.AppendEncode(bytes.Clone(prefix), src)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendBase64(%q, %q) = %q, want %q", prefix, src, got, want)
		}
	})
}

func BenchmarkAppendBase64(b *testing.B) {
	src := randomBytes(32 << 10)
	var dst []byte
	b.Run("lockbox", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
	b.Run("encoding/base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
}
