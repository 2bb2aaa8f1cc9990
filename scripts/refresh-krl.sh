#!/usr/bin/env bash
# Replaces a Lockbox target's key revocation list with the CA's current one,
# and its trusted hop CA keys with the ones the CA publishes.
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
# Then it fetches URL/v1/ca and writes the hop CA keys it lists (two during
# a hop CA key rotation: docs/operations.md) to DIR/hop_ca.pub, sshd's
# TrustedUserCAKeys, the same way: checked (public keys, none of them a
# user CA key), then renamed into place. On any failure the old file stays
# and the script exits non-zero. So a prepared hop key is trusted here
# within a minute, and a retired one stops being trusted.
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

# --- the hop CA keys ------------------------------------------------------

trusted="$prefix/hop_ca.pub"
keys=$(mktemp "$prefix/.hop_ca.pub.XXXXXX") || die "cannot create a temporary file in $prefix"
cajson=$(mktemp "$prefix/.ca.json.XXXXXX") || die "cannot create a temporary file in $prefix"
trap 'rm -f "$keys" "$keys.one" "$cajson"' EXIT
curl -fsS --max-time 30 --proto '=http,https' -o "$cajson" "$ca/v1/ca" ||
	die "fetching $ca/v1/ca failed; keeping the old $trusted"
# ca_keys LIST SINGLE: the keys of the JSON array LIST in the CA's answer
# $cajson, one per line, or its single key SINGLE when it publishes no list
# (a CA from before key rotation). POSIX tools, no jq: the values are key
# lines that need no JSON escapes except the trailing "\n"; anything else
# is refused (exit 2). Exit 1: neither is there.
ca_keys() {
	local flat list v
	flat=$(tr -d '\n' <"$cajson")
	list=$(printf '%s' "$flat" | sed -n 's/^.*"'"$1"'"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*$/\1/p')
	if [ -z "$list" ]; then
		list=$(printf '%s' "$flat" | sed -n 's/^.*"'"$2"'"[[:space:]]*:[[:space:]]*\("[^"]*"\).*$/\1/p')
	fi
	[ -n "$list" ] || return 1
	while IFS= read -r v; do
		v=${v#\"}
		v=${v%\"}
		v=${v%\\n}
		case "$v" in
		"") continue ;;
		*\\*) printf '%s: %s/v1/ca: unexpected escapes in %s\n' "$prog" "$ca" "$1" >&2; return 2 ;;
		esac
		printf '%s\n' "$v"
	done < <(printf '%s' "$list" | grep -o '"[^"]*"')
}

# hop_keys OUT: writes the hop CA keys the CA publishes to OUT, one per
# line, after checking each is a public key and none is a user CA key
# (trusting the user CA here would let an engineer's own certificate in,
# around the bastion; the CA refuses to run with shared keys, and so do
# we).
hop_keys() {
	local hop user k u n=0
	hop=$(ca_keys hop_cas hop_ca) || return 1
	user=$(ca_keys user_cas user_ca || true)
	: >"$1"
	while IFS= read -r k; do
		[ -n "$k" ] || continue
		[[ $k =~ $key_re ]] || die "$ca/v1/ca: hop_ca is not a public key line; keeping the old $trusted"
		printf '%s\n' "$k" >"$1.one"
		ssh-keygen -l -f "$1.one" >/dev/null 2>&1 || die "$ca/v1/ca: hop_ca is not a valid public key; keeping the old $trusted"
		while IFS= read -r u; do
			[ -z "$u" ] || [ "$(cut -d' ' -f2 <<<"$u")" != "$(cut -d' ' -f2 <<<"$k")" ] ||
				die "$ca/v1/ca: hop_ca is the user CA key; refusing to trust it, keeping the old $trusted"
		done <<<"$user"
		printf '%s\n' "$k" >>"$1"
		n=$((n + 1))
	done <<<"$hop"
	rm -f "$1.one"
	[ "$n" -gt 0 ] || return 1
}
key_re='^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+=*( [[:print:]]*)?$'

hop_keys "$keys" || die "$ca/v1/ca has no hop_ca; keeping the old $trusted"
if ! cmp -s "$keys" "$trusted"; then
	chmod 0644 "$keys"
	mv -f "$keys" "$trusted" || die "replacing $trusted failed; keeping the old one"
fi

