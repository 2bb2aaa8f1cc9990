// Package bastion is Lockbox's SSH gateway: the only way to a target.
//
// An engineer connects with stock OpenSSH, `ssh -p 2222 RESOURCE@bastion`,
// offering the grant certificate the user CA signed for them, then answers
// a TOTP prompt. The bastion asks the CA to open the session (the grant
// must be live, the resource in it, and the user must have no other
// session on any bastion), makes a fresh key, gets a hop certificate for
// it from the CA, connects to the target, verifies the target's host key
// (host CA or a pinned key, never trust on first use), and relays the
// session while recording it. It ends the session when the client is idle
// too long, at the session cap, when the grant ends or is revoked, or when
// the recording fails, and tells the user why.
//
// The bastion talks to the CA only through the small ControlPlane
// interface, so tests can pass a fake.
//
// Authentication is two steps on one connection, chained with x/crypto's
// PartialSuccessError: the certificate, whose signature the client proved
// (VerifiedPublicKeyCallback), and then a TOTP code. The identity used for
// the session is the one bound by those callbacks into the connection's
// final Permissions, never a key merely offered (CVE-2024-45337), and never
// the value gliderlabs/ssh keeps of the last accepted key.
package bastion
