#!/usr/bin/env bash
# High availability on loopback: the layout of docs/operations.md ("High
# availability"). Two CA replicas share one MariaDB database (created here
# and dropped on exit), the same CA keys and one recordings directory,
# behind a load balancer that is not sticky (scripts/ha-lb); two bastions,
# each with its own name and identity, reach the CAs through it; one
# target (stock OpenSSH sshd). A request goes in through one CA and is
# approved through the other; then one CA and one bastion are killed
# (SIGKILL) and alice gets her certificate, logs in through the surviving
# bastion, runs a command, and her session's recording arrives.
#
#   scripts/ha-demo.sh           run it, then keep it all up until Ctrl-C
#   scripts/ha-demo.sh --check   run it as a pass/fail check and stop
#
# Needs Go, openssh-client, openssh-server, curl and MariaDB at
# LOCKBOX_HA_MYSQL (default root@tcp(127.0.0.1:3306)/, the mariadb client
# to create and drop the database). State in .state/ha-demo.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true
state=${LOCKBOX_HA_DIR:-.state/ha-demo}
server=${LOCKBOX_HA_MYSQL:-root@tcp(127.0.0.1:3306)/}
me=$(id -un)
started=$SECONDS
steps=()

bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
fail() {
	echo "ha-demo: FAIL: $*" >&2
	for s in "${steps[@]}"; do echo "  ok   $s" >&2; done
	echo "  FAIL $*" >&2
	exit 1
}
ok() { steps+=("$*"); echo "ok: $*"; }

command -v go >/dev/null || fail "Go is not installed"
command -v ssh-keygen >/dev/null && command -v ssh >/dev/null || fail "the OpenSSH client is missing: apt-get install openssh-client"
[ -x /usr/sbin/sshd ] || fail "the OpenSSH server is missing: apt-get install openssh-server"
command -v curl >/dev/null || fail "curl is missing: apt-get install curl"
command -v mariadb >/dev/null || fail "the mariadb client is missing: apt-get install mariadb-client"

# The server DSN's user and address, for the mariadb client.
dbuser=${server%%@*}
dbaddr=${server#*tcp(}
dbaddr=${dbaddr%%)*}
dbpass=
if [[ "$dbuser" == *:* ]]; then dbpass=${dbuser#*:}; dbuser=${dbuser%%:*}; fi
sql() { MYSQL_PWD=$dbpass mariadb -h "${dbaddr%:*}" -P "${dbaddr##*:}" -u "$dbuser" -e "$1"; }
db=lockbox_test_ha$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
sql 'SELECT 1' >/dev/null || fail "MariaDB at $dbaddr as $dbuser does not answer (LOCKBOX_HA_MYSQL)"

bold "Building bin/ca, bin/bastion, bin/lockbox, bin/lockbox-gate and the demo load balancer"
go build -o bin/ ./cmd/ca ./cmd/bastion ./cmd/lockbox ./cmd/lockbox-gate

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	sql "DROP DATABASE IF EXISTS $db" || echo "ha-demo: could not drop database $db" >&2
}
trap cleanup EXIT
rm -rf "$state"
mkdir -p "$state/keys" "$state/policy" "$state/target/bin" "$state/recordings"
chmod 700 "$state"
state=$(cd "$state" && pwd)
go build -o "$state/totp" ./scripts/totp
go build -o "$state/ha-lb" ./scripts/ha-lb
sql "CREATE DATABASE $db"
export LOCKBOX_STORE_DRIVER=mysql LOCKBOX_STORE_DSN="${server%/}/$db?parseTime=true"
echo "database $db on $dbaddr"

free_port() {
	local p
	for p in $(seq 23000 23999); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	fail "no free port in 23000-23999"
}
# wait_listening FILE PID: waits for "listening on ADDR" in FILE, prints ADDR.
wait_listening() {
	local i
	for i in $(seq 1 150); do
		if grep -q '^listening on ' "$1" 2>/dev/null; then sed -n 's/^listening on //p' "$1" | head -n 1; return; fi
		kill -0 "$2" 2>/dev/null || { cat "${1%.out}.log" >&2; fail "$1: the process did not start"; }
		sleep 0.1
	done
	fail "$1: not listening after 15s"
}

