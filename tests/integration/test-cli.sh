#!/usr/bin/env bash
# Description: what klogctl says of a running klogd, through the veth pair:
#   - FULL for real: klogd with a window of 4 LSNs, stopped (SIGSTOP), so
#     nothing is drained; an append past the window is told "log full (klogd
#     behind or stopped)", not ENOSPC's "No space left on device", exit 1,
#     and so is bench's; once klogd runs again (SIGCONT) appends are taken;
#   - the exit statuses against a server: 0 done, 1 failed (an LSN not
#     durable over --server), 2 usage (a port out of range) before any
#     datagram is sent.
# Usage: test-cli.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
tag=klogt-cli-$$
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

dir=$work/log log=$work/klogd.log
check "klogd starts with --window 4" start_klogd "$log" --dir "$dir" --window 4
echo record >"$work/rec"
cli "$klogctl" append --server "$srv_ip" "$work/rec" "$work/rec" >"$work/a1.out" 2>"$work/a1.err"
check "two appends while klogd runs: exit 0, LSNs 1 and 2" \
	test "$? $(tr '\n' ' ' <"$work/a1.out")" = "0 1 2 "
check "both durable" wait_durable "$dir" 2

# Stopped, klogd drains nothing: the window (4 LSNs past the last truncated) fills.
kill -STOP "$pid"
cli "$klogctl" append --server "$srv_ip" "$work/rec" "$work/rec" "$work/rec" "$work/rec" \
	"$work/rec" "$work/rec" >"$work/full.out" 2>"$work/full.err"
rc=$?
sed 's/^/# /' "$work/full.err"
check "klogd stopped: an append past the window fails, exit 1" test "$rc" = 1
check "klogd stopped: at most 4 appended before it ($(wc -l <"$work/full.out"))" \
	test "$(wc -l <"$work/full.out")" -le 4
check "FULL is told as 'log full (klogd behind or stopped)'" \
	grep -q ": log full (klogd behind or stopped)$" "$work/full.err"
check "FULL is not told as a full disk" \
	sh -c "! grep -qi 'No space left\\|ENOSPC' '$work/full.err'"
cli "$klogctl" bench --server "$srv_ip" --count 3 --timeout 50 --retries 3 \
	>"$work/bench.out" 2>"$work/bench.err"
rc=$?
check "bench while klogd is stopped: exit 1, 'log full (klogd behind or stopped)'" \
	sh -c "test $rc = 1 && grep -q 'record [0-9]*: log full (klogd behind or stopped)' '$work/bench.err'"
kill -CONT "$pid"
cli "$klogctl" append --server "$srv_ip" "$work/rec" >"$work/a2.out" 2>"$work/a2.err"
check "klogd running again: appends are taken (exit 0)" test "$?" = 0 -a -s "$work/a2.out"

# Exit statuses against the server.
cli "$klogctl" read --server "$srv_ip" 1 >"$work/r1.out" 2>&1
check "read --server of a durable LSN: exit 0, its bytes" \
	sh -c "test $? = 0 && cmp -s '$work/r1.out' '$work/rec'"
cli "$klogctl" read --server "$srv_ip" 1000 >/dev/null 2>"$work/r2.err"
check "read --server of an LSN not durable: exit 1, said" \
	sh -c "test $? = 1 && grep -q 'not durable yet' '$work/r2.err'"
cli "$klogctl" info --server "$srv_ip:65536" >/dev/null 2>"$work/i.err"
check "info --server HOST:65536: exit 2, the port's range" \
	sh -c "test $? = 2 && grep -q \"port '65536': a decimal number 1..65535\" '$work/i.err'"
check "klogd stops cleanly" stop_klogd

echo "1..$n"
exit $failed
