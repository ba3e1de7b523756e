#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# reads.sh - remote reads beside local ones, and what reads cost appends.
# klogd runs on a veth pair between two network namespaces (as in
# tools/demo.sh) with a log of the 75/25 mix.  In R rounds, side by side:
#   - bench/read_rate on the server's directory (--dir) and from the client's
#     namespace through klogd (--server): klog_read of random LSNs one at a
#     time (reads/s, p50/p99) and a sequential klog_iterate (records/s, MB/s);
#   - `klogctl bench` appends at 64 outstanding alone, and beside a reader in
#     the client's namespace: `klogctl tail --server -f --raw` following the log
#     (what a replica or a consumer does), read_rate --server at 5,000 random
#     reads/s, and read_rate --server as fast as it can; and beside a busy
#     loop that reads nothing (the control: what any process taking a CPU
#     costs on this machine).  The ratio of appends/s beside each to alone,
#     within each round, and klogd's CPU time per append (its read thread
#     included: what serving the reads costs the server).
# One markdown table of medians (min-max) on stdout.  Run as root:
#
#     bench/reads.sh            # about a minute
#     bench/reads.sh --quick    # 1 round, fewer records
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tools/testbed.sh
. "$here/tools/testbed.sh"
# shellcheck source=bench/klogrun.sh
. "$here/bench/klogrun.sh"

usage() {
	cat <<EOF
usage: bench/reads.sh [--quick] [--rounds N] [--dir PARENT] [--build DIR] [--json FILE]
  --quick        fewer records and reads, 1 round unless --rounds
  --rounds N     rounds of every variant (default 3)
  --dir PARENT   klogd's log goes to a directory made under PARENT (default /var/tmp)
  --build DIR    meson build directory (default: build/ of this checkout)
  --json FILE    also write the figures to FILE as JSON
EOF
}

bench_options 3 "$@"
records=100000 reads=20000 appends=300000
if [ "$quick" = 1 ]; then records=20000 reads=5000 appends=100000; fi
bench_need_root "BPF programs, namespaces, apt-get"
bench_install jq bpftool
bench_require ninja nsenter
[ -d "$build/meson-private" ] || meson setup "$build" >&2
bench_build "klogd, klogctl, read_rate and xdp_pass" klogd/klogd klogctl/klogctl \
	bench/read_rate bpf/xdp_pass.bpf.o
klogd=$build/klogd/klogd
klogctl=$build/klogctl/klogctl
read_rate=$build/bench/read_rate
xdp_pass=$build/bpf/xdp_pass.bpf.o

name=bench-reads
pins=/sys/fs/bpf/klog/$name
srv=kbreads-$$-s cli=kbreads-$$-c vs=kbrs$$ vc=kbrc$$
srv_ip=10.204.0.1 cli_ip=10.204.0.2
work=$(mktemp -d "$parent/klog-reads.XXXXXX")
results=$(mktemp -d)
klogd_pid= load=
cleanup() {
	[ -n "$load" ] && kill "$load" 2>/dev/null
	testbed_down "$srv" "$cli" klogd_pid
	rm -rf "$pins" "$work" "$results"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$pins"
bench_fs "$work"
testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" "$cli_ip" "$xdp_pass"
testbed_klogd_failed() { :; }
testbed_start_klogd klogd_pid "$srv" "$work/klogd.log" \
	"$klogd" --iface "$vs" --dir "$work/log" --name "$name" || fail "klogd did not start"

r=0
klog_bench_run fill "$records" 64
last=$((records))

# read SIDE: one read_rate run; its figures appended to $results/SIDE.*
read_side() {
	local out=$results/read.json
	if [ "$1" = dir ]; then
		"$read_rate" --dir "$work/log" --from 1 --to "$last" --reads "$reads" >"$out"
	else
		ip netns exec "$cli" "$read_rate" --server "$srv_ip" --from 1 --to "$last" \
			--reads "$reads" >"$out"
	fi || fail "read_rate --$1, round $((r + 1))"
	for f in reads_per_s p50_us p99_us seq_records_per_s seq_mb_per_s; do
		jq -r ".$f" "$out" >>"$results/$1.$f"
	done
}

# appends BESIDE: klogctl bench at 64 outstanding, beside a load (none with
# "alone"), in the client's namespace; appends/s to $results/appends-BESIDE.rate.
# (SIGTERM stops a load: a background job ignores SIGINT.)
appends() {
	local rr=("$read_rate" --server "$srv_ip" --from 1 --to "$last" --seconds 600)
	case $1 in
	alone) ;;
	follow) ip netns exec "$cli" "$klogctl" tail --server "$srv_ip" -f --raw \
		--from "$(bench_map_sum "$pins" klog_ctl durable_lsn)" >/dev/null & ;;
	paced) ip netns exec "$cli" "${rr[@]}" --rate 5000 >/dev/null & ;;
	flat) ip netns exec "$cli" "${rr[@]}" >/dev/null & ;;
	busy) ip netns exec "$cli" timeout 600 sh -c 'while :; do :; done' & ;;
	esac
	[ "$1" = alone ] || { load=$!; sleep 0.3; }
	c0=$(bench_cpu_s "$klogd_pid")
	klog_bench_run "appends-$1" "$appends" 64
	awk -v a="$c0" -v b="$(bench_cpu_s "$klogd_pid")" -v n="$appends" \
		'BEGIN { print (b - a) * 1e6 / n }' >>"$results/appends-$1.cpu"
	jq -r '.appends_per_s' "$results/bench.json" >>"$results/appends-$1.rate"
	if [ -n "$load" ]; then
		kill -TERM "$load" 2>/dev/null || true
		wait "$load" 2>/dev/null || true
		load=
		kill -0 "$klogd_pid" || fail "klogd died beside the $1 load"
	fi
}
loads=(follow paced flat busy)

