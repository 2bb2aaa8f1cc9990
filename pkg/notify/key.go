package notify

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// NewKey returns a stable idempotency key for the event kind about the
// things parts name (a request ID, a recipient, a deadline...): the same
// parts give the same key, on any replica, at any attempt. Parts are
// length-prefixed before hashing, so ("ab", "c") and ("a", "bc") differ.
func NewKey(kind Kind, parts ...string) string {
	h := sha256.New()
	writePart(h, string(kind))
	for _, p := range parts {
		writePart(h, p)
	}
	return string(kind) + "-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func writePart(h hash.Hash, s string) {
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
	h.Write([]byte(s))
}
