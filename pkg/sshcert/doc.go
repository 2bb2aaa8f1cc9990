// Package sshcert builds, signs and checks the OpenSSH certificates Lockbox
// issues, and writes the key revocation lists (KRLs) targets load.
//
// Building a certificate is pure: [UserCertificate] and [HostCertificate]
// take a subject key and a spec and return an unsigned certificate, or a
// named error saying which field is wrong. [Sign] adds the CA signature; the
// caller supplies the randomness. Nothing here reads the clock: validity
// comes in the spec, and a [Checker] is given a Clock.
//
// The rules enforced here are those of SECURITY.md ("Bastion login and
// certificates"):
//
//   - principals are role@resource, never empty, never containing '*', '?',
//     ',', whitespace, control or non-ASCII characters;
//   - user certificates carry only the critical options force-command and
//     source-address, and only the permit-pty extension;
//   - validity is always finite, serials are random and never zero;
//   - the checker trusts exactly one raw CA key, compared byte for byte,
//     refuses certificates as authorities, SHA-1 RSA signatures, unknown
//     critical options and empty principal lists.
//
// Validity windows are half-open in whole seconds, as in OpenSSH: a
// certificate is valid from ValidAfter (inclusive) to ValidBefore
// (exclusive), with the current time truncated to the second.
//
// [MarshalKRL] writes OpenSSH key revocation lists that revoke certificates
// by CA and serial; sshd reads them as RevokedKeys.
//
// Errors returned by this package wrap the sentinel values declared in
// errors.go; compare them with [errors.Is]. Messages never contain key
// material.
package sshcert
