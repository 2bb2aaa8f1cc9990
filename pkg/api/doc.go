// Package api is the CA's HTTP JSON API under /v1/.
//
// Every call but the public ones (/v1/ca, /v1/krl, /healthz) is signed
// with an SSH key (package apiauth) and refused, and audited, when the
// signature, timestamp or nonce is wrong. Bodies are decoded strictly:
// unknown fields, trailing data and oversize bodies are errors. Errors are
// JSON (wire.Error) with a stable code; the mapping from the workflow's
// named errors to HTTP statuses and codes is in errors.go, and nowhere
// else.
package api
