#!/usr/bin/env bash
# Description: klogd end to end on a veth pair between two network namespaces,
# with each storage backend: a client appends 10,000 records of random sizes
# 1..max while klogd is killed with SIGKILL and restarted; every acknowledged
# LSN must then read back byte-exact from disk, LSNs contiguous, no record lost
# or duplicated, and the kernel log drained.  Also: a second klogd on the same
# name is refused, klogctl append/read/dump by hand, a clean stop; io_uring
# disabled or its io_uring_enter denied (psync instead), and the DURABLE notice
# port held by another process (klogd refuses to start).
# Usage: test-klogd.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD SECCOMP_DENY   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 seccomp_deny=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
was="" holder=""
cleanup_extra=restore
restore() {
	[ -n "$was" ] && echo "$was" >/proc/sys/kernel/io_uring_disabled
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	umount "$work/tiny" 2>/dev/null
}

# --- the stream, killed and restarted, for each backend ----------------------
for backend in uring psync; do
	dir=$work/log-$backend log=$work/klogd-$backend.log acks=$work/acks-$backend
	count=10000
	check "$backend: klogd starts and says ready" start_klogd "$log" --dir "$dir" --backend "$backend"
	cli "$klogctl" bench --server $srv_ip --count "$count" --size "uniform:1:$max" \
		--seed 7 --acks "$acks" >"$work/bench-$backend.out" 2>/dev/null &
	bench=$!
	for _ in $(seq 2000); do
		[ "$(wc -l 2>/dev/null <"$acks" || echo 0)" -ge 500 ] && break
		sleep 0.005
	done
	kill_klogd
	if kill -0 "$bench" 2>/dev/null; then ok "$backend: klogd killed (SIGKILL) in the middle of the stream"
	else not_ok "$backend: klogd killed (SIGKILL) in the middle of the stream (the stream had ended)"; fi
	sleep 0.2
	check "$backend: restarted klogd adopts the pinned log" \
		restart_adopting "$log" --dir "$dir" --backend "$backend"
	check "$backend: all $count records acknowledged" wait "$bench"
	last=$(tail -n 1 "$acks" | cut -d' ' -f1)
	wait_durable "$dir" "$last"
	check "$backend: every acknowledged LSN reads back byte-exact, contiguous, none lost or twice" \
		sh -c "'$klogctl' verify --dir '$dir' --count $count --size uniform:1:$max --seed 7 --acks '$acks' >/dev/null"
	sleep 0.1
	used=$(($(ctl_map klog_ctl next_lsn) - $(ctl_map klog_ctl truncated_lsn)))
	check "$backend: window drained (LSNs held in the kernel: $used)" test "$used" -eq 0
	# The ring's next block is the low 40 bits of kerby_index.reserved (doc/design.md).
	blocks=$((($(ctl_map kerby_index reserved) - $(ctl_map klog_ctl pool_watermark)) &
		((1 << 40) - 1)))
	check "$backend: pool drained (blocks held: $blocks)" test "$blocks" -eq 0
	check "$backend: SIGTERM stops klogd with status 0" stop_klogd
	check "$backend: a clean stop keeps the pins (the dedup state survives)" \
		test -e "/sys/fs/bpf/klog/$name/klog_ctl" -a -e "/sys/fs/bpf/klog/$name/klog_clients"
	remove_log # each case is a new log, in a directory of its own
done

# --- the other attach modes --------------------------------------------------
for mode in tc xdpgeneric; do
	dir=$work/log-$mode log=$work/klogd-$mode.log acks=$work/acks-$mode
	check "--mode $mode: klogd starts" start_klogd "$log" --dir "$dir" --mode "$mode"
	cli "$klogctl" bench --server $srv_ip --count 2000 --size "uniform:1:$max" --seed 5 \
		--acks "$acks" >/dev/null 2>&1
	last=$(tail -n 1 "$acks" | cut -d' ' -f1)
	wait_durable "$dir" "$last"
	check "--mode $mode: 2000 records appended and on disk, byte-exact" \
		sh -c "'$klogctl' verify --dir '$dir' --count 2000 --size uniform:1:$max --seed 5 --acks '$acks' >/dev/null"
	check "--mode $mode: SIGTERM stops klogd with status 0" stop_klogd
	remove_log
done

# --- stopped with the disk full: the kernel keeps the records ---------------
# (klogd going on through a full disk and resuming: test-life.sh)
tiny=$work/tiny dir=$work/tiny/log log=$work/klogd-full.log acks=$work/acks-full
mkdir -p "$tiny" && mount -t tmpfs -o size=3M klogtest "$tiny"
count=6000
start_klogd "$log" --dir "$dir" --segment-size 1M >/dev/null
cli "$klogctl" bench --server $srv_ip --count "$count" --size mix --seed 3 \
	--acks "$acks" >/dev/null 2>&1
for _ in $(seq 50); do grep -q "warning: disk full" "$log" && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "ENOSPC: klogd stopped while the disk is full exits with a non-zero status" test "$rc" -ne 0
check "ENOSPC: klogd says the disk is still full, the records stay in the kernel log" \
	grep -q "warning: the disk is still full: LSNs from [0-9]* stay in the kernel log" "$log"
held=$(($(ctl_map klog_ctl next_lsn) - $(ctl_map klog_ctl truncated_lsn)))
check "ENOSPC: the records not on disk stay in the kernel log ($held)" test "$held" -gt 0
check "ENOSPC: durable LSN is not advanced past what is on disk" \
	test "$(ctl_map klog_ctl durable_lsn)" -le "$(ctl_map klog_ctl truncated_lsn)"
mount -o remount,size=64M "$tiny"
check "ENOSPC: a klogd restarted with room adopts them" restart_adopting "$log" --dir "$dir" \
	--segment-size 1M
