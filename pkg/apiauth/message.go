package apiauth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

const messagePrefix = "lockbox-api-sig-v1\n"

// signedMessage builds the bytes a request signature covers. Signer and
// Verifier both call it, so they cannot disagree on the format.
func signedMessage(p *authParams, r *http.Request, sum [sha256.Size]byte) []byte {
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
