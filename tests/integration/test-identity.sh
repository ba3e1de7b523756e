#!/usr/bin/env bash
# Description: a log's identity and its directory (issue 9), with a real
# klogd on a veth pair: the directory removed while klogd runs (klogd exits
# saying so, no DURABLE for what came after); and a start refused, naming
# the directory and the LSNs or ids, for a new empty --dir after a SIGKILL,
# another log's directory, a copy of the directory taken before more records
# were acknowledged, and a directory whose last segment was deleted after a
# clean stop.  Each refusal leaves the pinned log to the right directory.
# Usage: test-identity.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2317 # called by cleanup, by name
drop_b() { rm -rf "/sys/fs/bpf/klog/$name-b"; } # log B's pins, if a test left them
cleanup_extra=drop_b

refused() { # refused LOG ARGS...: klogd must exit non-zero without saying ready
	local log=$1
	shift
	: >"$log"
	if start_klogd "$log" "$@"; then
		kill_klogd
		return 1
	fi
	wait "$pid" 2>/dev/null
	pid=
	return 0
}
says() { grep -q -- "$2" "$1" || { sed 's/^/# /' "$1"; return 1; }; } # says LOG TEXT
log_id() { sed -n 's/.*new log \([0-9a-f]*\) from LSN.*/\1/p' "$1"; } # from klogd's log

printf 'before' >"$work/r1"
printf 'after the removal' >"$work/r2"

# --- the directory removed while klogd runs ----------------------------------
dir=$work/gone log=$work/klogd-gone.log
start_klogd "$log" --dir "$dir" >/dev/null
lsn=$(cli timeout 10 "$klogctl" append --durable --server $srv_ip "$work/r1")
check "a durable append before the removal is acknowledged" test -n "$lsn"
rm -rf "$dir"
late=$(cli timeout 6 "$klogctl" append --durable --server $srv_ip "$work/r2" 2>/dev/null)
if kill -0 "$pid" 2>/dev/null; then
	kill_klogd
	rc=running
else
	wait "$pid"
	rc=$?
	pid=
fi
check "directory removed: klogd exits with a non-zero status ($rc)" test "$rc" != running -a "$rc" != 0
check "directory removed: klogd says the segment was unlinked, durability not confirmed" \
	says "$log" "error: the segment $dir/00000000000000000001.klog was unlinked.*refusing to confirm durability"
check "directory removed: no DURABLE for the record appended after it" test -z "$late"
rm -rf "/sys/fs/bpf/klog/$name" # the operator gives that log up: pins and directory

# --- another log, B, to be mistaken for A later --------------------------------
logb=$work/klogd-b.log
testbed_start_klogd pid "$srv" "$logb" "$klogd" --iface "$vs" --name "$name-b" \
	--dir "$work/b" >/dev/null
lsn=$(cli "$klogctl" append --server $srv_ip "$work/r1")
wait_durable "$work/b" "$lsn"
kill_klogd
rm -rf "/sys/fs/bpf/klog/$name-b"
idb=$(log_id "$logb")

# --- log A: several segments, a copy taken, more records, SIGKILL -------------
dir=$work/a log=$work/klogd-a.log acks=$work/acks-a
check "log A: klogd starts on an empty directory" \
	start_klogd "$log" --dir "$dir" --segment-size 1M
ida=$(log_id "$log")
check "log A: a new log gets a random id ($ida), not B's ($idb)" \
	test -n "$ida" -a -n "$idb" -a "$ida" != "$idb"
cli "$klogctl" bench --server $srv_ip --count 8000 --size mix --seed 9 --acks "$acks" \
	>/dev/null 2>&1
wait_durable "$dir" "$(tail -n 1 "$acks" | cut -d' ' -f1)"
cp -a "$dir" "$work/a-copy"
cli "$klogctl" bench --server $srv_ip --count 500 --size mix --seed 10 --acks "$acks-2" \
	>/dev/null 2>&1
last=$(tail -n 1 "$acks-2" | cut -d' ' -f1)
wait_durable "$dir" "$last"
kill_klogd

refused "$work/klogd-empty.log" --dir "$work/empty" &&
	says "$work/klogd-empty.log" "is empty, but the pinned kernel log $ida made LSNs below"
check "after SIGKILL, a new empty --dir is refused" test $? -eq 0
refused "$work/klogd-other.log" --dir "$work/b" &&
	says "$work/klogd-other.log" "holds log $idb (newest segment from LSN 1), but the pinned kernel log is $ida (durable below LSN $((last + 1)))"
check "another log's directory is refused, naming both ids" test $? -eq 0
refused "$work/klogd-copy.log" --dir "$work/a-copy" &&
	says "$work/klogd-copy.log" "made LSNs below $((last + 1)) durable: acknowledged records are missing"
check "an older copy of the directory is refused, naming its end and the kernel's" test $? -eq 0
check "log A: its own directory is adopted after all that" restart_adopting "$log" \
	--dir "$dir" --segment-size 1M
check "log A: SIGTERM stops klogd with status 0" stop_klogd

# --- the last segment deleted after a clean stop --------------------------------
segs=("$dir"/*.klog) # in LSN order: the names are zero-padded
nseg=${#segs[@]} seg=$(basename "${segs[-1]}")
check "log A: several segments ($nseg)" test "$nseg" -ge 3
rm -f "$dir/$seg" "$dir/${seg%.klog}.idx"
refused "$work/klogd-short.log" --dir "$dir" &&
	says "$work/klogd-short.log" "names $seg .* as the newest segment of log $ida, but it is missing"
check "the last segment deleted after a clean stop: refused, naming it" test $? -eq 0

[ "$failed" -eq 0 ] || for f in "$work"/klogd-*.log; do sed "s/^/# /" "$f"; done
finish
