#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e.sh - end-to-end appends/s and ACK latency (p50, p99) over a veth pair
# for five servers speaking the same protocol, all driven by `klogctl bench`,
# and each server's saturation throughput, driven by bench/loadgen:
#
#   klog-xdp         klogd --mode xdp (appends and ACKs at XDP, klogd drains to disk)
#   klog-tc          klogd --mode tc (the same at TC ingress)
#   userspace        bench/udp_server --dir (recvmmsg/sendmmsg, SO_REUSEPORT,
#                    persisted through klogd's writer, as klogd drains)
#   fixed128-spill   bench/fixed_log --slot 128 (DINT style) with udp_server
#   fixed1024-spill  bench/fixed_log --slot 1024 taking the records that do not fit
#
# for records of 128 B, 1024 B and the 75/25 mix, with 1 and 2 server cores.
# "Server cores" (doc/benchmarks.md): the veth pair has that many rx/tx queues
# on each end, with threaded NAPI; the server end's NAPI threads (where XDP,
# TC and the UDP stack run) and the server's processes are pinned to CPU 0
# (1 core) or CPUs 0-1 (2 cores); the client's NAPI threads and its 2
# `klogctl bench` processes (2 flows, 32 outstanding each) to CPU 1 (1 core)
# or CPUs 0-1 (2 cores: the client shares them).  Besides appends/s, each run
# measures the CPU time of the server's threads; busy = that time / (run
# time x cores), and capacity = appends/s / busy estimates what the server
# sustains at saturation when the client could not saturate it.
#
# Saturation is measured, not estimated, by a second run of every variant:
# bench/loadgen sends from the kernel (BPF_PROG_TEST_RUN with live frames on
# the client's end, one generator thread per client CPU; at nice 19 with 2
# cores, so that the server's threads on those CPUs come first), unpaced,
# 2M frames per run, every frame a new request; its XDP program, in place of
# xdp_pass on the client's end for the run, counts the replies.  The
# client's NAPI threads run SCHED_FIFO for the run, so that the generator
# does not delay the replies.  Saturation = ACKs / (first frame to last
# reply).  Frames beyond what the server takes
# are lost at its veth ring (or socket): requests, never appends.  klog
# answers FULL when klogd has not drained the window or pool yet, udp_server
# when its writer is a window behind: those NACKs are counted
# (saturation_full, the sum over rounds) and are not appends; klog's log is
# drained before the next run.  A saturation run is checked as the others,
# with one more term: the server counted exactly the ACKs and FULL NACKs
# loadgen got plus the replies the server's veth dropped because the
# client's ring was full (its tx_dropped counter: the VM may stall the
# client's vCPU for longer than the 256-frame ring lasts); klog answered no
# BUSY and took no request for a retransmission; no other NACK.
#
# Rounds are interleaved (each runs every variant); medians (min-max) over
# rounds, a markdown table on stdout, JSON with --json.  Every run is checked:
# the client got N ACKs and no failure, and the server counted exactly N
# appends (klog: klog_stats, no BUSY; fixed: slots + spilled = N, udp_server
# took the spilled): otherwise it fails loudly, exit status 1.  FULL NACKs
# (klogd's or udp_server's writer behind) are backpressure the client
# retries: counted and reported ("full"), not a failure.  The baselines do
# not deduplicate: a request resent after a timeout may be appended twice
# there ("duplicates", reported; klog must append exactly N).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tools/testbed.sh
. "$here/tools/testbed.sh"

usage() {
	cat <<EOF
usage: bench/e2e.sh [--quick] [--rounds N] [--json FILE] [--dir PARENT] [--build DIR]
  --quick        1 round: 60,000 records per closed-loop run, 2M frames per
                 saturation run (about 80 s)
  --rounds N     rounds of every variant (default 3, about 6 minutes; 300,000
                 records per closed-loop run)
  --json FILE    also write the figures to FILE as JSON
  --dir PARENT   where the logs of klogd and udp_server go (default /var/tmp)
  --build DIR    meson build directory (default: build/ of this checkout)
EOF
}

json_out=
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--json) json_out=${2:?--json needs a file}; shift ;;
	*) args+=("$1") ;;
	esac
	shift
