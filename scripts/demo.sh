#!/usr/bin/env bash
# Quick start: builds Lockbox; makes CA keys, demo users' keys and a
# bastion; starts the CA on the embedded SQLite store with the example
# policy, a local target (stock OpenSSH sshd set up with
# scripts/setup-target.sh) and the bastion; then walks one request from
# submission through two approvals to a certificate, a real ssh session
# through the bastion with a TOTP code, its replay, a revocation and a
# verified audit log. Everything keeps running until Ctrl-C.
#
#   scripts/demo.sh           run the walk-through, then keep it all up
#   scripts/demo.sh --check   run it and stop (the test suite does this)
#
# Needs Go, openssh-client and openssh-server (/usr/sbin/sshd) and curl.
# Everything lives under .state/demo (LOCKBOX_DEMO_DIR), made anew each run.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true
state=${LOCKBOX_DEMO_DIR:-.state/demo}
users="alice bob carol dave erin frank grace"
me=$(id -un)

bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
fail() { echo "demo: $*" >&2; exit 1; }

command -v go >/dev/null || fail "Go is not installed (https://go.dev/doc/install)"
command -v ssh-keygen >/dev/null && command -v ssh >/dev/null || fail "the OpenSSH client is missing: apt-get install openssh-client"
[ -x /usr/sbin/sshd ] || fail "the OpenSSH server (the demo's target) is missing: apt-get install openssh-server"
command -v curl >/dev/null || fail "curl is missing: apt-get install curl"

bold "Building bin/ca, bin/bastion, bin/lockbox, bin/lockbox-gate"
go build -o bin/ ./cmd/ca ./cmd/bastion ./cmd/lockbox ./cmd/lockbox-gate

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -rf "$state"
mkdir -p "$state/keys" "$state/policy" "$state/target/bin"
chmod 700 "$state"
state=$(cd "$state" && pwd)
go build -o "$state/totp" ./scripts/totp

# free_port prints a free loopback port.
free_port() {
	local p
	for p in $(seq 22000 22999); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	fail "no free port in 22000-22999"
}

# wait_listening FILE PID: waits for "listening on ADDR" in FILE, prints ADDR.
wait_listening() {
	local i
	for i in $(seq 1 100); do
		if grep -q '^listening on ' "$1" 2>/dev/null; then sed -n 's/^listening on //p' "$1"; return; fi
		kill -0 "$2" 2>/dev/null || { cat "${1%.out}.log" >&2; fail "$1: the process did not start"; }
		sleep 0.1
	done
	fail "$1: not listening after 10s"
}

bold "Making CA keys (user, hop, host), and the bastion's host and identity keys"
bin/ca init --data "$state/ca"
bin/bastion init --data "$state/bastion"

