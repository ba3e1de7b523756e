#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# commit.sh - what a client waits for: appends/s and acknowledgement latency
# (p50, p99, p99.9) with in-kernel acks and with durable acks (--durable:
# ACK+PENDING, then DURABLE after klogd's group commit), at 1, 16 and 64
# outstanding requests, beside fio's fdatasync latency on the same file
# system.  klogd runs on a veth pair between two network namespaces (as in
# tools/demo.sh); `klogctl bench --json` runs in the client's namespace.  The
# variants and fio alternate in R rounds; one markdown table of medians
# (min-max) goes to stdout.  Run as root:
#
#     bench/commit.sh            # about 1.5 minutes
#     bench/commit.sh --quick    # under 15 s: 1 round, a quarter of the records
#     bench/commit.sh --json F   # the same figures also as JSON, into F
#
# Installs fio and jq (and bpftool) with apt-get when missing, and builds
# with ninja first.  Fails loudly, exit status 1, when a run fails, klogd
# dies, or the kernel answered FULL (the window or pool filled: klogd did not
# keep up).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tools/testbed.sh
. "$here/tools/testbed.sh"
# shellcheck source=bench/klogrun.sh
. "$here/bench/klogrun.sh"

usage() {
	cat <<EOF
usage: bench/commit.sh [--quick] [--rounds N] [--dir PARENT] [--build DIR] [--json FILE]
  --quick        a quarter of the records per run, 1 round unless --rounds
                 (under 15 s a round)
  --rounds N     rounds of every variant (default 3)
  --dir PARENT   file system to measure: klogd's log and fio's file go to a
                 directory made under PARENT (default /var/tmp)
  --build DIR    meson build directory (default: build/ of this checkout)
  --json FILE    also write the figures to FILE as JSON: every median with
                 its min and max, per acknowledgement and outstanding count
EOF
}

bench_options 3 "$@"
outstanding=(1 16 64)
# Records per run, by acknowledgement and outstanding requests: each run
# takes a few seconds at most.
declare -A count=(
	[inkernel-1]=200000 [inkernel-16]=400000 [inkernel-64]=400000
	[durable-1]=40000 [durable-16]=150000 [durable-64]=250000
)
fio_size=64M
if [ "$quick" = 1 ]; then
	for k in "${!count[@]}"; do count[$k]=$((count[$k] / 4)); done
	fio_size=32M
fi
bench_need_root "BPF programs, namespaces, apt-get"

# Tools.
bench_install fio jq bpftool
bench_require ninja nsenter
[ -d "$build/meson-private" ] || meson setup "$build" >&2
bench_build "klogd, klogctl and xdp_pass" klogd/klogd klogctl/klogctl bpf/xdp_pass.bpf.o
klogd=$build/klogd/klogd
klogctl=$build/klogctl/klogctl
xdp_pass=$build/bpf/xdp_pass.bpf.o

name=bench-commit
pins=/sys/fs/bpf/klog/$name
srv=kbcommit-$$-s cli=kbcommit-$$-c vs=kbcs$$ vc=kbcc$$
srv_ip=10.203.0.1 cli_ip=10.203.0.2
if pgrep -f -- "--name $name( |\$)" >/dev/null; then
	echo "commit.sh: a klogd --name $name is running already (another commit.sh?)" >&2
	exit 1
