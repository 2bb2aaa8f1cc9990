#!/usr/bin/env bash
# Notifications' cost and latency, through the CA's API:
#  - from submission to the signed webhook's receipt, p50/p99, at 100
#    submissions per second (BenchmarkSubmitToWebhook), SQLite and MySQL;
#  - certificate issuance from 16 clients beside 20 submissions per
#    second, with notifications off and on (BenchmarkIssueWithNotifications),
#    alternating off and on in each round so that a loaded machine
#    weighs on both alike.
#
#   scripts/bench-notify.sh [SUBMISSIONS] [CERTS] [ROUNDS]   (default 1000 3000 3)
#
# Needs MySQL at 127.0.0.1:3306 (LOCKBOX_TEST_MYSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
subs=${1:-1000}
certs=${2:-3000}
rounds=${3:-3}
out=$(mktemp)
trap 'rm -f "$out" "$out.test"' EXIT

go test -c -o "$out.test" ./pkg/api
for r in $(seq 1 "$rounds"); do
	(cd pkg/api && "$out.test" -test.run '^$' -test.bench '^BenchmarkSubmitToWebhook$' -test.benchtime "${subs}x" 2>/dev/null) |
		grep "^Benchmark" | tee -a "$out" || true
	for mode in off on; do
		(cd pkg/api && "$out.test" -test.run '^$' -test.bench "^BenchmarkIssueWithNotifications\$/^${mode}\$" -test.benchtime "${certs}x" 2>/dev/null) |
			grep "^Benchmark" | tee -a "$out" || true
	done
done

echo
awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 2; i < NF; i++) {
			if ($(i+1) == "certs/s") rate[name] += $i
			if ($(i+1) == "p50-ms") p50[name] += $i
			if ($(i+1) == "p99-ms") { if ($i > p99[name]) p99[name] = $i }
		}
		count[name]++
	}
	END {
		printf "%-52s %10s %12s %12s\n", "", "certs/s", "mean p50", "worst p99"
		for (name in count) {
			r = (name in rate) ? sprintf("%.0f", rate[name] / count[name]) : "-"
			printf "%-52s %10s %9.1f ms %9.1f ms\n", name, r, p50[name] / count[name], p99[name]
		}
	}' "$out" | sort
