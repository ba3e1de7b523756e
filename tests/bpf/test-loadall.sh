#!/usr/bin/env bash
# Description: the built object holds the XDP and TC append programs and the
# three Kerby maps, and `bpftool prog loadall` loads it on this kernel as is.
# Usage: test-loadall.sh BPFTOOL OBJECT   (TAP on stdout; needs root)
set -u
bpftool=$1 obj=$2
n=0 failed=0
check() { # check NAME COMMAND...
	n=$((n + 1))
	if "${@:2}" >/dev/null 2>&1; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
# bpffs refuses names with a dot, so no mktemp template.
dir=/sys/fs/bpf/klog-loadall-$$
mkdir "$dir" || exit 1
trap 'rm -rf "$dir"' EXIT

check "bpftool prog loadall accepts $(basename "$obj")" \
	"$bpftool" prog loadall "$obj" "$dir/progs" pinmaps "$dir/maps"
check "klog_xdp_append is an XDP program" \
	sh -c "'$bpftool' prog show pinned '$dir/progs/klog_xdp_append' | grep -q ': xdp '"
check "klog_tc_append is a TC (sched_cls) program" \
	sh -c "'$bpftool' prog show pinned '$dir/progs/klog_tc_append' | grep -q ': sched_cls '"
for m in kerby_index kerby_ring kerby_hash kerby_alloc klog_ctl klog_stats; do
	check "map $m is present" test -e "$dir/maps/$m"
done
check "kerby_alloc is a per-CPU array" \
	sh -c "'$bpftool' map show pinned '$dir/maps/kerby_alloc' | grep -q percpu_array"
check "kerby_ring is mmap-able" \
	sh -c "'$bpftool' map show pinned '$dir/maps/kerby_ring' | grep -Eq 'flags 0x400( |$)'"
check "kerby_hash is not preallocated" \
	sh -c "'$bpftool' map show pinned '$dir/maps/kerby_hash' | grep -Eq 'flags 0x1( |$)'"
check "klog_stats prints its counters by name" \
	sh -c "'$bpftool' map dump pinned '$dir/maps/klog_stats' | grep -q nack_full_window"
echo "1..$n"
exit $failed
