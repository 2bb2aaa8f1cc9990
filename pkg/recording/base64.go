package recording

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// base64Pairs[v] is the two base64 characters of the twelve bits v, in
// the order they are written (little-endian).
var base64Pairs = func() (t [1 << 12]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&63])<<8
	}
	return t
}()

// appendBase64 appends src in standard padded base64, as
// base64.StdEncoding.AppendEncode does. It is on the path of every byte
// of binary output a session relays, so it codes six bytes at a time,
// with one table lookup per two characters: about 1.4 times as fast as
// encoding/base64 (BenchmarkAppendBase64). The last few bytes are left
// to encoding/base64.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	i, j := 0, 0
	for ; i+8 <= len(src); i, j = i+6, j+8 {
		x := binary.BigEndian.Uint64(src[i:]) >> 16 // six bytes' 48 bits
		binary.LittleEndian.PutUint64(out[j:], uint64(base64Pairs[x>>36&0xFFF])|
			uint64(base64Pairs[x>>24&0xFFF])<<16|
			uint64(base64Pairs[x>>12&0xFFF])<<32|
			uint64(base64Pairs[x&0xFFF])<<48)
	}
	base64.StdEncoding.Encode(out[j:], src[i:]) // i is a multiple of three
	return dst[:len(dst)+n]
}
