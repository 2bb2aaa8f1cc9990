#!/usr/bin/env bash
# Live view: the bastion's throughput with one and with ten watchers
# against none (64 MiB of text, recording on, in one run, alternating), and
# the latency from a line the target prints to a watcher reading it.
#
#   scripts/bench-live.sh [ROUNDS]     (default 5 throughput rounds, 3 latency rounds of 200 lines)
#
# Needs ssh and sshd (openssh-client, openssh-server). See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
unset LOCKBOX_REQUIRE_INTEGRATION
# The integration package's TestMain builds the binaries first.
go test -run '^$' -bench '^BenchmarkLiveView$/^throughput$' -benchtime "${rounds}x" -timeout 20m ./integration | grep '^Benchmark'
go test -run '^$' -bench '^BenchmarkLiveView$/^latency$' -benchtime 3x -timeout 20m ./integration | grep '^Benchmark'
