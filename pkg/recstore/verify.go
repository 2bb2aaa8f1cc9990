package recstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// ErrMismatch: a recording read back is not the one stored: its size or
// SHA-256 differs from what the CA recorded when it was stored.
var ErrMismatch = errors.New("recording does not match the size and SHA-256 recorded when it was stored")

// Verify returns a reader of rc that checks, as it is read, that rc holds
// exactly size bytes whose SHA-256 is sum (hex). A recording that does not
// match is never handed over whole: the read that would complete it
// returns ErrMismatch instead of its last bytes, and so does a read past
// size bytes or an end before them. onMismatch, if not nil, is called
// once with that error.
func Verify(rc io.ReadCloser, size int64, sum string, onMismatch func(error)) io.ReadCloser {
	return &verifier{rc: rc, size: size, want: sum, h: sha256.New(), onMismatch: onMismatch}
}

type verifier struct {
	rc         io.ReadCloser
	size, n    int64
	want       string
	h          hash.Hash
	checked    bool
	err        error
	onMismatch func(error)
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if rem := v.size - v.n + 1; int64(len(p)) > rem {
		p = p[:rem] // one byte past the end shows a longer object
	}
	n, err := v.rc.Read(p)
	v.n += int64(n)
	if v.n > v.size {
		return 0, v.fail(fmt.Errorf("%w: more than the %d bytes recorded", ErrMismatch, v.size))
	}
	v.h.Write(p[:n])
	if v.n == v.size && !v.checked {
		// The last bytes go out only once the object is known to end
		// here and its digest is the recorded one.
		v.checked = true
		if err == nil {
			err = v.atEnd()
			if err != nil && err != io.EOF {
				v.err = err
				return 0, err
			}
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return 0, v.fail(fmt.Errorf("%w: SHA-256 %s, recorded %s", ErrMismatch, got, v.want))
		}
	}
	if err == io.EOF && v.n < v.size {
		return n, v.fail(fmt.Errorf("%w: %d bytes, recorded %d", ErrMismatch, v.n, v.size))
	}
	return n, err
}

// atEnd reads on until rc ends (io.EOF), errs, or shows a byte more
// than the recorded size (ErrMismatch).
func (v *verifier) atEnd() error {
	var one [1]byte
	for {
		n, err := v.rc.Read(one[:])
		if n > 0 {
			return v.fail(fmt.Errorf("%w: more than the %d bytes recorded", ErrMismatch, v.size))
		}
		if err != nil {
			return err
		}
	}
}

func (v *verifier) fail(err error) error {
	v.err = err
	if v.onMismatch != nil {
		v.onMismatch(err)
	}
	return err
}

func (v *verifier) Close() error { return v.rc.Close() }
