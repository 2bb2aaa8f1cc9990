#!/usr/bin/env bash
# Prepares a target host's stock OpenSSH sshd to trust Lockbox: only the hop
# CA (so only the bastion gets in), principals per login, a revocation list,
# and optionally the command gate. See docs/targets.md.
#
#   scripts/setup-target.sh --ca URL --resource NAME
#       [--login LOGIN=ROLE[,ROLE...]]... [--prefix DIR] [--gate PATH]
#       [--bin-dir DIR] [--no-reload]
#
#   --ca URL         the Lockbox CA (GET URL/v1/ca and URL/v1/krl)
#   --resource NAME  this host's resource name in the policy
#   --login L=R,...  login L accepts roles R,... (principals R@NAME); repeat
#                    per login. principals/ then holds exactly these logins.
#   --prefix DIR     where the files go (default /etc/ssh/lockbox); the sshd
#                    drop-in then goes to DIR/sshd_config instead of
#                    /etc/ssh/sshd_config.d/lockbox.conf
#   --gate PATH      install this lockbox-gate binary as BIN-DIR/lockbox-gate
#   --bin-dir DIR    where --gate installs (default /usr/local/bin, where the
#                    CA's force-commands point; change it only for tests)
#   --no-reload      do not reload sshd
#
# Every file is written to a temporary name and renamed into place. When the
# drop-in is in the system's sshd_config.d, or sshd is to be reloaded, the
# configuration is checked with sshd -t first and the old drop-in put back if
# it fails.
set -euo pipefail

prog=setup-target
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
usage() {
	cat >&2 <<'EOF'
usage: setup-target.sh --ca URL --resource NAME [--login LOGIN=ROLE[,ROLE...]]...
                       [--prefix DIR] [--gate PATH] [--bin-dir DIR] [--no-reload]
EOF
	exit 2
}

ca="" resource="" prefix="" gate="" bindir=/usr/local/bin reload=1
logins=()
while [ $# -gt 0 ]; do
	case "$1" in
	--ca | --resource | --login | --prefix | --gate | --bin-dir)
		[ $# -ge 2 ] || usage
		case "$1" in
		--ca) ca=$2 ;;
		--resource) resource=$2 ;;
		--login) logins+=("$2") ;;
		--prefix) prefix=$2 ;;
		--gate) gate=$2 ;;
		--bin-dir) bindir=$2 ;;
		esac
		shift 2
		;;
	--no-reload) reload=0; shift ;;
	-h | --help) usage ;;
	*) printf '%s: unknown argument: %s\n' "$prog" "$1" >&2; usage ;;
	esac
done

# --- check the arguments --------------------------------------------------

[ -n "$ca" ] || die "--ca URL is required"
[ -n "$resource" ] || die "--resource NAME is required"
case "$ca" in
https://*) ;;
http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]* | http://127.0.0.1 | http://localhost) ;;
http://*) warn "fetching the CA keys over plain HTTP: anyone on the path could substitute their own CA; use https://" ;;
*) die "--ca must be an http:// or https:// URL, not: $ca" ;;
esac
ca=${ca%/}

# Principals are ROLE@RESOURCE: no wildcards, commas, spaces or second '@'.
name_re='^[A-Za-z0-9][A-Za-z0-9._-]*$'
[[ $resource =~ $name_re ]] || die "invalid resource name: $resource"

custom_prefix=1
if [ -z "$prefix" ]; then
	prefix=/etc/ssh/lockbox
	custom_prefix=0
