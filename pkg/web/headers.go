package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// csp allows scripts, styles, images and fetches from the CA itself only:
// no inline script or style, no framing, forms post only to the CA.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every UI response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// replayCSP is csp plus a per-response nonce for <style> elements. The
// terminal renderer (xterm.js) sizes and colours its cells with <style>
// elements it creates; the player gives them this nonce. Scripts stay
// 'self' only, so an injected element could not learn or use it.
func replayCSP() (policy, nonce string) {
	b := make([]byte, 18)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	nonce = base64.RawURLEncoding.EncodeToString(b)
	policy = "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-" + nonce + "'; img-src 'self'; " +
		"connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return policy, nonce
}
