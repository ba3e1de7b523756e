#!/usr/bin/env bash
# testbed.sh - the Python suite's hands on tools/testbed.sh (run-tests.sh and
# tests/conftest.py call it; nothing here repeats what testbed.sh does):
#
#   testbed.sh up SRV CLI VS VC SRV_IP CLI_IP XDP_PASS MTU
#       the two namespaces and the veth pair (testbed_up)
#   testbed.sh down SRV CLI
#       deletes them (testbed_down)
#   testbed.sh klogd SRV LOG KLOGD [ARG...]
#       KLOGD ARG... in namespace SRV (testbed_start_klogd), its stdout and
#       stderr appended to LOG; prints its pid once it says it is ready, then
#       waits for it and exits with its status (1 if it never got ready).
#       The caller stops it with a signal to that pid.
#
# Needs root.
set -u
# shellcheck source=tools/testbed.sh
. "$(dirname "$0")/../../../tools/testbed.sh"

# Its log stays in LOG; the caller shows it.
testbed_klogd_failed() { :; }

case "${1:-}" in
up)
	shift
	testbed_up "$@"
	;;
down)
	testbed_down "$2" "$3"
	;;
klogd)
	srv=$2 log=$3
	shift 3
	pid=
	# shellcheck disable=SC2094 # klogd's stdout joins its stderr in LOG, which is read for "ready"
	testbed_start_klogd pid "$srv" "$log" "$@" >>"$log" || {
		[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null
		exit 1
	}
	echo "$pid"
	wait "$pid"
	;;
*)
	echo "usage: testbed.sh up|down|klogd ..." >&2
	exit 2
	;;
esac
