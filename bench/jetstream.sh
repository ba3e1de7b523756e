#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# jetstream.sh - klog replicating into NATS JetStream beside what a user
# would otherwise write: durable appends/s and ack latency (p50, p99) at 1,
# 16 and 64 outstanding for
#   klog-uring   klogd --backend uring (today's durable path, the reference)
#   klog-js-r1   klogd --backend jetstream --replicas 1
#   klog-js-r3   klogd --backend jetstream --replicas 3
#   js_pub-r1    bench/js_pub, a plain libnats publisher, 1 replica
#   js_pub-r3    the same, 3 replicas
# and the in-kernel ACK path (no --durable, 64 outstanding) of the three
# klogd backends.  klogd runs on a veth pair between two namespaces as in
# bench/commit.sh; a 3-node NATS cluster (tools/nats-cluster.sh) runs on
# 127.0.0.1 inside klogd's namespace, where js_pub runs too.  Every variant
# runs once a round, the order reversed every other round; every stream and
# klogd name is fresh.
# Prints one markdown table of medians (min-max), with per-round ratios.
# Run as root:
#
#     bench/jetstream.sh            # about 6 minutes on 2 vCPUs
#     bench/jetstream.sh --quick    # 1 round, a quarter of the records (1 minute)
#     bench/jetstream.sh --json F   # the same figures also as JSON, into F
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tools/testbed.sh
. "$here/tools/testbed.sh"
# shellcheck source=bench/klogrun.sh
. "$here/bench/klogrun.sh"

usage() {
	cat <<EOF
usage: bench/jetstream.sh [--quick] [--rounds N] [--dir PARENT] [--build DIR] [--json FILE]
  --quick        a quarter of the records per run, 1 round unless --rounds
  --rounds N     rounds of every variant (default 3)
  --dir PARENT   klogd's uring log and the NATS servers' data go to a
                 directory made under PARENT (default /var/tmp)
  --build DIR    meson build directory (default: build/ of this checkout)
  --json FILE    also write the figures to FILE as JSON
EOF
}

bench_options 3 "$@"
outstanding=(1 16 64)
# Records per run by outstanding requests (durable), and for the in-kernel
# runs: 50,000 fit in klogd's default window (65,536) and pool, so those
# runs time the ACK path, not how fast the backend drains.
declare -A count=([1]=5000 [16]=30000 [64]=60000 [inkernel]=50000)
if [ "$quick" = 1 ]; then
	for k in "${!count[@]}"; do count[$k]=$((count[$k] / 4)); done
fi
bench_need_root "BPF programs, namespaces, apt-get"

bench_install jq bpftool python3 nats-server
bench_require ninja nsenter
[ -d "$build/meson-private" ] || meson setup "$build" >&2
bench_build "klogd, klogctl, js_pub and xdp_pass" klogd/klogd klogctl/klogctl bench/js_pub \
	bpf/xdp_pass.bpf.o
klogd=$build/klogd/klogd
klogctl=$build/klogctl/klogctl
js_pub=$build/bench/js_pub
nats_cluster=$here/tools/nats-cluster.sh

# Unique per run: namespaces, veth ends, klogd names, streams.
tag=kbjs$$
srv=$tag-s cli=$tag-c vs=${tag}s vc=${tag}c
srv_ip=10.204.0.1 cli_ip=10.204.0.2
work=$(mktemp -d "$parent/klog-jetstream.XXXXXX")
results=$(mktemp -d)
klogd_pid='' pins=''
cleanup() {
	testbed_stop_klogd klogd_pid 2>/dev/null || :
	[ -z "$pins" ] || rm -rf "$pins"
	[ ! -d "$work/nats" ] || "$nats_cluster" stop "$work/nats" >&2 || :
	testbed_down "$srv" "$cli"
	rm -rf "$work" "$results"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" "$cli_ip" "$build/bpf/xdp_pass.bpf.o" ||
	fail "the testbed"
ip netns exec "$srv" "$nats_cluster" start "$work/nats" >&2 ||
	fail "the NATS cluster did not start"
urls=$("$nats_cluster" urls "$work/nats")

klog_backends=(uring js-r1 js-r3)

testbed_klogd_failed() { :; } # fail shows the end of klogd's log
# klogd_up BACKEND ROUND: klogd with BACKEND (uring, js-r1, js-r3), a fresh
# name (and stream) for the round.
klogd_up() {
	local name=$tag-$2-$1 args
	case $1 in
	uring) args=(--backend uring --dir "$work/log-$name") ;;
	js-r*) args=(--backend jetstream --nats "$urls" --stream "$name" --replicas "${1#js-r}") ;;
	esac
	pins=/sys/fs/bpf/klog/$name
	: >"$work/klogd.log"
	testbed_start_klogd klogd_pid "$srv" "$work/klogd.log" \
		"$klogd" --iface "$vs" --name "$name" "${args[@]}" || fail "klogd $1 did not start"
}

