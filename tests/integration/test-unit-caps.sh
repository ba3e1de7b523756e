#!/usr/bin/env bash
# Description: klogd with exactly the capabilities klogd@.service leaves it
# (its CapabilityBoundingSet, through setpriv as root): it starts in TC mode and
# appends; killed with SIGKILL (the TC program stays attached), it starts again
# in XDP mode, detaches the TC program and appends, and stops cleanly.  And why
# CAP_SYS_ADMIN is in the set: without it klogd cannot look programs up by id,
# so it cannot tell the TC program left behind is klog's: it refuses to start
# (saying so) rather than leave a second appender attached beside its own.
# Usage: test-unit-caps.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD UNIT   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 unit=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# CAP_BPF CAP_NET_ADMIN ... -> +bpf,+net_admin,...
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_/+/p' |
	paste -sd,)
check "the unit names its capabilities ($caps)" test -n "$caps"
with_caps() { klogd_wrap=(setpriv --bounding-set "-all,$1" --inh-caps -all --); }
attached() { # the names of the programs attached to the server's veth (XDP and TC)
	local id
	for id in $(ip netns exec "$srv" bpftool net show dev "$vs" | sed -n 's/.* id \([0-9]*\).*/\1/p'); do
		bpftool prog show id "$id" | sed -n 's/^[0-9]*: [a-z_]*  name \([a-z_]*\) .*/\1/p'
	done | sort | paste -sd' '
}
# shellcheck disable=SC2317 # run through check
append() { cli "$klogctl" append --server "$srv_ip" "$work/rec" >/dev/null; }
echo "a record" >"$work/rec"
dir=$work/log log=$work/klogd.log

with_caps "$caps"
check "klogd with the unit's capabilities starts in tc mode" start_klogd "$log" --dir "$dir" --mode tc
check "and appends" append
kill_klogd
check "killed, it leaves the TC program attached" test "$(attached)" = klog_tc_append
check "started again in xdp mode, with the unit's capabilities" start_klogd "$log.2" --dir "$dir"
check "it detached the TC program left behind" grep -q "detached the klog program left attached in tc mode" "$log.2"
check "only its XDP program is attached" test "$(attached)" = klog_xdp_append
check "and appends" append
check "it stops cleanly (status 0)" stop_klogd

check "started in tc mode again, and killed" start_klogd "$log.3" --dir "$dir" --mode tc
kill_klogd
with_caps "${caps//,+sys_admin/}"
timeout 30 nsenter --net="/var/run/netns/$srv" "${klogd_wrap[@]}" "$klogd" --iface "$vs" --name "$name" \
	--dir "$dir" 2>"$log.4"
rc=$?
check "without CAP_SYS_ADMIN klogd refuses to start (status $rc), naming the capability" \
	sh -c "[ $rc -eq 1 ] && grep -q 'CAP_SYS_ADMIN is needed.*Operation not permitted' '$log.4'"
check "... and no second appender is attached: only the TC program left behind" \
	test "$(attached)" = klog_tc_append
finish
