#!/usr/bin/env bash
# Quick start: builds Lockbox, makes CA keys and demo user keys, starts the
# CA on the embedded SQLite store with the example policy, and walks one
# request from submission through two approvals to a certificate, a
# revocation and a verified audit log. The CA keeps running until Ctrl-C.
#
#   scripts/demo.sh           run the walk-through, then keep the CA up
#   scripts/demo.sh --check   run it and stop (the test suite does this)
#
# Everything lives under .state/demo (LOCKBOX_DEMO_DIR); it is made anew
# each run.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true
state=${LOCKBOX_DEMO_DIR:-.state/demo}
users="alice bob carol dave erin frank grace"

bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }
fail() { echo "demo: $*" >&2; exit 1; }

command -v go >/dev/null || fail "Go is not installed (https://go.dev/doc/install)"
command -v ssh-keygen >/dev/null || fail "ssh-keygen is missing: apt-get install openssh-client"

bold "Building bin/ca and bin/lockbox"
go build -o bin/ ./cmd/ca ./cmd/lockbox

rm -rf "$state"
mkdir -p "$state/keys" "$state/policy"
chmod 700 "$state"

bold "Making CA keys (user, hop, host) and the secrets key"
bin/ca init --data "$state/data"

bold "Giving the example policy's users and bastion fresh identity keys"
cp policy/*.yaml "$state/policy/"
for who in $users bastion-1; do
	ssh-keygen -q -t ed25519 -N '' -C "$who@lockbox-demo" -f "$state/keys/$who"
	pub=$(cut -d' ' -f1-2 "$state/keys/$who.pub")
	sed -i -E "s#\"ssh-ed25519 [A-Za-z0-9+/=]+ $who@lockbox-example\"#\"$pub $who@lockbox-demo\"#" "$state/policy/"*.yaml
done
bin/ca policy check "$state/policy"

bold "Starting the CA (SQLite store: $state/data/lockbox.db)"
bin/ca serve --data "$state/data" --policy "$state/policy" --listen 127.0.0.1:0 >"$state/ca.out" 2>"$state/ca.log" &
ca_pid=$!
trap 'kill $ca_pid 2>/dev/null; wait $ca_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	grep -q '^listening on ' "$state/ca.out" 2>/dev/null && break
	kill -0 $ca_pid 2>/dev/null || { cat "$state/ca.log" >&2; fail "the CA did not start"; }
	sleep 0.1
done
url="http://$(sed -n 's/^listening on //p' "$state/ca.out")"
echo "CA at $url"

# lb USER ARGS...: the lockbox CLI as USER.
lb() {
	local who=$1
	shift
	LOCKBOX_CA=$url LOCKBOX_USER=$who LOCKBOX_IDENTITY="$state/keys/$who" LOCKBOX_DIR="$state/grants/$who" \
		SSH_AUTH_SOCK= bin/lockbox "$@"
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

bold "alice is done early and revokes the grant; its certificate is now in the KRL"
show alice revoke "$id"
lb alice revoke "$id" --reason "fixed"
if command -v curl >/dev/null; then
	curl -fsS "$url/v1/krl" -o "$state/krl"
	ssh-keygen -Q -f "$state/krl" "$state/grants/alice/$id-cert.pub" || true
fi

bold "erin (SRE, an auditor) reads and verifies the audit log"
show erin audit
lb erin audit
show erin audit verify
lb erin audit verify

if $check; then
	bold "Quick start OK"
	exit 0
fi

bold "The CA is running at $url. In another terminal, act as a demo user:"
cat <<EOT
  export LOCKBOX_CA=$url LOCKBOX_USER=bob LOCKBOX_IDENTITY=$PWD/$state/keys/bob SSH_AUTH_SOCK=
  bin/lockbox request --role health --resource db-2 --duration 30m --reason "check disks"
Press Ctrl-C to stop.
EOT
wait $ca_pid