klogd_down() {
	testbed_stop_klogd klogd_pid || fail "klogd exited with an error"
	rm -rf "$pins" "$work"/log-*
	pins=
}

# server_cpu: "NATS KLOGD", the CPU seconds used so far by the NATS servers
# and by klogd (0 when none runs): the server side, the clients left out.
server_cpu() {
	local p nats=()
	for p in "$work"/nats/n*.pid; do nats+=("$(cat "$p")"); done
	echo "$(bench_cpu_s "${nats[@]}") $(if [ -n "$klogd_pid" ]; then bench_cpu_s "$klogd_pid"; else echo 0; fi)"
}

# measured V N CMD...: CMD, which leaves its JSON in $results/bench.json; its
# figures go to $results/V.*, and the CPU per record, in µs, of the NATS
# servers and of klogd (its drain after the run included) to V.nats and
# V.klogd.
measured() {
	local v=$1 n=$2 c0
	shift 2
	c0=$(server_cpu)
	"$@"
	echo "$c0 $(server_cpu)" | awk -v n="$n" -v f="$results/$v" '{
		print ($3 - $1) / n * 1e6 >>(f ".nats"); print ($4 - $2) / n * 1e6 >>(f ".klogd") }'
	klog_keep "$results/bench.json" "$results/$v"
}

# klog_variant BACKEND ROUND W...: one klogd, durable runs at each W, then
# the in-kernel run at 64 outstanding.
klog_variant() {
	local b=$1 w
	klogd_up "$b" "$2"
	shift 2
	for w; do
		measured "klog-$b-$w" "${count[$w]}" \
			klog_bench_run "klog-$b-$w" "${count[$w]}" "$w" --durable
	done
	measured "klog-$b-inkernel" "${count[inkernel]}" \
		klog_bench_run "klog-$b-inkernel" "${count[inkernel]}" 64
	klogd_down
}

# js_pub_run REPLICAS ROUND W: js_pub on a fresh stream.
js_pub_run() {
	ip netns exec "$srv" "$js_pub" --nats "$urls" --stream "$tag-$2-p$1-$3" --replicas "$1" \
		--window "$3" --count "${count[$3]}" --size mix \
		>"$results/bench.json" 2>"$results/pub.err" ||
		fail "js_pub R=$1 W=$3: $(tail -n 3 "$results/pub.err")"
}

# js_pub_variant REPLICAS ROUND W...: js_pub at each W.
js_pub_variant() {
	local rep=$1 round=$2 w
	shift 2
	for w; do
		measured "js_pub-r$rep-$w" "${count[$w]}" js_pub_run "$rep" "$round" "$w"
	done
}

variants=()
for b in "${klog_backends[@]}"; do variants+=("klog $b"); done
variants+=("js_pub 1" "js_pub 3")

