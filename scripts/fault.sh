#!/usr/bin/env bash
# Fault run: drives state-changing calls (requests and revocations) at
# about 100 per second at a real CA whose MariaDB is restarted, killed at
# commits (before and after the server commits) and at any moment, and
# frozen past the store deadline, then counts every answer against the
# rows and prints: calls, successes, clean refusals, "nothing was changed"
# answers (and any that hid a change), unknown outcomes reported as such
# and what sending them again with their idempotency key learnt, rows
# missing and rows made twice (both must be 0), and the longest time to a
# first answer.
#
# The database is a private mariadbd on a random loopback port with its
# own data directory (internal/mariadbtest), never the server on 3306. It
# needs the mariadb-server package (mariadbd, mariadb-install-db).
#
# Environment:
#   LOCKBOX_FAULT_ROUNDS  rounds of faults (default 3; the test suite runs 1)
#   LOCKBOX_FAULT_RATE    calls offered per second (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
export LOCKBOX_FAULT_ROUNDS=${LOCKBOX_FAULT_ROUNDS:-3}
export LOCKBOX_FAULT_RATE=${LOCKBOX_FAULT_RATE:-100}
export LOCKBOX_REQUIRE_INTEGRATION=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
go test -count=1 -timeout 30m -run '^TestFaultsUnderLoadAnswersMatchTheRows$' -v ./integration/ >"$log" 2>&1 || status=$?
# The report: from "fault run:" to the longest time, without the test's indent.
sed -n '/fault run:/,/longest time/{s/^ *fault_load_test.go:[0-9]*: //;s/^        //;p}' "$log"
if [ "$status" != 0 ]; then
	echo
	echo "the fault run failed:"
	grep -E -A20 'answers do not match|--- FAIL|panic' "$log" | head -60
fi
exit "$status"
