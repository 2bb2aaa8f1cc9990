#!/usr/bin/env bash
# Certificate issuance through the CA's API (HTTP, SSH-signature check,
# nonce, policy, store, audit, signing) from 16 concurrent clients, against
# SQLite and MySQL, beside OpenSSH's ssh-keygen -s signing the same number
# of keys, in the same run, alternating, with ratios.
#
#   scripts/bench-issue.sh [N] [ROUNDS]     (default 20000 certificates, 3 rounds)
#
# Needs ssh-keygen and MySQL at 127.0.0.1:3306 (LOCKBOX_TEST_MYSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
rounds=${2:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test -c -o "$out.test" ./pkg/api
for r in $(seq 1 "$rounds"); do
	for b in '^BenchmarkIssueCertificate$/^sqlite$' '^BenchmarkOpenSSHKeygenSign$' '^BenchmarkIssueCertificate$/^mysql$'; do
		# The test binary runs in its package directory, as go test does.
		(cd pkg/api && "$out.test" -test.run '^$' -test.bench "$b" -test.benchtime "${n}x") |
			grep '^Benchmark' | tee -a "$out"
	done
done
rm -f "$out.test"

echo
awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 2; i < NF; i++) {
			if ($(i+1) == "certs/s") rate[name] += $i
			if ($(i+1) == "p99-ms") { if ($i > p99[name]) p99[name] = $i }
		}
		count[name]++
	}
	END {
		k = "BenchmarkOpenSSHKeygenSign"
		base = rate[k] / count[k]
		printf "%-36s %12s %10s %18s\n", "", "certs/s", "worst p99", "vs ssh-keygen -s"
		for (name in rate) {
			avg = rate[name] / count[name]
			p = (name in p99) ? sprintf("%.1f ms", p99[name]) : "-"
			printf "%-36s %12.0f %10s %17.2fx\n", name, avg, p, avg / base
		}
	}' "$out" | sort