start=$(date +%s)
echo "jetstream.sh: $rounds rounds, NATS cluster: $urls" >&2
for ((r = 0; r < rounds; r++)); do
	order=("${variants[@]}") ws=("${outstanding[@]}")
	if ((r % 2)); then
		order=() ws=()
		for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
		for ((i = ${#outstanding[@]} - 1; i >= 0; i--)); do ws+=("${outstanding[i]}"); done
	fi
	for v in "${order[@]}"; do
		read -r kind arg <<<"$v"
		"${kind}_variant" "$arg" "$r" "${ws[@]}"
	done
	echo "jetstream.sh: round $((r + 1)) of $rounds done ($(($(date +%s) - start)) s)" >&2
done

# The rows: name, the file prefix of its figures, the prefix it is compared with.
rows=()
for w in "${outstanding[@]}"; do
	for b in "${klog_backends[@]}"; do
		base=klog-uring-$w
		[ "$b" = uring ] || base=js_pub-r${b#js-r}-$w
		rows+=("klog-$b $w klog-$b-$w $base")
	done
	rows+=("js_pub-r1 $w js_pub-r1-$w klog-uring-$w" "js_pub-r3 $w js_pub-r3-$w klog-uring-$w")
done
for b in "${klog_backends[@]}"; do
	rows+=("klog-$b 64 klog-$b-inkernel klog-uring-inkernel")
done
# Per round ratios of appends/s, one line a round in each .rate file.
ratio_of() { # A B: A.rate / B.rate, round by round
	paste "$results/$1.rate" "$results/$2.rate" | awk '{ print $1 / $2 }'
}

printf 'klog replicating into NATS JetStream (3 nodes, nats-server %s) beside a plain libnats publisher, %d rounds, medians (min–max)\n' \
	"$(nats-server --version | awk '{ print $2 }')" "$rounds"
printf 'klogctl bench --size mix (75%% 128 B / 25%% 1024 B) and js_pub --size mix; records per run: durable %s (1/16/64 outstanding), in-kernel %s; CPU: of the 3 NATS servers and of klogd, per record; ratio: appends/s over the compared row, round by round\n\n' \
	"${count[1]}/${count[16]}/${count[64]}" "${count[inkernel]}"
printf '| variant | ack | outstanding | appends/s | p50 µs | p99 µs | p99.9 µs | NATS CPU µs/record | klogd CPU µs/record | ratio |\n'
printf '|---------|-----|------------:|----------:|-------:|-------:|---------:|-------------------:|--------------------:|------:|\n'
for row in "${rows[@]}"; do
	read -r name w v base <<<"$row"
	ack=durable
	[ "${v##*-}" != inkernel ] || ack=in-kernel
	ratio=—
	if [ "$v" != "$base" ]; then
		ratio_of "$v" "$base" >"$results/$v.ratio"
		ratio="$(bench_fmt "$results/$v.ratio" 2) × ${base%-*}"
	fi
	printf '| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$ack" "$w" \
		"$(bench_fmt "$results/$v.rate" 0)" "$(bench_fmt "$results/$v.p50" 1)" \
		"$(bench_fmt "$results/$v.p99" 1)" "$(bench_fmt "$results/$v.p999" 1)" \
		"$(bench_fmt "$results/$v.nats" 1)" "$(bench_fmt "$results/$v.klogd" 1)" "$ratio"
done
echo
awk '{ t[$2] += $3 } END {
	printf "kernel counters over all klog runs: FULL (window) %d, FULL (pool) %d, BUSY %d, retransmissions %d\n",
		t["nack_full_window"], t["nack_full_pool"], t["nack_busy"], t["retransmits"] }' \
	"$results/counters"

if [ -n "$json" ]; then
	for row in "${rows[@]}"; do
		read -r name w v base <<<"$row"
		ratio=null
		[ "$v" = "$base" ] || ratio=$(jq -n --arg b "${base%-*}" \
			--argjson s "$(stat_json "$results/$v.ratio")" '{ over: $b } + $s')
		jq -n --arg name "$name" --argjson w "$w" \
			--arg ack "$([ "${v##*-}" = inkernel ] && echo inkernel || echo durable)" \
			--argjson rate "$(stat_json "$results/$v.rate")" \
			--argjson p50 "$(stat_json "$results/$v.p50")" \
			--argjson p99 "$(stat_json "$results/$v.p99")" \
			--argjson p999 "$(stat_json "$results/$v.p999")" --argjson ratio "$ratio" \
			--argjson nats "$(stat_json "$results/$v.nats")" \
			--argjson klogd "$(stat_json "$results/$v.klogd")" \
			'{ variant: $name, ack: $ack, outstanding: $w, appends_per_s: $rate,
			   p50_us: $p50, p99_us: $p99, p999_us: $p999,
			   nats_cpu_us_per_record: $nats, klogd_cpu_us_per_record: $klogd,
			   ratio: $ratio }'
	done | jq -s --argjson rounds "$rounds" --arg cluster "tools/nats-cluster.sh" \
		--arg nats "$(nats-server --version | awk '{ print $2 }')" \
		--argjson counts "$(for k in "${!count[@]}"; do echo "$k ${count[$k]}"; done |
			jq -Rn '[inputs | split(" ") | { (.[0]): (.[1] | tonumber) }] | add')" \
		--arg commit "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		--arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		'{ commit: $commit, date: $date, loadavg_at_end: $load, rounds: $rounds, size: "mix",
		   cluster: $cluster, nats_server: $nats,
		   records_per_run: $counts, rows: . }' >"$json"
fi
echo "jetstream.sh: done in $(($(date +%s) - start)) s" >&2
