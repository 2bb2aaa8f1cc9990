#!/usr/bin/env bash
# Replaces a Lockbox target's key revocation list with the CA's current one.
#
#   scripts/refresh-krl.sh --ca URL [--prefix DIR]
#
# Fetches URL/v1/krl into a temporary file next to DIR/revoked.krl (default
# DIR: /etc/ssh/lockbox), checks that it is an OpenSSH KRL (non-empty, the
# magic bytes "SSHKRL\n\0", and, when ssh-keygen and DIR/hop_ca.pub are
# there, that ssh-keygen -Q can read all of it), then renames it over the old
# one. sshd reads RevokedKeys at every login and refuses every certificate if
# it cannot, so the file is only ever replaced whole. On any failure the old
# KRL stays in place and the script exits non-zero with a message.
#
# Run it every minute from cron; setup-target.sh prints the line.
set -euo pipefail

prog=refresh-krl
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage() {
	printf 'usage: %s --ca URL [--prefix DIR]\n' "$0" >&2
	exit 2
}

ca=""
prefix=/etc/ssh/lockbox
while [ $# -gt 0 ]; do
	case "$1" in
	--ca) [ $# -ge 2 ] || usage; ca=$2; shift 2 ;;
	--prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
	-h | --help) usage ;;
	*) printf '%s: unknown argument: %s\n' "$prog" "$1" >&2; usage ;;
	esac
done
[ -n "$ca" ] || usage
case "$ca" in
http://* | https://*) ;;
*) die "--ca must be an http:// or https:// URL, not: $ca" ;;
esac
ca=${ca%/}
command -v curl >/dev/null || die "curl is required (apt-get install curl)"
[ -d "$prefix" ] || die "$prefix does not exist (run setup-target.sh first)"

krl="$prefix/revoked.krl"
# Same directory, so the rename is atomic.
tmp=$(mktemp "$prefix/.revoked.krl.XXXXXX") || die "cannot create a temporary file in $prefix"
trap 'rm -f "$tmp"' EXIT

curl -fsS --max-time 30 --proto '=http,https' -o "$tmp" "$ca/v1/krl" ||
	die "fetching $ca/v1/krl failed; keeping the old $krl"
[ -s "$tmp" ] || die "$ca/v1/krl returned nothing; keeping the old $krl"

# "SSHKRL\n\0"
magic=$(head -c 8 "$tmp" | od -An -tx1 | tr -d ' \n')
[ "$magic" = 5353484b524c0a00 ] ||
	die "$ca/v1/krl did not return an OpenSSH KRL; keeping the old $krl"

# ssh-keygen -Q parses the whole list: 0 = the key is not revoked, 1 = it
# is, anything else = the KRL is malformed (truncated, corrupt).
if command -v ssh-keygen >/dev/null && [ -f "$prefix/hop_ca.pub" ]; then
	status=0
	ssh-keygen -Q -f "$tmp" "$prefix/hop_ca.pub" >/dev/null 2>&1 || status=$?
	case $status in
	0) ;;
	1) printf '%s: warning: the KRL revokes the hop CA key itself: every login will be refused\n' "$prog" >&2 ;;
	*) die "ssh-keygen cannot read the KRL from $ca/v1/krl; keeping the old $krl" ;;
	esac
fi

chmod 0644 "$tmp"
mv -f "$tmp" "$krl" || die "replacing $krl failed; keeping the old one"
trap - EXIT