done
bench_options 3 "${args[@]}"
count=300000 sat_count=2M
[ "$quick" = 1 ] && count=60000
servers=(klog-xdp klog-tc userspace fixed128-spill fixed1024-spill)
sizes=(128 1024 mix)
cores_list=(1 2)
clients=2 outstanding=32
bench_need_root "BPF programs, namespaces, apt-get"
[ "$(nproc)" -ge 2 ] || { echo "$me: needs at least 2 CPUs" >&2; exit 1; }

bench_install jq bpftool ethtool
bench_require ninja nsenter taskset chrt
[ -d "$build/meson-private" ] || meson setup "$build" >&2
bench_build "klogd, klogctl, udp_server, fixed_log, loadgen and xdp_pass" klogd/klogd \
	klogctl/klogctl bench/udp_server bench/fixed_log bench/loadgen bpf/xdp_pass.bpf.o
klogd=$build/klogd/klogd
klogctl=$build/klogctl/klogctl
udp_server=$build/bench/udp_server
fixed_log=$build/bench/fixed_log
loadgen=$build/bench/loadgen

tag=e2e-$$
name=$tag
pins=/sys/fs/bpf/klog/$name
srv=ke2e-$$-s cli=ke2e-$$-c vs=ke2s$$ vc=ke2c$$
srv_ip=10.204.0.1 cli_ip=10.204.0.2
work=$(mktemp -d "$parent/klog-e2e.XXXXXX")
results=$(mktemp -d)
server_pids=()
klogd_pid=
cleanup() {
	local p
	for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || :; done
	testbed_down "$srv" "$cli" klogd_pid
	rm -rf "$pins" "$work" "$results"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	{
		echo
		echo "$me: FAILED: $*"
		for f in "$work"/*.log; do
			[ -s "$f" ] || continue
			echo "$me: ${f##*/} ends:"
			tail -n 5 "$f" | sed 's/^/    /'
		done
	} >&2
	exit 1
}

# The bed: 2 queues on each end, of which set_cores makes N active.
testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" "$cli_ip" "$build/bpf/xdp_pass.bpf.o" "" 2 ||
	fail "setting up the veth pair"
in_srv() { ip netns exec "$srv" "$@"; }
in_cli() { ip netns exec "$cli" "$@"; }
# NAPI on the server's end without XDP too (GRO on; the client's sends must be
# eligible for it, so no TSO there), in threads that can be pinned.
in_cli ethtool -K "$vc" tso off >/dev/null
in_srv ethtool -K "$vs" gro on >/dev/null
in_srv sh -c "echo 1 > /sys/class/net/$vs/threaded"
in_cli sh -c "echo 1 > /sys/class/net/$vc/threaded"
srv_mac=$(ip -n "$srv" -j link show "$vs" | jq -r '.[0].address')

# set_cores N: N queues active on each end; where the server and client run.
# With XDP on an end, its peer may not send on more queues than it receives
# on: rx first when growing, tx first when shrinking.
set_cores() {
	local cur order=(rx tx) q
	cur=$(in_srv ethtool -l "$vs" | awk '/^RX:/ { n = $2 } END { print n }')
	[ "$1" -ge "$cur" ] || order=(tx rx)
	for q in "${order[@]}"; do
		in_srv ethtool -L "$vs" "$q" "$1"
		in_cli ethtool -L "$vc" "$q" "$1"
	done
	# The generator yields to the server where they share CPUs.
	if [ "$1" = 1 ]; then
		srv_cpus=(0) cli_cpus=(1) sat_nice=0
	else
		srv_cpus=(0 1) cli_cpus=(0 1) sat_nice=19
	fi
}

# Pin the NAPI threads of device $1 round-robin on the CPUs that follow.
# They come and go with XDP programs and queues: called before every run.
pin_napi() {
	local dev=$1 i=0 p
	shift
	local cpus=("$@")
	for p in $(pgrep "^napi/$dev-" | sort -n); do
		taskset -p -c "${cpus[i % ${#cpus[@]}]}" "$p" >/dev/null
		i=$((i + 1))
	done
}
list() { local IFS=,; echo "$*"; }

# napi_chrt DEV POLICY PRIO: chrt's scheduling policy (-f, -o) for DEV's NAPI threads.
napi_chrt() {
	local p
	for p in $(pgrep "^napi/$1-"); do chrt "$2" -p "$3" "$p" >/dev/null; done
}

