// Package scim is the CA's SCIM 2.0 endpoint (RFC 7643, RFC 7644): the
// organisation's directory (Entra ID, Okta provisioning) pushes users and
// groups to /scim/v2/Users and /scim/v2/Groups, so that approver rights
// follow the directory's groups and a person disabled there loses
// everything at once (see workflow.Deprovision).
//
// It serves the subset directories push: Users (POST, GET by id, GET with
// filter=userName eq "x" or a page, PUT, PATCH, DELETE), Groups (POST,
// GET by id, GET with filter=displayName eq "x", PUT, PATCH adding,
// removing and replacing members, DELETE), and ServiceProviderConfig.
// Bodies and answers are application/scim+json; errors are SCIM error
// bodies with a status and, for bad input, a scimType.
//
// Decoding is strict where meaning is at stake. Duplicate names anywhere
// in a body, invalid UTF-8, and values of the wrong type are refused. The
// attributes Lockbox keeps (userName, externalId, displayName, active;
// for groups displayName, externalId, members) are matched exactly as
// RFC 7643 spells them, and a name that differs from one of them only in
// case ("Active", "USERNAME") is refused rather than read: SCIM names
// are case-insensitive, so such a name would otherwise either be read as
// the attribute or silently dropped, and one body could mean two things.
// Other attributes a directory sends (name, emails, the enterprise
// extension, ...) are accepted and not kept. PATCH paths, being strings
// rather than JSON names, are matched in any case, as RFC 7644 says; a
// path to an attribute that is not kept is accepted and changes nothing.
// Operation names are matched in any case too ("Replace", as Entra ID
// sends them), and a PATCH of active takes the strings "True" and
// "False" as Entra ID sends them.
//
// The caller authenticates with a bearer token (compared in constant
// time). Nothing of a call is read or stored before that; refusals of
// unauthenticated callers are counted per source address and audited
// once per interval (workflow.CountAnonymousRefusal), and count against
// the source's penalty budget (Config.Penalties); refusals of the
// directory itself are audited one by one. Bodies are bounded.
package scim