bold "One set of CA keys for both replicas (ca init once, copied); a host key and identity per bastion"
bin/ca init --data "$state/ca-1" >/dev/null
cp -a "$state/ca-1" "$state/ca-2"
bin/bastion init --data "$state/bastion-1" >/dev/null
bin/bastion init --data "$state/bastion-2" >/dev/null

target_port=$(free_port)
cp policy/*.yaml "$state/policy/"
for who in alice carol frank erin; do
	ssh-keygen -q -t ed25519 -N '' -C "$who@lockbox-ha" -f "$state/keys/$who"
	pub=$(cut -d' ' -f1-2 "$state/keys/$who.pub")
	sed -i -E "s#\"ssh-ed25519 [A-Za-z0-9+/=]+ $who@lockbox-example\"#\"$pub $who@lockbox-ha\"#" "$state/policy/"*.yaml
done
{
	echo "bastions:"
	for b in bastion-1 bastion-2; do
		echo "  - name: $b"
		echo "    keys: [\"$(cut -d' ' -f1-2 "$state/$b/identity.pub") $b@lockbox-ha\"]"
		echo "    egress: [\"127.0.0.1/32\"]"
	done
} >"$state/policy/bastions.yaml"
sed -i -E "s#address: 127.0.0.1:2201#address: 127.0.0.1:$target_port#" "$state/policy/resources.yaml"
sed -i -E "s#^(\s+login:) \S+\$#\1 $me#; s#/usr/local/bin/lockbox-gate#$state/target/bin/lockbox-gate#" "$state/policy/roles.yaml"
bin/ca policy check "$state/policy" >/dev/null

cacfg=(--data "$state/ca-1" --policy "$state/policy")
ssh-keygen -q -t ed25519 -N '' -C "db-1 host key" -f "$state/target/ssh_host_ed25519_key"
for b in bastion-1 bastion-2; do
	bin/ca sign-host "${cacfg[@]}" --host-key "$state/$b/host_key.pub" --hostname 127.0.0.1 --hostname localhost >/dev/null
done
bin/ca sign-host "${cacfg[@]}" --host-key "$state/target/ssh_host_ed25519_key.pub" --hostname db-1 >/dev/null

bold "Starting two CA replicas on one database ($db), sharing $state/recordings"
ca_pid=()
ca_addr=()
for i in 1 2; do
	bin/ca serve --data "$state/ca-$i" --policy "$state/policy" --recordings "$state/recordings" \
		--listen 127.0.0.1:0 --metrics_listen off --drain_timeout 2s \
		>"$state/ca-$i.out" 2>"$state/ca-$i.log" &
	pids+=($!)
	ca_pid+=($!)
	ca_addr+=("$(wait_listening "$state/ca-$i.out" $!)")
	echo "ca-$i at http://${ca_addr[-1]}"
done
"$state/ha-lb" -listen 127.0.0.1:0 "${ca_addr[@]}" >"$state/lb.out" 2>"$state/lb.log" &
pids+=($!)
url="http://$(wait_listening "$state/lb.out" $!)"
echo "load balancer (round robin, not sticky) at $url"
curl -fsS "http://${ca_addr[0]}/healthz" >/dev/null && curl -fsS "http://${ca_addr[1]}/healthz" >/dev/null || fail "a CA replica is not healthy"
ok "two CA replicas on one MariaDB database, both healthy"

bold "The target db-1: stock sshd trusting only the hop CA"
scripts/setup-target.sh --ca "$url" --resource db-1 --login "$me=admin,reader,health" \
	--prefix "$state/target" --gate bin/lockbox-gate --bin-dir "$state/target/bin" --no-reload >/dev/null
{
	echo "ListenAddress 127.0.0.1:$target_port"
	echo "HostKey $state/target/ssh_host_ed25519_key"
	echo "HostCertificate $state/target/ssh_host_ed25519_key-cert.pub"
	echo "PidFile none"
	echo "StrictModes no"
	echo "UsePAM no"
	echo "PermitRootLogin prohibit-password"
	cat "$state/target/sshd_config"
} >"$state/target/sshd_ha_config"
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$state/target/sshd_ha_config" 2>"$state/target/sshd.log" &
pids+=($!)
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$target_port") 2>/dev/null && break; sleep 0.1; done
echo "db-1 (sshd) at 127.0.0.1:$target_port"

bold "Starting two bastions, both pointed at the load balancer"
b_pid=()
b_addr=()
for i in 1 2; do
	bin/bastion serve --name "bastion-$i" --data "$state/bastion-$i" --ca "$url" --listen 127.0.0.1:0 \
		--metrics_listen off --drain_timeout 2s >"$state/bastion-$i.out" 2>"$state/bastion-$i.log" &
	pids+=($!)
	b_pid+=($!)
	b_addr+=("$(wait_listening "$state/bastion-$i.out" $!)")
	echo "bastion-$i at ${b_addr[-1]}"
done
ok "two bastions up"

# lb CA USER ARGS...: the lockbox CLI against CA as USER, through bastion-2.
lb() {
	local ca=$1 who=$2
	shift 2
	LOCKBOX_CA=$ca LOCKBOX_USER=$who LOCKBOX_IDENTITY="$state/keys/$who" LOCKBOX_DIR="$state/grants/$who" \
		LOCKBOX_BASTION=${b_addr[1]} SSH_AUTH_SOCK= bin/lockbox "$@"
}

bold "alice asks through ca-1; carol approves through ca-2; frank through the load balancer"
id=$(lb "http://${ca_addr[0]}" alice request --role admin --resource db-1 --duration 1h --reason "disk full on db-1" --ticket INC-42) ||
	fail "the request through ca-1"
echo "$id"
lb "http://${ca_addr[1]}" carol approve "$id" --reason "known incident" || fail "carol's approval through ca-2"
lb "$url" frank approve "$id" || fail "frank's approval through the load balancer"
lb "http://${ca_addr[0]}" alice requests --mine | grep -q "$id  *approved" || { lb "http://${ca_addr[0]}" alice requests --mine; fail "ca-1 does not see the grant ca-2 and the load balancer decided"; }
ok "request through ca-1, approvals through ca-2 and the load balancer; ca-1 sees the grant approved"

bold "Killing ca-1 and bastion-1 (SIGKILL)"
kill -KILL "${ca_pid[0]}" "${b_pid[0]}"
wait "${ca_pid[0]}" 2>/dev/null || true
wait "${b_pid[0]}" 2>/dev/null || true
if curl -fsS -m 2 "http://${ca_addr[0]}/healthz" >/dev/null 2>&1; then fail "ca-1 still answers"; fi
ok "ca-1 and bastion-1 are gone"

bold "alice fetches her certificate and enrolls her authenticator through the load balancer"
lb "$url" alice cert "$id" >/dev/null || fail "the certificate through the load balancer after ca-1 died"
uri=$(lb "$url" alice mfa enroll) || fail "mfa enroll through the load balancer"
printf '#!/bin/sh\nexec %q %q\n' "$state/totp" "$uri" >"$state/askpass"
chmod 700 "$state/askpass"
ok "certificate and TOTP enrollment with one CA left"

bold "alice runs a command on db-1 through bastion-2"
out=$(SSH_ASKPASS="$state/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=ha-demo \
	lb "$url" alice ssh db-1 -- 'echo "hello from $(hostname) as $(id -un)"') || { cat "$state/bastion-2.log" >&2; fail "the session through bastion-2"; }
echo "$out"
[[ "$out" == *"hello from "*" as $me"* ]] || fail "the session's output: $out"
ok "a session through bastion-2 to db-1 with ca-1 and bastion-1 dead"

bold "Its recording arrives at the surviving CA"
session=
for _ in $(seq 1 100); do
	json=$(lb "$url" erin --json sessions 2>/dev/null) || json=
	if grep -q '"recording_size"' <<<"$json"; then
		session=$(sed -n 's/.*"id": "\(sess-[a-z2-7]*\)".*/\1/p' <<<"$json" | head -n 1)
		break
	fi
	sleep 0.2
done
[ -n "$session" ] || { lb "$url" erin sessions >&2 || true; fail "no recording arrived within 20s"; }
lb "$url" erin replay "$session" --speed 100 | grep -q "hello from" || fail "the recording of $session does not hold the session's output"
ok "recording of $session stored and replayed through ca-2"

lb "$url" erin audit verify >/dev/null || fail "the audit log does not verify"
ok "the audit log verifies"

bold "HA demo: ${#steps[@]} checks passed in $((SECONDS - started))s"
for s in "${steps[@]}"; do echo "  ok   $s"; done
$check && exit 0

bold "ca-2 (http://${ca_addr[1]}), the load balancer ($url), bastion-2 (${b_addr[1]}) and db-1 are running. Press Ctrl-C to stop."
wait