fi
work=$(mktemp -d "$parent/klog-commit.XXXXXX")
results=$(mktemp -d)
klogd_pid=
cleanup() {
	testbed_down "$srv" "$cli" klogd_pid
	rm -rf "$pins" "$work" "$results"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A klogd killed by an earlier run left its maps pinned: start afresh.
rm -rf "$pins"

bench_fs "$work"

# Two namespaces joined by a veth pair; the client's end runs a pass-through
# XDP program, so it runs NAPI and receives the server's XDP_TX replies.
testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" "$cli_ip" "$xdp_pass"

testbed_klogd_failed() { :; } # fail shows the end of klogd's log
testbed_start_klogd klogd_pid "$srv" "$work/klogd.log" \
	"$klogd" --iface "$vs" --dir "$work/log" --name "$name" || fail "klogd did not start"

# One host-wide counter: flush requests completed by the log's disk (the 16th
# field of /sys/class/block/DEV/stat), all writers together.
disk=$(basename "$(readlink -f "$dev" 2>/dev/null || echo "$dev")")
flushes() { awk '{ print $16 + 0 }' "/sys/class/block/$disk/stat" 2>/dev/null || echo 0; }

# klog ACK OUTSTANDING: one `klogctl bench` run; appends its figures to
# $results/ACK-OUTSTANDING.{rate,p50,p99,p999,flush} (flush: appends per
# flush of the disk during the run, durable only).
klog() {
	local ack=$1 o=$2 v=$1-$2 n=${count[$1-$2]} flag=() f0 f1
	[ "$ack" = durable ] && flag=(--durable)
	f0=$(flushes)
	klog_bench_run "$v" "$n" "$o" "${flag[@]}"
	f1=$(flushes)
	klog_keep "$results/bench.json" "$results/$v"
	awk -v n="$n" -v f=$((f1 - f0)) 'BEGIN { print (f > 0 ? n / f : 0) }' >>"$results/$v.flush"
	echo "$v $(jq -r '.latency_us.p99' "$results/bench.json")" >>"$results/round"
}

fio_pct() { # P: fio's fdatasync latency percentile P, in us
	jq -r --arg p "$1" '.jobs[0].sync.lat_ns.percentile[$p] / 1000' "$results/fio.json"
}

# fio_sync: a fresh file written 4 KiB at a time, an fdatasync after each
# write; appends the fdatasync latency p50, p99 and p99.9 (us) and the
# writes/s.
fio_sync() {
	mkdir -p "$work/fio"
	fio --name=fsync --directory="$work/fio" --rw=write --bs=4k --size="$fio_size" \
		--fdatasync=1 --ioengine=psync --output-format=json >"$results/fio.json" ||
		fail "fio, round $((r + 1))"
	rm -rf "$work/fio"
	jq -e '.jobs[0].sync.lat_ns.percentile["99.000000"] > 0' "$results/fio.json" >/dev/null ||
		fail "fio printed no fdatasync latency percentiles (jobs[0].sync.lat_ns.percentile)"
	fio_pct 50.000000 >>"$results/fio.p50"
	fio_pct 99.000000 >>"$results/fio.p99"
	fio_pct 99.900000 >>"$results/fio.p999"
	jq -r '.jobs[0].write.iops' "$results/fio.json" >>"$results/fio.rate"
	fio_pct 99.000000 >"$results/fio.last"
}

fmt() { bench_fmt "$@"; }

start=$(date +%s)
echo "commit.sh: $rounds rounds on $work ($fstype on $dev)" >&2
variants=()
for o in "${outstanding[@]}"; do variants+=("inkernel $o" "durable $o"); done
for ((r = 0; r < rounds; r++)); do
	: >"$results/round"
	# Alternate the order: fio first and the variants forward, then the reverse.
	order=("${variants[@]}")
	if ((r % 2)); then
		order=()
		for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
	else
		fio_sync
	fi
	for v in "${order[@]}"; do
		# shellcheck disable=SC2086 # "ACK OUTSTANDING", two words
		klog $v
	done
	if ((r % 2)); then fio_sync; fi
	# The ratio durable p99 / fdatasync p99 within the round.
	awk -v f="$(cat "$results/fio.last")" -v d="$results" \
		'$1 ~ /^durable/ { print $2 / f >> (d "/" $1 ".ratio") }' "$results/round"
	echo "commit.sh: round $((r + 1)) of $rounds done ($(($(date +%s) - start)) s)" >&2
done

printf 'klog commit latency on a veth pair, klogd on %s (%s on %s), %d rounds, medians (min–max)\n' \
	"$parent" "$fstype" "$dev" "$rounds"
printf 'klogctl bench --size mix (75%% 128 B / 25%% 1024 B); records per run: in-kernel %s, durable %s (1/16/64 outstanding); fio: %s, 4 KiB writes, fdatasync after each, psync\n\n' \
	"${count[inkernel-1]}/${count[inkernel-16]}/${count[inkernel-64]}" \
	"${count[durable-1]}/${count[durable-16]}/${count[durable-64]}" "$fio_size"
printf '| ack | outstanding | appends/s | p50 µs | p99 µs | p99.9 µs | durable p99 / fdatasync p99 | appends per disk flush |\n'
printf '|-----|------------:|----------:|-------:|-------:|---------:|----------------------------:|-----------------------:|\n'
for o in "${outstanding[@]}"; do
	for ack in inkernel durable; do
		v=$ack-$o
		if [ "$ack" = durable ]; then
			label=durable ratio=$(fmt "$results/$v.ratio" 2) per=$(fmt "$results/$v.flush" 1)
		else
			label=in-kernel ratio=— per=—
		fi
		printf '| %s | %d | %s | %s | %s | %s | %s | %s |\n' "$label" "$o" \
			"$(fmt "$results/$v.rate" 0)" "$(fmt "$results/$v.p50" 1)" \
			"$(fmt "$results/$v.p99" 1)" "$(fmt "$results/$v.p999" 1)" "$ratio" "$per"
	done
done
printf '| fio write 4k + fdatasync | 1 | %s | %s | %s | %s | — | — |\n' \
	"$(fmt "$results/fio.rate" 0)" "$(fmt "$results/fio.p50" 1)" \
	"$(fmt "$results/fio.p99" 1)" "$(fmt "$results/fio.p999" 1)"
echo
# What the kernel counted over all runs: FULL must be 0 (checked per run).
awk '{ t[$2] += $3 } END {
	printf "kernel counters over all runs: FULL (window) %d, FULL (pool) %d, BUSY %d, NOTREADY %d, retransmissions %d, QUERY %d\n",
		t["nack_full_window"], t["nack_full_pool"], t["nack_busy"], t["nack_notready"],
		t["retransmits"], t["queries"] }' "$results/counters"
