#!/usr/bin/env bash
# Description: a short crash-loop soak (tools/soak.sh): 5 cycles of klogd
# SIGKILLed at a random point (the 4th as it creates a segment) and restarted
# under a durable-ack client, every durable ack checked on disk after each
# kill; one TAP line per cycle and one for the summary.  Then the soak's checks must catch what they look for: a
# log that lost an acknowledged record, and one whose LSN came to hold
# another record (a dump that lies, through SOAK_DUMP).  And the same soak
# with --backend jetstream on a local NATS cluster: 6 cycles, klogd SIGKILLed
# in cycles 1, 2, 4 and 5 (mid-publish: 16384 may be in flight), the
# stream's leader SIGKILLed and restarted in 3 and 6, every durable ack
# checked in the stream by LSN, no gap, nothing reused.
# Usage: test-soak.sh KLOGD KLOGCTL XDP_PASS_OBJ SOAK_DUMP   (TAP; needs root)
set -u
export KLOGD=$1 KLOGCTL=$2 XDP_PASS=$3
real_dump=$4
here=$(dirname "$0")
# shellcheck source=tests/integration/tap.sh
. "$here/tap.sh"
soak=$here/../../tools/soak.sh
work=$(mktemp -d /var/tmp/klog-test-soak-XXXXXX)
trap 'rm -rf "$work"' EXIT

# soak OUT DUMP ARGS...: tools/soak.sh ARGS with DUMP as its dump, all output
# in OUT; the work directory a failed soak keeps is removed.
soak() {
	local rc
	SOAK_DUMP=$2 "$soak" "${@:3}" >"$1" 2>&1
	rc=$?
	rm -rf "$(sed -n 's/^soak.sh: logs and acks kept in //p' "$1")"
	return $rc
}

# report OUT [PREFIX]: a TAP line per cycle of the soak's output, the rest as comments.
report() {
	local line
	while IFS= read -r line; do
		case $line in
		"cycle "*) ok "${2:-}$line" ;;
		*) echo "# ${2:-}$line" ;;
		esac
	done <"$1"
}

soak "$work/out" "$real_dump" --cycles 5 --seconds 50
rc=$?
report "$work/out"
check "the soak ends with status 0 (status $rc)" test "$rc" -eq 0
check "the soak's summary: 5 cycles, 0 violations" \
	grep -Eq '^5 cycles, [1-9][0-9]* durable acks checked, 0 violations$' "$work/out"

soak "$work/out-js" "$real_dump" --backend jetstream --cycles 6 --seconds 150
rc=$?
report "$work/out-js" "jetstream: "
check "jetstream: the soak ends with status 0 (status $rc)" test "$rc" -eq 0
check "jetstream: 6 cycles, 4 klogd kills and 2 leader kills, 0 violations" \
	sh -c "grep -Eq '^6 cycles, [1-9][0-9]* durable acks checked, 0 violations$' '$work/out-js' &&
		test \$(grep -c '^cycle .*: SIGKILL' '$work/out-js') = 4 &&
		test \$(grep -c '^cycle .*: stream leader n[123] SIGKILLed and restarted' '$work/out-js') = 2"

# A dump without the log's first record: acknowledged durable, gone.
cat >"$work/lost" <<EOF
#!/bin/sh
"$real_dump" "\$@" | sed 1d
EOF
# A dump whose first record changes after the first call: LSN 1 reused.
cat >"$work/reused" <<EOF
#!/bin/sh
n=\$(cat "$work/calls" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$work/calls"
"$real_dump" "\$@" | awk -v n="\$n" 'NR == 1 && n > 0 { \$3 = "0badc0de" } 1'
EOF
chmod +x "$work/lost" "$work/reused"
soak "$work/out-lost" "$work/lost" --cycles 5 --seconds 50
rc=$?
check "the soak catches an acknowledged record missing from disk (status $rc)" \
	sh -c "test $rc -ne 0 && grep -q 'FAILED: LSN 1 (txid [0-9]*) acknowledged durable, not on disk' '$work/out-lost'"
soak "$work/out-reused" "$work/reused" --cycles 5 --seconds 50
rc=$?
check "the soak catches an LSN reused for another record (status $rc)" \
	sh -c "test $rc -ne 0 && grep -Eq 'FAILED: LSN 1 (reused|acknowledged durable as)' '$work/out-reused'"
finish
