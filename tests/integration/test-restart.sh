#!/usr/bin/env bash
# Description: klogd restarted in every way an operator restarts it, with one
# log throughout.  After SIGKILL in each attach mode and a restart in another
# (xdp -> tc -> xdp -> xdpgeneric -> xdp -> tc -> xdpgeneric -> tc), exactly
# one klog program is attached to the interface, the ready line names the
# mode the kernel runs it in, and appends (also those answered while no klogd
# ran) get consecutive LSNs, never one twice; after a clean stop and start,
# too.  Retransmissions after SIGTERM, after SIGKILL and after a restart with
# other flags are answered with the original LSN and not appended again.
# Pools too small for one largest record are refused (status 2, the range in
# the message), the smallest accepted one carries largest records; the pinned
# settings win over options, with a note; a pinned control map of the old
# layout is refused with a message.
# A klog program attached without klogd's link (ip link, native or generic)
# is detached too.
# Usage: test-restart.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD KLOG_OBJ   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 klog_obj=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cleanup_extra="rm -rf /sys/fs/bpf/klog/$name-pool /sys/fs/bpf/klog/$name-old"

dir=$work/log log=$work/klogd.log

klog_progs() { # the klog programs attached to the server's veth: "MODE ID" a line
	local p
	# The hook and, for XDP, the mode the kernel reports: driver or generic.
	for p in $(ip netns exec "$srv" bpftool -j net show dev "$vs" | python3 -c '
import json, sys
mode = {"driver": "xdp", "generic": "xdpgeneric"}
for dev in json.load(sys.stdin):
	for p in dev.get("xdp", []):
		print(mode.get(p["mode"], p["mode"]) + ":" + str(p["id"]))
	for p in dev.get("tc", []):
		print("tc:" + str(p["id"]))'); do
		bpftool prog show id "${p#*:}" | grep -qE 'name klog_(xdp|tc)_append' &&
			echo "${p%%:*} ${p#*:}"
	done
}

ready_mode() { # the mode the last ready line names
	grep "klogd: ready:" "$1" | tail -n 1 | sed 's/.*ready: \([a-z]*\) on.*/\1/'
}

last=0 first_lsn=
append_next() { # append_next WHAT: one record; its LSN must follow the last one
	local lsn rec=$work/rec-next
	head -c $((RANDOM % max + 1)) /dev/urandom >"$rec"
	lsn=$(cli "$klogctl" append --server "$srv_ip:7070" "$rec" 2>/dev/null)
	if [ -n "$lsn" ] && { [ "$last" -eq 0 ] || [ "$lsn" = "$((last + 1))" ]; }; then
		mv "$rec" "$work/rec-$lsn"
		first_lsn=${first_lsn:-$lsn} last=$lsn
		ok "$1: appended at LSN $lsn"
	else
		not_ok "$1: appended at LSN '$lsn', expected $((last + 1))"
	fi
}

one_program() { # one_program MODE: exactly one klog program attached, running in MODE
	local progs
	progs=$(klog_progs)
	if [ "$(echo "$progs" | grep -c .)" -ne 1 ] || [ "${progs%% *}" != "$1" ]; then
		echo "# attached: $(echo "$progs" | tr '\n' ' ')"
		return 1
	fi
}

# --- mode changes after SIGKILL ----------------------------------------------
prev=
for mode in xdp tc xdp xdpgeneric xdp tc xdpgeneric tc; do
	what="${prev:+$prev -> }$mode"
	if [ -z "$prev" ]; then
		check "$what: klogd starts" start_klogd "$log" --dir "$dir" --mode "$mode"
		rlog=$log
	else
		check "$what: klogd restarts after SIGKILL and adopts the log" \
			restart_adopting "$log" --dir "$dir" --mode "$mode"
		rlog=$log.restart
	fi
	check "$what: exactly one klog program attached, the kernel runs it in $mode mode" \
		one_program "$mode"
	check "$what: the ready line names $mode" test "$(ready_mode "$rlog")" = "$mode"
	append_next "$what"
	kill_klogd
	# No klogd: the program left attached still appends into the pinned log.
	append_next "$what, klogd killed"
	prev=$mode
done

# --- a clean stop, then a start: the log goes on where it was -----------------
check "klogd restarts after SIGKILL" restart_adopting "$log" --dir "$dir" --mode xdp
check "SIGTERM stops klogd with status 0" stop_klogd
check "after SIGTERM no klog program is attached" test -z "$(klog_progs)"
check "after SIGTERM the maps stay pinned" test -e "/sys/fs/bpf/klog/$name/klog_clients"
check "klogd starts after the clean stop and adopts the log" restart_adopting "$log" --dir "$dir"
append_next "after a clean stop"
wait_durable "$dir" "$last"
bad=0
for lsn in $(seq "$first_lsn" "$last"); do
	"$klogctl" read --dir "$dir" "$lsn" 2>/dev/null | cmp -s - "$work/rec-$lsn" || bad=$((bad + 1))
done
check "LSNs $first_lsn..$last read back byte-exact from the directory ($bad differ)" test "$bad" -eq 0
check "the directory holds each LSN once, no more" \
	test "$("$klogctl" dump --dir "$dir" | awk '{ print $1 }' | sort | uniq -d | wc -l)" -eq 0

# --- retransmissions across restarts ------------------------------------------
orig=
for rid in 1000 1001 1002; do orig="$orig $(send "$rid" "payload-$rid" 78 | cut -d' ' -f3)"; done
resend() { # resend WHAT: the three requests again, answered with their original LSNs
	local got='' rid
	for rid in 1000 1001 1002; do got="$got $(send "$rid" "payload-$rid" 78 | tr ' ' :)"; done
	check "$1: retransmissions answered with the original LSNs ($orig)" \
		test "$got" = "$(for l in $orig; do printf ' 2:0:%s' "$l"; done)"
}
check "three new requests appended ($orig)" test "$(echo "$orig" | wc -w)" -eq 3
last=$(echo "$orig" | awk '{ print $3 }')
check "SIGTERM stops klogd" stop_klogd
check "klogd starts after SIGTERM" restart_adopting "$log" --dir "$dir"
resend "after SIGTERM"
kill_klogd
check "klogd restarts after SIGKILL with --mode tc --batch 7" \
	restart_adopting "$log" --dir "$dir" --mode tc --batch 7
resend "after SIGKILL and a restart in another mode"
kill_klogd
check "klogd restarts after SIGKILL with --mode xdpgeneric" \
	restart_adopting "$log" --dir "$dir" --mode xdpgeneric
resend "after SIGKILL"
append_next "after the retransmissions (none took an LSN)"
wait_durable "$dir" "$last"
check "each retransmitted payload is on disk once" \
	test "$("$klogctl" dump --dir "$dir" --from "$first_lsn" | wc -l)" -eq $((last - first_lsn + 1))

# --- a klog program attached by another tool, without the link ------------------
check "SIGTERM stops klogd" stop_klogd
for how in xdpgeneric xdpdrv; do
	mode=$how
	[ "$how" = xdpdrv ] && mode=xdp
	ip -n "$srv" link set dev "$vs" "$how" obj "$klog_obj" sec xdp
	check "ip link attached klog's XDP program in $mode mode, no link" one_program "$mode"
	: >"$log.$how"
	check "klogd --mode tc starts" restart_adopting "$log.$how" --dir "$dir" --mode tc
	check "it detached the $mode program" \
		grep -q "detached the klog program left attached in $mode mode" "$log.$how.restart"
	check "exactly one klog program attached, on tc" one_program tc
	append_next "--mode tc after ip link's $mode program"
	check "SIGTERM stops klogd" stop_klogd
done
check "klogd starts" restart_adopting "$log" --dir "$dir"

# --- pinned settings win, with a note ------------------------------------------
kill_klogd
: >"$log.opts"
check "klogd restarts with another --window and --pool-blocks" \
	restart_adopting "$log.opts" --dir "$dir" --window 1024 --pool-blocks 4096
check "it says the pinned window is used" \
	grep -q -- "--window 1024 differs from the pinned log's 65536: using 65536" "$log.opts.restart"
check "it says the pinned pool size is used" \
	grep -q -- "--pool-blocks 4096 differs from the pinned log's 262144: using 262144" "$log.opts.restart"
check "klogd stops cleanly" stop_klogd

# --- pool sizes -------------------------------------------------------------------
timeout 20 nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name-pool" \
	--dir "$work/pool" --pool-blocks 1 2>"$work/err"
rc=$?
range=$(sed -n 's/.*--pool-blocks 1 is out of range: \([0-9]*\)\.\.\([0-9]*\).*/\1 \2/p' "$work/err")
min=${range%% *}
check "--pool-blocks 1 is refused with status 2 and the range ($(cat "$work/err"))" \
	test "$rc" -eq 2 -a "$range" = "$min 4294967295" -a "${min:-0}" -gt 1
timeout 20 nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name-pool" \
	--dir "$work/pool" --pool-blocks $((min - 1)) 2>"$work/err"
check "--pool-blocks $((min - 1)) (one short of a largest record) is refused with status 2" \
	sh -c "test $? -eq 2 && grep -q 'out of range: $min..' '$work/err'"
saved=$name name=$name-pool
check "klogd starts with --pool-blocks $min" start_klogd "$work/klogd-pool.log" \
	--dir "$work/pool" --pool-blocks "$min"
cli "$klogctl" bench --server "$srv_ip" --count 200 --size "uniform:$max:$max" --seed 4 \
	--outstanding 4 --acks "$work/acks-pool" >/dev/null 2>&1
check "200 largest records through the smallest pool acknowledged" test "$?" -eq 0
wait_durable "$work/pool" "$(sort -n "$work/acks-pool" | tail -n 1 | cut -d' ' -f1)"
check "each on disk once, byte-exact" \
	sh -c "'$klogctl' verify --dir '$work/pool' --count 200 --size uniform:$max:$max --seed 4 --acks '$work/acks-pool' >/dev/null"
check "klogd stops cleanly" stop_klogd
name=$saved

# --- a pinned log of the old layout -----------------------------------------------
mkdir -p "/sys/fs/bpf/klog/$name-old"
bpftool map create "/sys/fs/bpf/klog/$name-old/klog_ctl" type array key 4 value 40 \
	entries 1 name klog_ctl flags 1024
timeout 20 nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name-old" \
	--dir "$work/old" 2>"$work/err"
rc=$?
check "a pinned klog_ctl of the 40-byte layout is refused with a message" \
	sh -c "test $rc -ne 0 && grep -q 'were made by an older klog; drain them with that version or remove them' '$work/err'"
check "and nothing is attached" test -z "$(klog_progs)"

# --- a pinned log of another build (block size, largest record) -------------------
rm -rf "/sys/fs/bpf/klog/$name-old"
mkdir -p "/sys/fs/bpf/klog/$name-old"
bpftool map create "/sys/fs/bpf/klog/$name-old/klog_ctl" type array key 4 value 88 \
	entries 1 name klog_ctl flags 1024
# next_lsn 1, window 16, pool_blocks 64, block_size 32, max_record 100 (struct klog_ctl)
bpftool map update pinned "/sys/fs/bpf/klog/$name-old/klog_ctl" key 0 0 0 0 value \
	$(python3 -c 'import struct; print(*struct.pack("<7Q6IQ", 1, 0, 0, 0, 0, 9, 64, 0, 16, 0, 32, 100, 0, 0))')
timeout 20 nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name-old" \
	--dir "$work/old" 2>"$work/err"
rc=$?
check "a pinned log of a build with other block and record sizes is refused, naming both" \
	sh -c "test $rc -ne 0 && grep -q 'built with 32-byte blocks and records of up to 100 bytes; this klogd has [0-9]* and $max' '$work/err'"

finish