if [ -n "$json" ]; then
	# row ACK OUTSTANDING: one variant's figures, each {"median", "min", "max"}.
	row_json() {
		local v=$1-$2 extra=null
		if [ "$1" = durable ]; then
			extra=$(jq -n --argjson r "$(stat_json "$results/$v.ratio")" \
				--argjson f "$(stat_json "$results/$v.flush")" \
				'{ p99_over_fdatasync_p99: $r, appends_per_disk_flush: $f }')
		fi
		jq -n --arg ack "$1" --argjson o "$2" --argjson rate "$(stat_json "$results/$v.rate")" \
			--argjson p50 "$(stat_json "$results/$v.p50")" \
			--argjson p99 "$(stat_json "$results/$v.p99")" \
			--argjson p999 "$(stat_json "$results/$v.p999")" --argjson extra "$extra" \
			'{ ack: $ack, outstanding: $o, appends_per_s: $rate, p50_us: $p50, p99_us: $p99,
			   p999_us: $p999 } + ($extra // {})'
	}
	for o in "${outstanding[@]}"; do
		for ack in inkernel durable; do row_json "$ack" "$o"; done
	done | jq -s --arg dir "$parent" --arg fstype "$fstype" --arg dev "$dev" \
		--argjson rounds "$rounds" --arg fio_size "$fio_size" \
		--argjson rate "$(stat_json "$results/fio.rate")" \
		--argjson p50 "$(stat_json "$results/fio.p50")" \
		--argjson p99 "$(stat_json "$results/fio.p99")" \
		--argjson p999 "$(stat_json "$results/fio.p999")" \
		--argjson counters "$(awk '{ t[$2] += $3 } END { for (k in t) print k, t[k] }' \
			"$results/counters" | jq -Rn '[inputs | split(" ") |
			{ (.[0]): (.[1] | tonumber) }] | add')" \
		'{ dir: $dir, fstype: $fstype, dev: $dev, rounds: $rounds, size: "mix", rows: .,
		   fio_fdatasync: { file_size: $fio_size, block: "4k", writes_per_s: $rate,
				    p50_us: $p50, p99_us: $p99, p999_us: $p999 },
		   kernel_counters: $counters }' >"$json"
fi
echo "commit.sh: done in $(($(date +%s) - start)) s" >&2