fi
case "$prefix" in
/*) ;;
*) prefix="$(pwd)/$prefix" ;;
esac
prefix=${prefix%/}
[[ ! $prefix =~ [[:space:]] ]] || die "--prefix must not contain spaces: $prefix"
if [ "$custom_prefix" = 1 ]; then
	dropin="$prefix/sshd_config"
else
	dropin=/etc/ssh/sshd_config.d/lockbox.conf
fi

# login -> "ROLE@RESOURCE" lines, merging repeated --login for one login.
declare -A principals=()
for spec in "${logins[@]}"; do
	login=${spec%%=*}
	roles=${spec#*=}
	if [ "$login" = "$spec" ] || [ -z "$roles" ]; then
		die "--login wants LOGIN=ROLE[,ROLE...], not: $spec"
	fi
	[[ $login =~ ^[a-z_][a-z0-9_.-]*$ ]] || die "invalid login name: $login"
	IFS=, read -r -a role_list <<<"$roles"
	for role in "${role_list[@]}"; do
		[[ $role =~ $name_re ]] || die "invalid role name in --login $spec: '$role'"
		principals[$login]+="$role@$resource"$'\n'
	done
	id -u "$login" >/dev/null 2>&1 || warn "no account $login on this host yet"
done
[ ${#principals[@]} -gt 0 ] || warn "no --login given: no Lockbox role can log in to this host"

if [ "$custom_prefix" = 0 ] && [ "$(id -u)" != 0 ]; then
	die "run as root (or give --prefix to write somewhere else)"
fi
command -v curl >/dev/null || die "curl is required (apt-get install curl)"
command -v ssh-keygen >/dev/null || die "ssh-keygen is required (apt-get install openssh-client)"
if [ -n "$gate" ]; then
	if [ ! -f "$gate" ] || [ ! -x "$gate" ]; then die "--gate $gate is not an executable file"; fi
fi

here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/refresh-krl.sh" ] || die "$here/refresh-krl.sh is missing"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# install_file SRC DEST MODE: copy SRC over DEST atomically (temporary file
# in DEST's directory, then rename), owned by root when we are root.
install_file() {
	local tmp
	tmp=$(mktemp "$(dirname "$2")/.$(basename "$2").XXXXXX")
	if ! cat "$1" >"$tmp" || ! chmod "$3" "$tmp"; then
		rm -f "$tmp"
		die "writing $2 failed"
	fi
	if [ "$(id -u)" = 0 ]; then chown root:root "$tmp"; fi
	mv -f "$tmp" "$2" || { rm -f "$tmp"; die "replacing $2 failed"; }
}

# --- the hop CA -----------------------------------------------------------

curl -fsS --max-time 30 --proto '=http,https' -o "$work/ca.json" "$ca/v1/ca" ||
	die "fetching $ca/v1/ca failed"

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
		[[ $k =~ $key_re ]] || die "$ca/v1/ca: hop_ca is not a public key line"
		printf '%s\n' "$k" >"$1.one"
		ssh-keygen -l -f "$1.one" >/dev/null 2>&1 || die "$ca/v1/ca: hop_ca is not a valid public key"
		while IFS= read -r u; do
			[ -z "$u" ] || [ "$(cut -d' ' -f2 <<<"$u")" != "$(cut -d' ' -f2 <<<"$k")" ] ||
				die "$ca/v1/ca: hop_ca is the user CA key; refusing to trust it"
		done <<<"$user"
		printf '%s\n' "$k" >>"$1"
		n=$((n + 1))
	done <<<"$hop"
	rm -f "$1.one"
	[ "$n" -gt 0 ] || return 1
}
key_re='^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+=*( [[:print:]]*)?$'

cajson="$work/ca.json"
# During a hop CA key rotation the CA publishes two hop keys: both are
# trusted, and refresh-krl.sh keeps the file in step with the CA.
hop_keys "$work/hop_ca.pub" || die "$ca/v1/ca has no hop_ca (is this a Lockbox CA?)"

mkdir -p "$prefix/principals"
chmod 0755 "$prefix" "$prefix/principals"
install_file "$work/hop_ca.pub" "$prefix/hop_ca.pub" 0644

# --- principals -----------------------------------------------------------

for login in "${!principals[@]}"; do
	printf '%s' "${principals[$login]}" | sort -u >"$work/principals"
	install_file "$work/principals" "$prefix/principals/$login" 0644
done
# principals/ holds exactly the logins given: a role dropped from this host
# must stop working here.
for f in "$prefix/principals"/*; do
	[ -e "$f" ] || continue
	login=$(basename "$f")
	if [ -z "${principals[$login]+set}" ]; then
		rm -f "$f"
		printf 'removed %s (no --login %s given)\n' "$f" "$login"
	fi
done

# sshd (StrictModes yes) ignores a principals file if it or a directory above
# it is writable by anyone but root.
d="$prefix/principals"
while [ "$d" != / ] && [ -n "$d" ]; do
	if [ -n "$(find "$d" -maxdepth 0 \( -perm -020 -o -perm -002 \) -print)" ] ||
		[ -n "$(find "$d" -maxdepth 0 ! -user 0 -print)" ]; then
		warn "$d is not owned by root or is writable by group or others: sshd with StrictModes yes will refuse the principals files"
		break
	fi
	d=$(dirname "$d")
done

# --- the KRL --------------------------------------------------------------

"$here/refresh-krl.sh" --ca "$ca" --prefix "$prefix" ||
	die "could not install the KRL; sshd would refuse every login without it"

# --- the gate -------------------------------------------------------------

if [ -n "$gate" ]; then
	# A gate that cannot run (wrong architecture) would refuse every
	# command: with no SSH_ORIGINAL_COMMAND it must list its patterns.
	probe=$(env -u SSH_ORIGINAL_COMMAND "$gate" -- probe 2>&1 || true)
	case "$probe" in
	*"this role runs only these commands"*) ;;
	*) die "--gate $gate does not behave like lockbox-gate on this host: $probe" ;;
	esac
	mkdir -p "$bindir"
	install_file "$gate" "$bindir/lockbox-gate" 0755
fi

# --- the sshd drop-in -----------------------------------------------------

cat >"$work/sshd_config" <<EOF
# Lockbox target "$resource", written by setup-target.sh; see docs/targets.md.
# Only the Lockbox hop CA may sign logins, so only the bastion gets in.
TrustedUserCAKeys $prefix/hop_ca.pub
AuthorizedPrincipalsFile $prefix/principals/%u
RevokedKeys $prefix/revoked.krl
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
AllowAgentForwarding no
PermitTunnel no
EOF

previous=""
if [ -f "$dropin" ]; then
	previous="$work/previous.conf"
	cp -p "$dropin" "$previous"
fi
mkdir -p "$(dirname "$dropin")"
install_file "$work/sshd_config" "$dropin" 0644

# sshd -t checks the system's configuration: it matters when the drop-in is
# part of it, or when sshd is about to reload (a bad configuration would
# stop it). sshd -T then shows whether our settings are the ones in effect.
if [ "$custom_prefix" = 0 ] || [ "$reload" = 1 ]; then
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	if ! out=$("$sshd" -t 2>&1); then
		if [ -n "$previous" ]; then install_file "$previous" "$dropin" 0644; else rm -f "$dropin"; fi
		die "sshd -t refused the configuration; $dropin put back as it was:
$out"
	fi
	effective=$("$sshd" -T 2>/dev/null || true)
	if ! grep -qxF "trustedusercakeys $prefix/hop_ca.pub" <<<"$effective"; then
		msg="sshd does not use $dropin: /etc/ssh/sshd_config must include it before any other TrustedUserCAKeys"
		if [ "$custom_prefix" = 0 ]; then
			die "$msg (Include /etc/ssh/sshd_config.d/*.conf at the top)"
		fi
		warn "$msg (Include $dropin)"
	fi
fi

if [ "$reload" = 1 ]; then
	if command -v systemctl >/dev/null && systemctl is-active --quiet ssh; then
		systemctl reload ssh
	elif command -v systemctl >/dev/null && systemctl is-active --quiet sshd; then
		systemctl reload sshd
	elif command -v service >/dev/null; then
		service ssh reload
	else
		die "could not find how to reload sshd; reload it yourself"
	fi
	echo "sshd reloaded"
fi

echo "Lockbox target $resource is set up under $prefix (sshd drop-in: $dropin)."
echo "Refresh the KRL every minute, e.g. with this line in /etc/cron.d/lockbox-krl:"
printf '* * * * * root %q --ca %q --prefix %q\n' "$here/refresh-krl.sh" "$ca" "$prefix"
