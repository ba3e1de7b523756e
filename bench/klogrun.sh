# shellcheck shell=bash
# shellcheck disable=SC2154 # the caller's variables
# klogrun.sh - sourced by bench/commit.sh and bench/jetstream.sh: one
# `klogctl bench` run against the klogd on the testbed, checked against the
# kernel's own counters.  The caller sets klogctl, cli (the client's
# namespace), srv_ip, pins (klogd's pin directory), results (a scratch
# directory), klogd_pid, work (klogd's log is work/klogd.log) and r (the
# round, from 0).

# fail MESSAGE: exits 1, loudly, with klogd's last words.
fail() {
	{
		echo
		echo "$me: FAILED: $*"
		if [ -s "$work/klogd.log" ]; then
			echo "$me: klogd's log ends:"
			tail -n 5 "$work/klogd.log" | sed 's/^/    /'
		fi
	} >&2
	exit 1
}

klog_counters=(appends nack_full_window nack_full_pool nack_busy nack_notready retransmits
	queries)

# Until every LSN handed out is durable, so each run starts from a drained log.
klog_wait_drained() {
	local next durable
	for _ in $(seq 400); do
		next=$(bench_map_sum "$pins" klog_ctl next_lsn)
		durable=$(bench_map_sum "$pins" klog_ctl durable_lsn)
		[ "$durable" -ge "$next" ] && return 0
		sleep 0.05
	done
	fail "klogd did not drain the log (next LSN $next, durable below $durable)"
}

# klog_bench_run WHAT N OUTSTANDING [FLAG...]: N records of the 75/25 mix,
# OUTSTANDING at a time (FLAG: --durable); the figures in
# $results/bench.json, the kernel's counters added to $results/counters as
# "WHAT COUNTER DELTA" lines.  Fails when the run failed, klogd died, the
# kernel counted other than N appends or answered FULL (klogd fell behind).
klog_bench_run() {
	local what=$1 n=$2 o=$3 rc=0 full got
	shift 3
	kill -0 "$klogd_pid" 2>/dev/null || fail "klogd died before the $what run"
	klog_wait_drained
	bench_klog_snap "$pins" "${klog_counters[@]}" >"$results/before"
	ip netns exec "$cli" "$klogctl" bench --server "$srv_ip" --count "$n" --size mix \
		--outstanding "$o" "$@" --json >"$results/bench.json" 2>"$results/bench.err" ||
		rc=$?
	if [ "$rc" != 0 ]; then
		tr '\r' '\n' <"$results/bench.err" | tail -n 3 >&2
		fail "klogctl bench, $what ($n records), round $((r + 1)): exit status $rc"
	fi
	kill -0 "$klogd_pid" 2>/dev/null || fail "klogd died during the $what run"
	klog_wait_drained
	bench_klog_snap "$pins" "${klog_counters[@]}" >"$results/after"
	awk 'NR == FNR { b[$1] = $2; next } { print $1, $2 - b[$1] }' \
		"$results/before" "$results/after" >"$results/delta"
	full=$(awk '$1 ~ /^nack_full/ { s += $2 } END { print s + 0 }' "$results/delta")
	[ "$full" -eq 0 ] || fail "$what: the kernel answered FULL $full times: klogd did not keep up"
	awk -v v="$what" '{ print v, $1, $2 }' "$results/delta" >>"$results/counters"
	jq -e --argjson n "$n" '.appends == $n' "$results/bench.json" >/dev/null ||
		fail "$what: fewer than $n appends acknowledged"
	got=$(awk '$1 == "appends" { print $2 }' "$results/delta")
	[ "$got" -eq "$n" ] || fail "$what: the kernel counted $got appends, not $n"
}

# klog_keep FILE PREFIX: the figures of FILE (klogctl bench's or js_pub's
# JSON) appended to PREFIX.rate, .p50, .p99 and .p999.
klog_keep() {
	jq -r '.appends_per_s' "$1" >>"$2.rate"
	jq -r '.latency_us.p50' "$1" >>"$2.p50"
	jq -r '.latency_us.p99' "$1" >>"$2.p99"
	jq -r '.latency_us.p999' "$1" >>"$2.p999"
}
