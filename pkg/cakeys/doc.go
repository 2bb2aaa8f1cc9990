// Package cakeys keeps the CA's three signing keys (user, hop, host) in its
// data directory and rotates each of them with an overlap, so that nothing
// that trusts the CA stops working while a key changes.
//
// One kind's files, for the user CA (hop_ca and host_ca alike):
//
//	user_ca, user_ca.pub                 the key that signs every new certificate
//	user_ca.next, user_ca.next.pub       prepared: published and trusted, signs nothing yet
//	user_ca.previous.pub                 replaced: published and trusted until retired;
//	                                     only the public half is kept
//	user_ca.retired-20261202T030405Z.pub retired: trusted by nobody, kept for the record
//
// A rotation runs in three steps, each its own call: [Prepare] makes the
// next key (optional: [Rotate] makes it if it is missing), [Rotate] makes it
// the signing key and keeps the replaced one's public half as previous, and
// [Retire] ends the trust in the previous key. The replaced private key is
// overwritten by the rename that installs the next one: from then on the
// CA cannot sign with it.
//
// Every step writes new files under temporary or new names and renames
// them into place. A step interrupted by a crash leaves a state [Load]
// refuses with a message saying to run the same step again, which then
// finishes it. The package reads and writes files only; who may run the
// steps, and auditing them, is its caller's business.
package cakeys