last=$(tail -n 1 "$acks" | cut -d' ' -f1)
wait_durable "$dir" "$last"
check "ENOSPC: then every acknowledged record is on disk, once" \
	sh -c "'$klogctl' verify --dir '$dir' --count $count --size mix --seed 3 --acks '$acks' >/dev/null"
stop_klogd
remove_log
umount "$tiny"

# --- io_uring unavailable: one clear line, then psync ------------------------
# denied_uring CASE: klogd started (by the caller's set-up) where io_uring
# cannot be used must say so in one line and run on psync.
denied_uring() {
	local log=$work/klogd-nouring-$1.log
	start_klogd "$log" --dir "$work/log-nouring-$1" >/dev/null
	check "$1: klogd says so in one line" \
		test "$(grep -c 'io_uring is unavailable (Operation not permitted): using the psync backend' "$log")" -eq 1
	check "$1: klogd runs on the psync backend" grep -q "psync backend" "$log"
	stop_klogd
	remove_log
}
knob=/proc/sys/kernel/io_uring_disabled
if [ -w "$knob" ]; then
	was=$(cat "$knob")
	echo 2 >"$knob"
	denied_uring "io_uring disabled (io_uring_setup refused)"
	echo "$was" >"$knob"
	was=
else
	not_ok "io_uring disabled: kernel.io_uring_disabled is missing on this kernel"
fi
# A seccomp profile may allow io_uring_setup and deny io_uring_enter only.
klogd_wrap=("$seccomp_deny" io_uring_enter)
denied_uring "io_uring_enter denied by seccomp"
klogd_wrap=()

# --- the DURABLE notice port taken: a start-up error, not QUERY polling -----
hold_port() { # hold_port 4|6: a process in the server namespace holds UDP 7070, pid in holder
	ip netns exec "$srv" python3 -c '
import socket, sys, time
v6 = sys.argv[1] == "6"
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
if v6:
	s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::" if v6 else "0.0.0.0", 7070))
print("bound", flush=True)
time.sleep(120)' "$1" >"$work/holder" &
	holder=$!
	for _ in $(seq 100); do grep -q bound "$work/holder" && return 0; sleep 0.05; done
	return 1
}
for family in 4 6; do
	log=$work/klogd-port$family.log
	hold_port "$family"
	nsenter --net=/var/run/netns/"$srv" timeout 20 "$klogd" --iface "$vs" --name "$name" \
		--dir "$work/log-port" 2>"$log"
	rc=$?
	kill "$holder"
	wait "$holder" 2>/dev/null
	holder=
	check "notice port held (IPv$family): klogd exits at start (status $rc)" \
		test "$rc" -ne 0 -a "$rc" -ne 124
	check "notice port held (IPv$family): klogd names the port" \
		grep -q "cannot bind UDP port 7070 (IPv$family) for DURABLE notices: Address already in use" "$log"
done

# --- one instance per name ---------------------------------------------------
dir=$work/log-hand log=$work/klogd-hand.log
check "klogd starts for the hand-run checks" start_klogd "$log" --dir "$dir"
second=$(nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name" \
	--dir "$work/other" 2>&1)
rc=$?
check "a second klogd on the same --name is refused" \
	test "$rc" -ne 0 -a -n "$(echo "$second" | grep 'another klogd is running with this --name')"
second=$(nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name-2" \
	--dir "$dir" 2>&1)
rc=$?
check "a second klogd on the same --dir is refused" \
	test "$rc" -ne 0 -a -n "$(echo "$second" | grep 'another klogd is running with this --dir')"
check "klogd --help describes the options" sh -c "'$klogd' --help | grep -q -- '--pool-blocks'"
"$klogd" --iface x --dir y --pool nope >/dev/null 2>"$work/err"
check "klogd refuses a bad option value with a message and status 2" \
	sh -c "test $? -eq 2 && grep -q \"invalid value for --pool: 'nope'\" '$work/err'"
"$klogd" --iface x --dir y --window 8388609 >/dev/null 2>"$work/err"
check "klogd refuses a window above 2^23 (the packed reservation word's range)" \
	sh -c "test $? -eq 2 && grep -q -- '--window 8388609 is out of range: 1..8388608' '$work/err'"

# --- klogctl by hand ---------------------------------------------------------
printf 'first record' >"$work/a"
head -c "$max" /dev/urandom >"$work/b"
lsns=$(cli "$klogctl" append --server $srv_ip:7070 --txid 40 "$work/a" "$work/b")
first=$(echo "$lsns" | sed -n 1p) second=$(echo "$lsns" | sed -n 2p)
check "klogctl append prints one LSN per file, in order" test "$second" = "$((first + 1))"
wait_durable "$dir" "$second"
check "klogctl read returns the first file's bytes" \
	sh -c "'$klogctl' read --dir '$dir' $first | cmp -s - '$work/a'"
check "klogctl read returns the second file's bytes" \
	sh -c "'$klogctl' read --dir '$dir' $second | cmp -s - '$work/b'"
dump=$("$klogctl" dump --dir "$dir" --from "$first")
check "klogctl dump lists LSN, length and txid" \
	test "$(echo "$dump" | awk '{print $1, $2, $3}' | tr '\n' ' ')" = "$first 12 40 $second $max 41 "
"$klogctl" read --dir "$dir" $((second + 1)) >/dev/null 2>"$work/err"
check "klogctl read of an LSN not yet written fails and says why" \
	grep -q "not durable yet" "$work/err"
cli "$klogctl" append --server $srv_ip "$work/missing" >/dev/null 2>"$work/err"
check "klogctl append of a missing file fails with a message" grep -q "missing" "$work/err"
check "klogd stops cleanly" stop_klogd

finish