# CPU nanoseconds of the server so far: its NAPI threads and its processes' threads.
server_ns() {
	local p
	{
		for p in $(pgrep "^napi/$vs-") "${server_pids[@]}"; do
			cat /proc/"$p"/task/*/schedstat 2>/dev/null || :
		done
	} | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# start_bg LOG READY CMD...: CMD in the server namespace on the server CPUs,
# stderr to LOG (emptied first), stdout to LOG.out; waits up to 10 s for READY
# in LOG; its pid joins server_pids.
start_bg() {
	local log=$1 ready=$2 pid
	shift 2
	: >"$log"
	nsenter --net=/var/run/netns/"$srv" taskset -c "$(list "${srv_cpus[@]}")" "$@" \
		>"$log.out" 2>>"$log" &
	pid=$!
	server_pids+=("$pid")
	for _ in $(seq 100); do
		grep -qs "$ready" "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "$* did not start"
}

# stop_bg: SIGTERM to every server process, and wait for them.
stop_bg() {
	local p
	for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" || :; done
	server_pids=()
}

klog_counters=(appends nack_full_window nack_full_pool nack_busy retransmits)
klog_snap() { bench_klog_snap "$pins" "${klog_counters[@]}"; }

# Until klogd has drained and truncated every record (up to 20 s): after a
# saturation run, the next run starts with an empty window and pool.
klog_wait_empty() {
	local i
	for ((i = 0; i < 400; i++)); do
		bpftool -j map dump pinned "$pins/klog_ctl" |
			jq -e '[.[] | (.formatted // .) | (.values // [.value])[] | (.value // .)][0] |
				.truncated_lsn >= .next_lsn' >/dev/null && return 0
		sleep 0.05
	done
	fail "klogd did not drain and truncate its log in 20 s"
}

# start_server SERVER: the server, ready for runs (klogd runs for all three sizes).
start_server() {
	case $1 in
	klog-*)
		rm -rf "$pins" "$work/log"
		start_bg "$work/klogd.log" "klogd: ready" "$klogd" --iface "$vs" \
			--mode "${1#klog-}" --dir "$work/log" --name "$name"
		klogd_pid=${server_pids[0]}
		;;
	esac
}

stop_server() {
	stop_bg
	klogd_pid=
	rm -rf "$pins" "$work/log" "$work/ulog"
}

# Per run: the userspace server and the fixed-slot program are started afresh,
# so their counters at exit are the run's.
start_run_servers() {
	case $1 in
	userspace)
		rm -rf "$work/ulog"
		start_bg "$work/udp_server.log" "udp_server: ready" "$udp_server" --json \
			--threads "${#srv_cpus[@]}" --dir "$work/ulog" ;;
	fixed*-spill)
		local slot=${1#fixed}
		slot=${slot%-spill}
		rm -rf "$work/ulog"
		start_bg "$work/udp_server.log" "udp_server: ready" "$udp_server" --json \
			--threads "${#srv_cpus[@]}" --dir "$work/ulog"
		start_bg "$work/fixed_log.log" "fixed_log: ready" "$fixed_log" --json \
			--iface "$vs" --slot "$slot" --slots 65536 ;;
	esac
}

# check_run SERVER V ACKS [FULL LOST]: the server's own count of this run's
# replies is exactly what the client got: ACKS appends and no NACK, or, for
# a saturation run (FULL given), ACKS appends and FULL FULL NACKs (klog's
# window or pool, udp_server's ring to its writer) once the LOST replies the
# server's veth dropped on the way back (its own counter) are added in; then
# every request is new (klog: no retransmission), no BUSY, and the
# fixed-slot program may spill more than reaches udp_server.
check_run() {
	local v=$2 acks=$3 cfull=${4:-} lost=${5:-0} n appends full busy spilled
	case $1 in
	klog-*)
		klog_snap >"$results/after"
		awk 'NR == FNR { b[$1] = $2; next } { print $1, $2 - b[$1] }' \
			"$results/before" "$results/after" >"$results/delta"
		appends=$(awk '$1 == "appends" { print $2 }' "$results/delta")
		full=$(awk '$1 ~ /^nack_full/ { s += $2 } END { print s + 0 }' "$results/delta")
		busy=$(awk '$1 == "nack_busy" { print $2 }' "$results/delta")
		[ "$busy" -eq 0 ] || fail "$v: the kernel answered BUSY $busy times"
		if [ -z "$cfull" ]; then
			awk '$1 == "retransmits" { print $2 }' "$results/delta" >>"$results/retransmits"
		else
			[ "$(awk '$1 == "retransmits" { print $2 }' "$results/delta")" -eq 0 ] ||
				fail "$v: klog took a loadgen request for a retransmission"
		fi
		;;
	userspace)
		stop_bg
		appends=$(jq -r '.records' "$work/udp_server.log.out")
		full=$(jq -r '.nacks' "$work/udp_server.log.out")
		;;
	fixed*)
		stop_bg
		n=$(jq -r '.records' "$work/udp_server.log.out")
		appends=$(($(jq -r '.appends' "$work/fixed_log.log.out") + n))
		full=$(jq -r '.nacks' "$work/udp_server.log.out")
		spilled=$(jq -r '.spilled' "$work/fixed_log.log.out")
		# At saturation, the stack may drop spilled requests before udp_server.
		[ "$spilled" -eq "$n" ] || { [ -n "$cfull" ] && [ "$spilled" -gt "$n" ]; } ||
			fail "$v: fixed_log spilled $spilled, udp_server took $n"
		[ "$(jq -r '.refused + .reply_errors' "$work/fixed_log.log.out")" = 0 ] ||
			fail "$v: fixed_log refused a request or could not answer"
		;;
	esac
	if [ -z "$cfull" ]; then
		# Closed loop: FULL is backpressure the client retries, reported.
		# klog appends each record exactly once; the baselines have no
		# deduplication, so a request the client sent again after a timeout
		# may be appended twice: counted and reported, never fewer than ACKed.
		case $1 in
		klog-*) [ "$appends" -eq "$acks" ] ;;
		*) [ "$appends" -ge "$acks" ] ;;
		esac || fail "$v: the server counted $appends appends for the client's $acks ACKs"
		echo "$full" >>"$results/$v.full"
		echo "$((appends - acks))" >>"$results/$v.dups"
		return 0
	fi
	if [ "$appends" -lt "$acks" ] || [ "$full" -lt "${cfull:-0}" ] ||
		[ "$((appends - acks + full - ${cfull:-0}))" -ne "$lost" ]; then
		fail "$v: the server counted $appends appends and $full FULL; the client got" \
			"$acks ACKs and ${cfull:-0} FULL, the veth dropped $lost replies"
	fi
}

# run SERVER CORES SIZE: one `klogctl bench` run; appends its figures to
# $results/SERVER-CORES-SIZE.{rate,p50,p99,busy,cap}.
run() {
	local server=$1 cores=$2 size=$3 v=$1-$2-$3 spec=mix rc=0 ns0 ns1 t0 t1
	[ "$size" = mix ] || spec=fixed:$size
	start_run_servers "$server"
	pin_napi "$vs" "${srv_cpus[@]}"
	pin_napi "$vc" "${cli_cpus[@]}"
	case $server in klog-*) klog_snap >"$results/before" ;; esac
	ns0=$(server_ns)
	t0=$(date +%s%N)
	in_cli taskset -c "$(list "${cli_cpus[@]}")" "$klogctl" bench --server "$srv_ip" \
		--count "$count" --size "$spec" --clients "$clients" --outstanding "$outstanding" \
		--json >"$results/bench.json" 2>"$results/bench.err" || rc=$?
	t1=$(date +%s%N)
	ns1=$(server_ns)
	if [ "$rc" != 0 ]; then
		tr '\r' '\n' <"$results/bench.err" | tail -n 3 >&2
		fail "klogctl bench, $v ($count records), round $((r + 1)): exit status $rc"
	fi
	jq -e --argjson n "$count" '.appends == $n' "$results/bench.json" >/dev/null ||
		fail "$v: fewer than $count appends acknowledged"
	check_run "$server" "$v" "$count"
	jq -r '.appends_per_s' "$results/bench.json" >>"$results/$v.rate"
	jq -r '.latency_us.p50' "$results/bench.json" >>"$results/$v.p50"
	jq -r '.latency_us.p99' "$results/bench.json" >>"$results/$v.p99"
	# The server's CPU time over the client's run time (a slight overestimate
	# of the run: it includes the client's start).
	awk -v ns=$((ns1 - ns0)) -v dt=$((t1 - t0)) -v c="$cores" -v rate="$(jq -r '.appends_per_s' "$results/bench.json")" \
		-v b="$results/$v.busy" -v k="$results/$v.cap" 'BEGIN {
			busy = ns / (dt * c); print busy >> b; print (busy > 0 ? rate / busy : 0) >> k }'
}

# Packets the server's end of the pair dropped on the way out: replies that
# found the client's ring full (XDP_TX or not).
srv_tx_dropped() { ip -n "$srv" -s -j link show "$vs" | jq '.[0].stats64.tx.dropped'; }

# sat_run SERVER CORES SIZE: one unpaced bench/loadgen run of $sat_count
# frames; appends its figures to $results/SERVER-CORES-SIZE.{sat,satfull,
# satlost,satdrop,satbusy}: ACKs/s, FULL NACKs, frames without a reply,
# replies dropped by the veth, the server's busy fraction from the first
# frame to the last reply.
sat_run() {
	local server=$1 cores=$2 size=$3 v=$1-$2-$3 rc=0 ns0 ns1 d0 d1 j=$results/sat.json
	start_run_servers "$server"
	pin_napi "$vs" "${srv_cpus[@]}"
	pin_napi "$vc" "${cli_cpus[@]}"
	napi_chrt "$vc" -f 10
	case $server in klog-*) klog_snap >"$results/before" ;; esac
	d0=$(srv_tx_dropped)
	ns0=$(server_ns)
	in_cli taskset -c "$(list "${cli_cpus[@]}")" "$loadgen" --iface "$vc" --server "$srv_ip" \
		--dst-mac "$srv_mac" --count "$sat_count" --size "$size" --nice "$sat_nice" --json >"$j" \
		2>"$results/sat.err" || rc=$?
	ns1=$(server_ns)
	d1=$(srv_tx_dropped)
	napi_chrt "$vc" -o 0
	if [ "$rc" != 0 ]; then
		cat "$results/sat.err" >&2
		fail "loadgen, $v, round $((r + 1)): exit status $rc"
	fi
	jq -e '([.nacks | to_entries[] | select(.key != "full") | .value] | add // 0) == 0 and
		.other_replies == 0 and .malformed == 0' "$j" >/dev/null ||
		fail "$v: loadgen got a NACK other than FULL, or an odd reply: $(cat "$j")"
	check_run "$server" "$v" "$(jq -r '.acks' "$j")" "$(jq -r '.nacks.full // 0' "$j")" \
		"$((d1 - d0))"
	jq -r '.acks_per_s' "$j" >>"$results/$v.sat"
	jq -r '.nacks.full // 0' "$j" >>"$results/$v.satfull"
	jq -r '.no_reply' "$j" >>"$results/$v.satlost"
	echo "$((d1 - d0))" >>"$results/$v.satdrop"
	awk -v ns=$((ns1 - ns0)) -v dt="$(jq -r '.duration_s' "$j")" -v c="$cores" \
		'BEGIN { print ns / (dt * 1e9 * c) }' >>"$results/$v.satbusy"
	case $server in klog-*) klog_wait_empty ;; esac
}

start=$(date +%s)
echo "$me: $rounds rounds, $count records per run, $clients clients x $outstanding outstanding;" \
	"saturation: $sat_count frames per run" >&2
for ((r = 0; r < rounds; r++)); do
	# Alternate the order of the servers between rounds.
	order=("${servers[@]}")
	if ((r % 2)); then
		order=()
		for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[i]}"); done
	fi
	for cores in "${cores_list[@]}"; do
		set_cores "$cores"
		for server in "${order[@]}"; do
			start_server "$server"
			for size in "${sizes[@]}"; do
				run "$server" "$cores" "$size"
				sat_run "$server" "$cores" "$size"
			done
			stop_server
		done
	done
	echo "$me: round $((r + 1)) of $rounds done ($(($(date +%s) - start)) s)" >&2
done

fmt() { # FILE DECIMALS: "median (min–max)"
	stat_of "$1" | awk -v d="$2" '{ printf "%.*f (%.*f–%.*f)", d, $1, d, $2, d, $3 }'
}
printf 'klog end to end on a veth pair: %d rounds, %d records per run, klogctl bench with %d clients x %d outstanding, medians (min–max)\n\n' \
	"$rounds" "$count" "$clients" "$outstanding"
sum_of() { awk '{ s += $1 } END { printf "%d", s }' "$1"; }
# table_rows CELLS: a markdown row per variant; `CELLS VARIANT` gives the
# cells after server, cores and size.
table_rows() {
	local cores size server
	for cores in "${cores_list[@]}"; do
		for size in "${sizes[@]}"; do
			for server in "${servers[@]}"; do
				printf '| %s | %d | %s | %s |\n' "$server" "$cores" "$size" \
					"$("$1" "$server-$cores-$size")"
			done
		done
	done
}
closed_cells() {
	local f=$results/$1
	echo "$(fmt "$f.rate" 0) | $(fmt "$f.p50" 1) | $(fmt "$f.p99" 1) | $(sum_of "$f.full") |" \
		"$(sum_of "$f.dups") | $(fmt "$f.busy" 2) | $(fmt "$f.cap" 0)"
}
sat_cells() {
	local f=$results/$1
	echo "$(fmt "$f.sat" 0) | $(sum_of "$f.satfull") | $(sum_of "$f.satlost") |" \
		"$(sum_of "$f.satdrop") | $(fmt "$f.satbusy" 2)"
}
printf '| server | cores | size | appends/s | p50 µs | p99 µs | FULL NACKs (retried) | appended twice | server busy | capacity appends/s |\n'
printf '|--------|------:|-----:|----------:|-------:|-------:|---------------------:|---------------:|------------:|-------------------:|\n'
table_rows closed_cells
echo
printf 'Saturation: bench/loadgen from the kernel, unpaced, %s frames per run; ACKs/s from the first frame to the last reply, medians (min–max); FULL NACKs (not appends), frames without a reply and of those the replies the veth dropped, summed over rounds; server busy over the same time\n\n' \
	"$sat_count"
printf '| server | cores | size | saturation ACKs/s | FULL NACKs | no reply | replies dropped | server busy |\n'
printf '|--------|------:|-----:|------------------:|-----------:|---------:|----------------:|------------:|\n'
table_rows sat_cells
echo
printf 'klog retransmissions over all runs: %d\n' \
	"$(awk '{ s += $1 } END { print s + 0 }' "$results/retransmits" 2>/dev/null || echo 0)"

if [ -n "$json_out" ]; then
	stat_json() { stat_of "$1" | awk '{ printf "{\"median\": %s, \"min\": %s, \"max\": %s}", $1, $2, $3 }'; }
	{
		printf '{"rows": ['
		sep=
		for cores in "${cores_list[@]}"; do
			for size in "${sizes[@]}"; do
				for server in "${servers[@]}"; do
					v=$server-$cores-$size
					printf '%s{"server": "%s", "cores": %d, "size": "%s", "appends_per_s": %s, "p50_us": %s, "p99_us": %s, "full": %s, "duplicates": %s, "server_busy": %s, "capacity_per_s": %s, "saturation_per_s": %s, "saturation_full": %s, "saturation_no_reply": %s, "saturation_replies_dropped": %s, "saturation_busy": %s}' \
						"$sep" "$server" "$cores" "$size" "$(stat_json "$results/$v.rate")" \
						"$(stat_json "$results/$v.p50")" "$(stat_json "$results/$v.p99")" \
						"$(sum_of "$results/$v.full")" "$(sum_of "$results/$v.dups")" \
						"$(stat_json "$results/$v.busy")" "$(stat_json "$results/$v.cap")" \
						"$(stat_json "$results/$v.sat")" "$(sum_of "$results/$v.satfull")" \
						"$(sum_of "$results/$v.satlost")" "$(sum_of "$results/$v.satdrop")" \
						"$(stat_json "$results/$v.satbusy")"
					sep=', '
				done
			done
		done
		printf '], "how": "veth pair with N queues and threaded NAPI; server NAPI threads and processes pinned to N cores (CPU 0, or CPUs 0-1 shared with the client), client (klogctl bench, %d processes x %d outstanding) and its NAPI on CPU 1 (or 0-1); %d records per run, %d rounds; busy = server CPU time / (run time x N); capacity = appends/s / busy. Saturation: bench/loadgen sends from the kernel (BPF_PROG_TEST_RUN live frames on the client end, one thread per client CPU, at nice 19 with 2 cores), unpaced, %s frames per run; its XDP program counts the replies (client NAPI threads SCHED_FIFO for the run); saturation_per_s = ACKs / (first frame to last reply); saturation_full = FULL NACKs (not appends), saturation_no_reply = frames without a reply and saturation_replies_dropped = of those, replies the server veth dropped, summed over rounds; saturation_busy = server CPU time over the same time / N"}\n' \
			"$clients" "$outstanding" "$count" "$rounds" "$sat_count"
	} | jq . >"$json_out"
fi
echo "$me: done in $(($(date +%s) - start)) s" >&2
