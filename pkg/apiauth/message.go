package apiauth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

const messagePrefix = "lockbox-api-sig-v1\n"

// IdempotencyKeyHeader names a state-changing call so that it may be sent
// again safely. When a request has one, the signature covers it: it is
// appended to the signed message as "\nidempotency-key:" and its value, so
// nobody on the way can add, change or strip it. (A request without it is
// signed exactly as before.)
const IdempotencyKeyHeader = "Idempotency-Key"

// notStreamed is the length argument of signedMessage for an ordinary
// call, whose body the CA reads whole before it verifies.
const notStreamed = -1

// signedMessage builds the bytes a request signature covers. Signer and
// Verifier both call it, so they cannot disagree on the format. A streamed
// body's declared length (>= 0) is a last line of its own, so a signature
// over an ordinary call never verifies as one over a streamed call, nor
// the other way round.
func signedMessage(p *authParams, r *http.Request, sum [sha256.Size]byte, length int64) []byte {
	var b strings.Builder
	b.WriteString(messagePrefix)
	for _, s := range []string{
		p.principal, p.keyFP, requestMethod(r), r.URL.RequestURI(), requestHost(r),
		strconv.FormatInt(p.ts, 10), p.nonce,
	} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString(hex.EncodeToString(sum[:]))
	for _, k := range r.Header.Values(IdempotencyKeyHeader) { // the API refuses more than one
		b.WriteString("\nidempotency-key:")
		b.WriteString(k)
	}
	if length != notStreamed {
		b.WriteByte('\n')
		b.WriteString(strconv.FormatInt(length, 10))
	}
	return []byte(b.String())
}

// requestMethod returns the method as the client sends it ("" means GET).
func requestMethod(r *http.Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// requestHost returns the host as sent in the Host header: a client request
// uses r.URL.Host when r.Host is empty; a server request always has r.Host.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}