start=$(date +%s)
for ((r = 0; r < rounds; r++)); do
	if ((r % 2)); then order=(server dir); else order=(dir server); fi
	for s in "${order[@]}"; do read_side "$s"; done
	order=(alone "${loads[@]}")
	if ((r % 2)); then order=("${loads[@]}" alone); fi
	for a in "${order[@]}"; do appends "$a"; done
	for a in "${loads[@]}"; do
		awk -v a="$(tail -n 1 "$results/appends-alone.rate")" \
			'{ v = $1 } END { print v / a }' "$results/appends-$a.rate" >>"$results/$a.ratio"
	done
	echo "reads.sh: round $((r + 1)) of $rounds done ($(($(date +%s) - start)) s)" >&2
done

fmt() { bench_fmt "$@"; }
printf 'klog reads on a veth pair, klogd on %s (%s on %s), %d rounds, medians (min–max)\n' \
	"$parent" "$fstype" "$dev" "$rounds"
printf 'log: %d records of the 75/25 mix; %d random klog_read per run, then one klog_iterate of all\n\n' \
	"$records" "$reads"
printf '| reader | reads/s (1 at a time) | p50 µs | p99 µs | iterate records/s | iterate MB/s |\n'
printf '|--------|----------------------:|-------:|-------:|------------------:|-------------:|\n'
for s in dir server; do
	printf '| %s | %s | %s | %s | %s | %s |\n' \
		"$([ $s = dir ] && echo "local (--dir)" || echo "remote (--server, over veth)")" \
		"$(fmt "$results/$s.reads_per_s" 0)" "$(fmt "$results/$s.p50_us" 1)" \
		"$(fmt "$results/$s.p99_us" 1)" "$(fmt "$results/$s.seq_records_per_s" 0)" \
		"$(fmt "$results/$s.seq_mb_per_s" 1)"
done
echo
printf '| appends (klogctl bench, mix, 64 outstanding, %d records), beside | appends/s | / alone, per round | klogd CPU µs per append |\n' "$appends"
printf '|-----------------------------------------------------|----------:|---------:|---------:|\n'
printf '| nothing | %s | 1 | %s |\n' "$(fmt "$results/appends-alone.rate" 0)" \
	"$(fmt "$results/appends-alone.cpu" 2)"
declare -A what=(
	[follow]="klogctl tail --server -f --raw (a follower)"
	[paced]="read_rate --server, 5,000 random reads/s"
	[flat]="read_rate --server, random reads as fast as it can"
	[busy]="a busy loop, no reads (the control)"
)
for a in "${loads[@]}"; do
	printf '| %s | %s | %s | %s |\n' "${what[$a]}" "$(fmt "$results/appends-$a.rate" 0)" \
		"$(fmt "$results/$a.ratio" 2)" "$(fmt "$results/appends-$a.cpu" 2)"
done
if [ -n "$json" ]; then
	# Every figure as {"median", "min", "max"} over the rounds.
	for side in dir server; do
		jq -n --arg reader "$side" \
			--argjson rate "$(stat_json "$results/$side.reads_per_s")" \
			--argjson p50 "$(stat_json "$results/$side.p50_us")" \
			--argjson p99 "$(stat_json "$results/$side.p99_us")" \
			--argjson seq "$(stat_json "$results/$side.seq_records_per_s")" \
			--argjson mbs "$(stat_json "$results/$side.seq_mb_per_s")" \
			'{ reader: $reader, reads_per_s: $rate, p50_us: $p50, p99_us: $p99,
			   iterate_records_per_s: $seq, iterate_mb_per_s: $mbs }'
	done | jq -s . >"$results/readers.json"
	{
		jq -n --argjson rate "$(stat_json "$results/appends-alone.rate")" \
			--argjson cpu "$(stat_json "$results/appends-alone.cpu")" \
			'{ beside: "nothing", what: "nothing", appends_per_s: $rate,
			   klogd_cpu_us_per_append: $cpu }'
		for a in "${loads[@]}"; do
			jq -n --arg beside "$a" --arg what "${what[$a]}" \
				--argjson rate "$(stat_json "$results/appends-$a.rate")" \
				--argjson ratio "$(stat_json "$results/$a.ratio")" \
				--argjson cpu "$(stat_json "$results/appends-$a.cpu")" \
				'{ beside: $beside, what: $what, appends_per_s: $rate, over_alone: $ratio,
				   klogd_cpu_us_per_append: $cpu }'
		done
	} | jq -s --slurpfile readers "$results/readers.json" --arg dir "$parent" \
		--arg fstype "$fstype" --arg dev "$dev" --argjson rounds "$rounds" \
		--argjson records "$records" --argjson reads "$reads" --argjson appends "$appends" \
		--arg commit "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		--arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		'{ commit: $commit, date: $date, loadavg_at_end: $load, dir: $dir, fstype: $fstype,
		   dev: $dev, rounds: $rounds, records: $records, reads_per_run: $reads,
		   appends_per_run: $appends, size: "mix", readers: $readers[0], appends: . }' >"$json"
fi
echo "reads.sh: done in $(($(date +%s) - start)) s" >&2
