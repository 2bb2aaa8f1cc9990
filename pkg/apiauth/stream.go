package apiauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// A streamed body (a session recording, up to a gigabyte) is declared in
// the request's headers, and the signature covers the declaration:
//
//	Content-Length: N
//	Content-Digest: sha-256=:BASE64(SHA-256 of the body):
//
// (RFC 9530), the signed message ending in hex(digest) and then a line with
// N. So the CA authenticates the call from its headers alone, before it
// reads or stores a byte, and then checks the body against the declaration
// as it streams it (Declared.Check), keeping nothing that does not match.

// digestHeader is RFC 9530's Content-Digest field.
const digestHeader = "Content-Digest"

// Declared is what a streamed request says of its body.
type Declared struct {
	Length int64
	SHA256 [sha256.Size]byte
}

// ErrBodyMismatch: a streamed body is not the one its signed declaration
// describes (other length or digest). Nothing of it may be kept.
var ErrBodyMismatch = errors.New("body does not match its declared length and digest")

// SignStream signs r for a body of length bytes whose SHA-256 is digest,
// declaring both in r's headers (it sets r.ContentLength). Send exactly
// that body. The CA verifies such a call with Verifier.VerifyStream.
func (s *Signer) SignStream(r *http.Request, length int64, digest [sha256.Size]byte) error {
	if length < 0 {
		return errors.New("apiauth: a streamed body needs its length")
	}
	r.ContentLength = length
	r.Header.Set(digestHeader, "sha-256=:"+base64.StdEncoding.EncodeToString(digest[:])+":")
	return s.sign(r, digest, length)
}

// parseDeclared reads the declaration of r's body: Content-Length (a
// chunked body has none, and is refused) and exactly one Content-Digest of
// exactly one sha-256 value.
func parseDeclared(r *http.Request) (Declared, error) {
	var d Declared
	if r.ContentLength < 0 {
		return d, fmt.Errorf("%w: a streamed body must declare its Content-Length", ErrMalformed)
	}
	d.Length = r.ContentLength
	values := r.Header.Values(digestHeader)
	if len(values) != 1 {
		return d, fmt.Errorf("%w: a streamed body must declare one Content-Digest", ErrMalformed)
	}
	b64, ok := strings.CutPrefix(values[0], "sha-256=:")
	if ok {
		b64, ok = strings.CutSuffix(b64, ":")
	}
	sum, err := base64.StdEncoding.Strict().DecodeString(b64)
	if !ok || err != nil || len(sum) != sha256.Size {
		return d, fmt.Errorf("%w: Content-Digest must be one sha-256=:BASE64: value", ErrMalformed)
	}
	copy(d.SHA256[:], sum)
	return d, nil
}

// Check returns a reader of body that yields at most d.Length bytes and
// ends with ErrBodyMismatch, instead of io.EOF, if the body was not exactly
// d.Length bytes with digest d.SHA256. A consumer that stops at the first
// error therefore never commits a body that does not match.
func (d Declared) Check(body io.Reader) io.Reader {
	return &checkedBody{r: body, d: d, left: d.Length, h: sha256.New()}
}

type checkedBody struct {
	r    io.Reader
	d    Declared
	left int64 // bytes still expected
	h    hash.Hash
	err  error
}

func (c *checkedBody) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1] // one more than expected shows a longer body
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		c.err = fmt.Errorf("%w: longer than %d bytes", ErrBodyMismatch, c.d.Length)
		return 0, c.err
	}
	c.left -= int64(n)
	c.h.Write(p[:n])
	switch {
	case (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && c.left > 0:
		c.err = fmt.Errorf("%w: %d bytes short", ErrBodyMismatch, c.left)
	case errors.Is(err, io.EOF):
		if subtle.ConstantTimeCompare(c.h.Sum(nil), c.d.SHA256[:]) != 1 {
			c.err = fmt.Errorf("%w: other SHA-256", ErrBodyMismatch)
		} else {
			c.err = io.EOF
		}
	case err != nil:
		c.err = err
	}
	if c.err != nil && n > 0 && !errors.Is(c.err, io.EOF) {
		return 0, c.err // no bytes beside a mismatch
	}
	return n, c.err
}
