package recstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestVerify(t *testing.T) {
	body := []byte("recorded output")
	for _, c := range []struct {
		name string
		data []byte
		size int64
		ok   bool
	}{
		{"whole", body, int64(len(body)), true},
		{"empty", nil, 0, true},
		{"changed", []byte("recorded outpuT"), int64(len(body)), false},
		{"short", body[:5], int64(len(body)), false},
		{"long", append(bytes.Clone(body), 'x'), int64(len(body)), false},
	} {
		want := digest(body)
		if c.size == 0 {
			want = digest(nil)
		}
		for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.DataErrReader} {
			got, err := io.ReadAll(Verify(io.NopCloser(wrap(bytes.NewReader(c.data))), c.size, want, nil))
			if c.ok && (err != nil || !bytes.Equal(got, c.data)) {
				t.Errorf("%s: %q %v", c.name, got, err)
			}
			if !c.ok && (!errors.Is(err, ErrMismatch) || len(got) >= len(body)) {
				t.Errorf("%s: %q %v, want ErrMismatch before the whole", c.name, got, err)
			}
		}
	}
}
