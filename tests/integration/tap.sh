# shellcheck shell=bash
# tap.sh - sourced by the integration tests: TAP output, one line per check,
# and finish to print the plan and exit 1 if any check failed.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { # check NAME COMMAND...
	if "${@:2}"; then ok "$1"; else not_ok "$1"; fi
}
finish() { echo "1..$n"; exit $failed; }
