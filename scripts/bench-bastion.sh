#!/usr/bin/env bash
# The bastion against OpenSSH ProxyJump through a stock sshd, in the same
# run, alternating, as ratios: bulk throughput (recording on) and connect
# latency, every hop with aes128-gcm@openssh.com and curve25519-sha256;
# and the bastion's resident memory per idle session at 1,000 sessions.
#
#   scripts/bench-bastion.sh [ROUNDS]     (default 5 throughput rounds; connect runs 6x as many)
#
# Needs ssh and sshd (openssh-client, openssh-server). About 3 minutes on
# the 2-core test machine. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
connects=$((rounds * 6))
unset LOCKBOX_REQUIRE_INTEGRATION
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# The integration package's TestMain builds the binaries first.
bench() {
	go test -run '^$' -bench "$1" -benchtime "$2" -timeout 20m ./integration | grep '^Benchmark' | tee -a "$out"
}
bench '^BenchmarkBastionVsProxyJump$/^throughput' "${rounds}x"
bench '^BenchmarkBastionVsProxyJump$/^connect$' "${connects}x"
bench '^BenchmarkBastionIdleSessionMemory$' 1x

echo
echo "Every hop: cipher aes128-gcm@openssh.com, key exchange curve25519-sha256 (checked with ssh -v)."
awk -v rounds="$rounds" -v connects="$connects" '
	function metric(unit,    i) {
		for (i = 2; i < NF; i++) if ($(i+1) == unit) return $i
		return ""
	}
	/throughput=/ {
		p = $1; sub(/.*throughput=/, "", p); sub(/-[0-9]+$/, "", p)
		mb[p] = metric("bastion-MiB/s"); mj[p] = metric("proxyjump-MiB/s"); mr[p] = metric("ratio")
		cb[p] = metric("bastion-cpu-ms/MiB"); cj[p] = metric("proxyjump-cpu-ms/MiB"); cr2[p] = metric("cpu-ratio")
		bp[p] = metric("bastion-process-ms/MiB"); js[p] = metric("jump-sshd-ms/MiB")
	}
	/\/connect/ {
		for (k = split("bastion bastion-totp proxyjump direct", v, " "); k > 0; k--) {
			p50[v[k]] = metric(v[k] "-ms"); p90[v[k]] = metric(v[k] "-p90-ms"); ex[v[k]] = metric(v[k] "-exit-ms")
		}
		cr = metric("ratio"); ctr = metric("totp-ratio"); er = metric("exit-ratio")
		cs = metric("ca-start-ms"); ch = metric("ca-hop-ms"); ce = metric("ca-end-ms")
	}
	/IdleSessionMemory/ { kib = metric("KiB/session"); mkib = metric("marginal-KiB/session"); base = metric("base-MiB"); full = metric("rss-full-MiB") }
	END {
		printf "\nThroughput, MiB/s, median of %s rounds (first byte to last)\n", rounds
		printf "%-34s %10s %10s %8s %8s\n", "payload", "bastion", "ProxyJump", "ratio", "target"
		printf "%-34s %10.1f %10.1f %7.2fx %8s\n", "256 MiB ASCII text (yes | head)", mb["text"], mj["text"], mr["text"], ">=1.00x"
		printf "%-34s %10.1f %10.1f %7.2fx %8s\n", "128 MiB zero bytes", mb["zeros"], mj["zeros"], mr["zeros"], ">=1.00x"
		printf "%-34s %10.1f %10.1f %7.2fx %8s\n", "64 MiB random bytes", mb["random"], mj["random"], mr["random"], ">=0.60x"
		printf "\nCPU time per MiB relayed, all rounds (ssh client + bastion or jump sshd + target sshd and its command)\n"
		printf "%-34s %10s %10s %8s %10s %10s\n", "payload", "bastion", "ProxyJump", "PJ/bast", "bastion", "jump sshd"
		split("text zeros random", v, " ")
		for (k = 1; k <= 3; k++) printf "%-34s %7.2f ms %7.2f ms %7.2fx %7.2f ms %7.2f ms\n", v[k], cb[v[k]], cj[v[k]], cr2[v[k]], bp[v[k]], js[v[k]]
		printf "\nConnect latency, ms to the first byte of `echo ok`, %s runs each\n", connects
		printf "%-34s %8s %8s %10s %8s\n", "path", "median", "p90", "ssh exits", "vs PJ"
		printf "%-34s %8.1f %8.1f %10.1f %7.2fx\n", "bastion, TOTP remembered", p50["bastion"], p90["bastion"], ex["bastion"], cr
		printf "%-34s %8.1f %8.1f %10.1f %7.2fx\n", "bastion, TOTP code", p50["bastion-totp"], p90["bastion-totp"], ex["bastion-totp"], ctr
		printf "%-34s %8.1f %8.1f %10.1f %7.2fx\n", "ProxyJump (two sshd hops)", p50["proxyjump"], p90["proxyjump"], ex["proxyjump"], 1
		printf "%-34s %8.1f %8.1f %10.1f %7.2fx\n", "direct to the target (one hop)", p50["direct"], p90["direct"], ex["direct"], p50["direct"] / p50["proxyjump"]
		printf "target <=0.80x; until ssh exits (bastion, TOTP remembered / ProxyJump): %.2fx\n", er
		printf "CA calls as the bastion makes them (median): start session %s ms, hop certificate %s ms, end session %s ms\n", cs, ch, ce
		printf "\nBastion memory: %.1f MiB with no session, %.1f MiB with 1,000 idle sessions\n", base, full
		printf "%.1f KiB per idle session (%.1f KiB marginal, 500 to 1,000); target <=96 KiB\n", kib, mkib
	}' "$out"
