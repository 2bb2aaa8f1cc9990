// Package apiauth authenticates HTTP requests to the Lockbox CA with SSH keys,
// so that no bearer secret ever sits on disk.
//
// The client (the lockbox CLI, or a bastion) signs each request with an SSH key
// from ssh-agent or a key file, using a [Signer]. It sends one header:
//
//	Authorization: Lockbox-SSH-Sig v=1,principal=user:alice,key=SHA256:...,ts=1700000000,nonce=...,sig=...
//
// where key is the SHA256 fingerprint of the public key (as
// ssh.FingerprintSHA256), ts the signing time in unix seconds, nonce the
// unpadded base64url encoding of 16 random bytes, and sig the standard base64
// encoding of ssh.Marshal(signature). The signature covers
//
//	"lockbox-api-sig-v1\n" + principal + "\n" + key + "\n" + method + "\n" +
//	requestURI + "\n" + host + "\n" + ts + "\n" + nonce + "\n" + hex(sha256(body))
//
// where requestURI is r.URL.RequestURI() (path and raw query exactly as sent)
// and host is r.Host. The CA checks requests with a [Verifier] against the keys
// registered in policy; it refuses stale timestamps and replayed nonces.
//
// Principals are "user:NAME" or "bastion:NAME", NAME matching
// ^[a-z0-9][a-z0-9._-]{0,62}$.
//
// Because the host and request URI are signed, a reverse proxy in front of the
// CA must pass both through unchanged.
package apiauth
