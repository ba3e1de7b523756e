# shellcheck shell=bash disable=SC2034,SC2154 # the sourcing test sets and reads these
# tap.sh - sourced by the klogctl shell tests: TAP lines, and klogctl runs
# whose status, output and errors the checks look at.  The test sets $work
# and $klogctl; it ends with: echo "1..$n"; exit $failed.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { # check NAME COMMAND...
	if "${@:2}"; then ok "$1"; else not_ok "$1"; fi
}
run() { # run NAME ARGS...: klogctl's status in rc, its output in $work/NAME.out and .err
	local name=$1
	shift
	"$klogctl" "$@" >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
}
# shellcheck disable=SC2317 # called through check
has() { grep -qF -- "$2" "$work/$1"; } # has FILE TEXT