target_port=$(free_port)
bold "Writing the demo policy: the example policy, with fresh user keys, the bastion's identity, db-1 at 127.0.0.1:$target_port, logins as $me"
cp policy/*.yaml "$state/policy/"
for who in $users; do
	ssh-keygen -q -t ed25519 -N '' -C "$who@lockbox-demo" -f "$state/keys/$who"
	pub=$(cut -d' ' -f1-2 "$state/keys/$who.pub")
	sed -i -E "s#\"ssh-ed25519 [A-Za-z0-9+/=]+ $who@lockbox-example\"#\"$pub $who@lockbox-demo\"#" "$state/policy/"*.yaml
done
pub=$(cut -d' ' -f1-2 "$state/bastion/identity.pub")
sed -i -E "s#\"ssh-ed25519 [A-Za-z0-9+/=]+ bastion-1@lockbox-example\"#\"$pub bastion-1@lockbox-demo\"#" "$state/policy/bastions.yaml"
sed -i -E "s#address: 127.0.0.1:2201#address: 127.0.0.1:$target_port#" "$state/policy/resources.yaml"
sed -i -E "s#^(\s+login:) \S+\$#\1 $me#; s#/usr/local/bin/lockbox-gate#$state/target/bin/lockbox-gate#" "$state/policy/roles.yaml"
bin/ca policy check "$state/policy"

cacfg=(--data "$state/ca" --policy "$state/policy")
bold "Certifying host keys with the host CA: the bastion's and the target's"
ssh-keygen -q -t ed25519 -N '' -C "db-1 host key" -f "$state/target/ssh_host_ed25519_key"
bin/ca sign-host "${cacfg[@]}" --host-key "$state/bastion/host_key.pub" --hostname 127.0.0.1 --hostname localhost
bin/ca sign-host "${cacfg[@]}" --host-key "$state/target/ssh_host_ed25519_key.pub" --hostname db-1

bold "Starting the CA (SQLite store: $state/ca/lockbox.db)"
bin/ca serve "${cacfg[@]}" --listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0 >"$state/ca.out" 2>"$state/ca.log" &
pids+=($!)
url="http://$(wait_listening "$state/ca.out" $!)"
echo "CA at $url"

bold "Setting up the target db-1: stock sshd trusting only the hop CA (scripts/setup-target.sh)"
scripts/setup-target.sh --ca "$url" --resource db-1 --login "$me=admin,reader,health" \
	--prefix "$state/target" --gate bin/lockbox-gate --bin-dir "$state/target/bin" --no-reload
{
	echo "ListenAddress 127.0.0.1:$target_port"
	echo "HostKey $state/target/ssh_host_ed25519_key"
	echo "HostCertificate $state/target/ssh_host_ed25519_key-cert.pub"
	echo "PidFile none"
	echo "StrictModes no"
	echo "UsePAM no"
	echo "PermitRootLogin prohibit-password"
	cat "$state/target/sshd_config"
} >"$state/target/sshd_demo_config"
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$state/target/sshd_demo_config" 2>"$state/target/sshd.log" &
pids+=($!)
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$target_port") 2>/dev/null && break; sleep 0.1; done
echo "db-1 (sshd) at 127.0.0.1:$target_port"

bold "Starting the bastion"
bin/bastion serve --data "$state/bastion" --ca "$url" --listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0 >"$state/bastion.out" 2>"$state/bastion.log" &
pids+=($!)
bastion=$(wait_listening "$state/bastion.out" $!)
echo "bastion at $bastion"

# lb USER ARGS...: the lockbox CLI as USER.
lb() {
	local who=$1
	shift
	LOCKBOX_CA=$url LOCKBOX_USER=$who LOCKBOX_IDENTITY="$state/keys/$who" LOCKBOX_DIR="$state/grants/$who" \
		LOCKBOX_BASTION=$bastion SSH_AUTH_SOCK= bin/lockbox "$@"
}
show() { printf '$ lockbox (as %s) %s\n' "$1" "${*:2}"; }

bold "alice asks for a root shell on db-1 (admin needs a manager and security, and a ticket)"
show alice request --role admin --resource db-1 --duration 1h --reason "disk full on db-1" --ticket INC-42
id=$(lb alice request --role admin --resource db-1 --duration 1h --reason "disk full on db-1" --ticket INC-42)
echo "$id"

bold "Requests outside her eligibility are rejected at once, with the reason"
show alice request --role admin --resource web-1 --duration 1h --reason "curious"
if lb alice request --role admin --resource web-1 --duration 1h --reason curious --ticket X; then fail "out-of-scope request accepted"; fi

bold "Nobody approves their own request"
show alice approve "$id"
if lb alice approve "$id"; then fail "self-approval accepted"; fi

bold "carol (alice's manager) approves; security still has to"
show carol approve "$id"
lb carol approve "$id" --reason "known incident"
bold "frank (security) approves: the grant starts now"
show frank approve "$id"
lb frank approve "$id"
lb alice requests --mine

bold "alice makes a fresh key for this grant and fetches its certificate"
show alice cert "$id"
lb alice cert "$id"
ssh-keygen -L -f "$state/grants/alice/$id-cert.pub"

bold "alice enrolls her authenticator (the demo computes codes from the URI with scripts/totp)"
show alice mfa enroll
uri=$(lb alice mfa enroll)
echo "$uri"
printf '#!/bin/sh\nexec %q %q\n' "$state/totp" "$uri" >"$state/askpass"
chmod 700 "$state/askpass"

bold "alice runs a command on db-1 through the bastion: certificate, then a TOTP code"
show alice ssh db-1 -- 'echo "hello from $(hostname) as $(id -un)"; uptime'
SSH_ASKPASS="$state/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=demo \
	lb alice ssh db-1 -- 'echo "hello from $(hostname) as $(id -un)"; uptime'

bold "erin (SRE) lists sessions and replays alice's"
for _ in $(seq 1 50); do
	session=$(lb erin --json sessions | sed -n 's/.*"id": "\(sess-[a-z2-7]*\)".*/\1/p' | head -n 1)
	[ -n "$session" ] && lb erin --json sessions | grep -q '"recording_size"' && break
	sleep 0.2
done
lb erin sessions
show erin replay "$session" --speed 10
lb erin replay "$session" --speed 10

bold "alice is done and revokes the grant; its certificates are now in the KRL"
show alice revoke "$id"
lb alice revoke "$id" --reason "fixed"
curl -fsS "$url/v1/krl" -o "$state/krl"
ssh-keygen -Q -f "$state/krl" "$state/grants/alice/$id-cert.pub" || true

bold "erin (an auditor) reads and verifies the audit log"
show erin audit
lb erin audit
show erin audit verify
lb erin audit verify

if $check; then
	bold "Quick start OK"
	exit 0
fi

bold "The CA ($url), the bastion ($bastion) and db-1 are running. In another terminal:"
cat <<EOT
  export LOCKBOX_CA=$url LOCKBOX_BASTION=$bastion LOCKBOX_USER=bob LOCKBOX_IDENTITY=$state/keys/bob LOCKBOX_DIR=$state/grants/bob SSH_AUTH_SOCK=
  bin/lockbox request --role health --resource db-2 --duration 30m --reason "check disks"
  bin/lockbox mfa enroll      # add the URI to an authenticator app
(only db-1 has a running target in the demo). Press Ctrl-C to stop.
EOT
wait
