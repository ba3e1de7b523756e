#!/usr/bin/env bash
# Description: watching a running log.  klogctl status exits 2 before any
# klogd ran, 0 with klogd healthy (its figures match the appends made, as
# text and as JSON), 1 while klogd is stopped (SIGSTOP) with records waiting
# (the drain stalled), 0 again after SIGCONT, 2 after a clean stop (the state
# file removed) and after SIGKILL (what the pins show still printed).  The
# metrics endpoint is scraped over HTTP and parsed strictly (promcheck.py),
# its values checked against status; the --stats-interval line appears (and
# not with 0); a --metrics port already taken stops klogd before it attaches.
# Usage: test-status.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
test_part=status
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
promcheck=$(dirname "$0")/promcheck.py
dir=$work/log log=$work/klogd.log port=19213

status() { "$klogctl" status --name "$name" --stall 1 "$@"; }
status_json() { # status_json NAME: klogctl status --json, flattened to $work/NAME (jget reads it)
	status --json >"$work/$1.json" 2>&1
	rc=$?
	flatten "$work/$1.json" >"$work/$1"
}
status_text() { # status_text NAME: klogctl status into $work/NAME (tget reads it), rc
	status >"$work/$1" 2>&1
	rc=$?
}
tget() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' "$work/$1"; }
flatten() { # flatten FILE: "a.b VALUE" per leaf of the JSON in FILE (python3 parses it: strict)
	python3 -c 'import json, sys
def walk(p, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(p + [k], x)
    else:
        print(".".join(p), str(v).lower() if isinstance(v, bool) else v)
walk([], json.load(open(sys.argv[1])))' "$1"
}
jget() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; f = 1 } END { exit !f }' "$work/$1"; }
wait_status() { # wait_status CODE SECONDS: until klogctl status exits CODE
	local end=$((SECONDS + $2))
	while [ "$SECONDS" -le "$end" ]; do
		status >/dev/null 2>&1
		[ $? -eq "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# --- nothing ever started ----------------------------------------------------
echo "# ${SECONDS}s: nothing ever started"
status_json none
check "status before any klogd ran exits 2 (rc $rc)" test "$rc" -eq 2
check "  and its JSON says not running" test "$(jget none running)" = false
check "klogctl status --help exits 0 and shows the exit statuses" \
	sh -c "'$klogctl' status --help | grep -q 'Exit status (a health check, unlike the' && '$klogctl' status --help | grep -q '0 healthy; 1 degraded'"
"$klogd" --iface "$vs" --dir "$dir" --metrics 10.0.0.1:65536 2>"$work/bad.err"
rc=$?
check "klogd --metrics with port 65536 exits 2 naming the option ($rc: $(cat "$work/bad.err"))" \
	sh -c "[ $rc -eq 2 ] && grep -q -- '--metrics 10.0.0.1:65536: the port must be 1..65535' '$work/bad.err'"

# --- healthy -----------------------------------------------------------------
echo "# ${SECONDS}s: healthy"
check "klogd starts with --metrics 127.0.0.1:$port --stats-interval 1" \
	start_klogd "$log" --dir "$dir" --metrics 127.0.0.1:$port --stats-interval 1
count=300
cli "$klogctl" bench --server $srv_ip --count $count --size "uniform:1:$max" --seed 3 \
	--acks "$work/acks" >/dev/null 2>&1
last=$(tail -n 1 "$work/acks" | cut -d' ' -f1)
wait_durable "$dir" "$last"
# The state file catches up within a second.
for _ in $(seq 30); do
	status_text ok
	[ $rc -eq 0 ] && [ "$(tget ok records)" = $count ] && break
	sleep 0.1
done
status_json ok
check "status with klogd healthy exits 0 (rc $rc)" test "$rc" -eq 0
check "  running, pid $pid, health ok" test "$(jget ok running)/$(jget ok klogd.pid)/$(jget ok klogd.health)" = "true/$pid/ok"
check "  appends counter == $count sent" test "$(jget ok counters.appends)" -eq $count
check "  next LSN $((last + 1)) == durable LSN, lag 0" test \
	"$(jget ok kernel.next_lsn)/$(jget ok kernel.durable_lsn)/$(jget ok kernel.lag_records)" = "$((last + 1))/$((last + 1))/0"
check "  drained records $(jget ok drain.records) == $count, $(jget ok drain.commits) commits (>= 1)" test \
	"$(jget ok drain.records)" -eq $count -a "$(jget ok drain.commits)" -ge 1
check "  no NACK, no drop" test "$(awk '$1 ~ /^(nacks|drops)\./ { s += $2 } END { print s + 0 }' \
	"$work/ok")" -eq 0
check "  one segment or more, bytes on disk" test "$(jget ok disk.segments)" -ge 1 -a \
	"$(jget ok disk.bytes)" -gt 0
check "  the retention settings (none given: 0)" test "$(jget ok retention.bytes)/$(jget ok retention.age_s)/$(jget ok retention.segments)" = 0/0/0
status >"$work/ok.txt"
check "text status: one figure per line (next_lsn $((last + 1)), status healthy)" \
	sh -c "grep -Eq '^  next_lsn +$((last + 1))\$' '$work/ok.txt' && grep -Eq '^status +healthy\$' '$work/ok.txt'"

# --- metrics -----------------------------------------------------------------
echo "# ${SECONDS}s: metrics"
if on_srv python3 "$promcheck" "http://127.0.0.1:$port/metrics" >"$work/metrics" 2>&1; then
	ok "GET /metrics parses strictly (HELP/TYPE, cumulative buckets, +Inf == _count; 404 elsewhere)"
else
	not_ok "GET /metrics parses strictly"
	sed 's/^/# /' "$work/metrics"
fi
metric() { tget metrics "$1"; }
check "  klog_appends_total == $count, as status" test "$(metric klog_appends_total)" = $count
check "  klog_durable_lsn == status's $((last + 1))" test "$(metric klog_durable_lsn)" = $((last + 1))
check "  klog_drained_records_total == $count" test "$(metric klog_drained_records_total)" = $count
check "  klog_commits_total == klog_commit_seconds_count == status's commits" test \
	"$(metric klog_commits_total)/$(metric klog_commit_seconds_count)" = \
	"$(jget ok drain.commits)/$(jget ok drain.commits)"
check "  klog_nacks_total{reason=\"full_window\"} 0, klog_health{state=\"ok\"} 1, klog_up 1" test \
	"$(metric 'klog_nacks_total{reason="full_window"}')/$(metric 'klog_health{state="ok"}')/$(metric klog_up)" = 0/1/1
check "  klog_segments == status's" test "$(metric klog_segments)" = "$(jget ok disk.segments)"

# --- the stats line ------------------------------------------------------------
echo "# ${SECONDS}s: the stats line"
stats_line() { grep -q "klogd: stats: .*durable LSN $((last + 1)), lag 0 records" "$log"; }
for _ in $(seq 30); do stats_line && break; sleep 0.1; done
check "--stats-interval 1 logs the stats line (durable LSN, lag)" stats_line

# --- stalled: klogd stopped while clients append ------------------------------
echo "# ${SECONDS}s: stalled: klogd stopped while clients append"
kill -STOP "$pid"
cli "$klogctl" bench --server $srv_ip --count 50 --size fixed:100 --seed 4 >/dev/null 2>&1
check "status --stall 1 exits 1 while klogd is stopped with 50 records waiting" wait_status 1 6
status_text stalled
check "  it says the drain stalled (lag $(tget stalled lag_records) records)" sh -c \
	"grep -q 'drain stalled: 50 records wait' '$work/stalled' && [ $(tget stalled lag_records) -eq 50 ]"
kill -CONT "$pid"
check "status exits 0 again once klogd runs on (SIGCONT)" wait_status 0 5

# --- not running -----------------------------------------------------------------
echo "# ${SECONDS}s: not running"
check "SIGTERM stops klogd with status 0" stop_klogd
check "a clean stop removes the state file" test ! -e "/run/klog/$name.status"
status_text stopped
check "status after a clean stop exits 2 (rc $rc)" test "$rc" -eq 2
check "  and still prints the pinned log (next LSN $((last + 51)))" \
	test "$(tget stopped next_lsn)" = $((last + 51))
check "klogd restarts (adopting the pinned log) with --stats-interval 0" \
	restart_adopting "$log" --dir "$dir" --stats-interval 0
wait_status 0 3
sleep 1.2 # more than an interval of 1 s: a line would be there
check "  which logs no stats line, and its state file says so" sh -c \
	"! grep -q 'klogd: stats:' '$log.restart' && grep -qx 'stats_interval_s=0' '/run/klog/$name.status'"
kill_klogd
status_text killed
check "status after SIGKILL exits 2 (rc $rc), naming the state file left" sh -c \
	"[ $rc -eq 2 ] && grep -q 'is not running: its state file is left' '$work/killed'"

# --- a --metrics port already taken -------------------------------------------------
echo "# ${SECONDS}s: a --metrics port already taken"
ip netns exec "$srv" python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) # past TIME_WAIT of the scrapes
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(30)' $port >/dev/null 2>&1 & # ip execs python3: $! is the holder
holder=$!
stop_holder() { kill "$holder" 2>/dev/null; }
cleanup_extra=stop_holder
for _ in $(seq 50); do on_srv ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
testbed_klogd_failed() { :; } # expected: its log is checked below
if start_klogd "$log.busy" --dir "$dir" --metrics 127.0.0.1:$port; then
	rc=0 && kill_klogd # it should not have started
else
	wait "$pid"
	rc=$?
fi
check "klogd exits 1 before it attaches when the --metrics port is taken (rc $rc)" sh -c \
	"[ $rc -eq 1 ] && grep -q -- '--metrics 127.0.0.1:$port: cannot listen: Address already in use' '$log.busy'"
check "  and removes the state file it wrote" test ! -e "/run/klog/$name.status"
stop_holder
rm -f "/run/klog/$name.lock"
finish
