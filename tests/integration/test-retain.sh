#!/usr/bin/env bash
# Description: retention under load with readers open.  klogd with 1 MiB
# segments and --retain-segments 3 takes ~9 segments' worth of appends: the
# segment count stays bounded (3, and one more for a moment while a new one
# is made: --batch 256 keeps two batches, the one written and the one staged,
# within a segment), one "retention: deleted" line per deletion; every LSN from the
# first kept reads back intact (verify, bench's bytes); a libklog reader
# opened before keeps reading what it had open, answers "trimmed" for a
# deleted LSN and reads newer ones; klogctl tail -f following along sees
# every LSN in order (or, fallen behind a deletion, stops saying trimmed).  klogctl trim --before while klogd appends deletes only
# whole segments below the bound and never the newest; verify passes after;
# klogd restarts on the trimmed directory (waiting for the lock a check
# holds) and appends on, and --retain-age
# deletes a segment last written 2 h ago.  The options'
# errors: jetstream with --retain-*, a bad duration, trim's usage.
# Usage: test-retain.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD HOLDREAD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 holdread=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
tailpid="" hold_pid=""
cleanup_extra=stop_readers
stop_readers() {
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	[ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
}

dir=$work/log log=$work/klogd.log
mkfifo "$work/never" # read -t on it: a sleep without a fork
size=$((max < 1000 ? max : 1000)) count=9000 # LSNs: 1 by hand, then bench's
nsegs() { local s=("$dir"/*.klog); echo "${#s[@]}"; }
first_kept() { local s=("$dir"/*.klog); echo $((10#$(basename "${s[0]}" .klog))); }
ask() { echo "$1" >&"${hold[1]}" && read -r -t 5 reply <&"${hold[0]}"; } # holdread's answer

check "klogd starts with --segment-size 1M --retain-segments 3 --batch 256" \
	start_klogd "$log" --dir "$dir" --segment-size 1M --retain-segments 3 --batch 256
check "klogd says what it retains" grep -q "retention: $dir keeps at most 3 segments (" "$log"

# The readers, before any record: one held open (libklog), one following (tail -f).
coproc hold { exec "$holdread" "$dir"; }
# shellcheck disable=SC2154 # set by coproc
hold_pid=$hold_PID
read -r -t 5 reply <&"${hold[0]}"
check "a libklog reader is open on the log" test "$reply" = open
"$klogctl" tail --dir "$dir" -f >"$work/tail.out" 2>"$work/tail.err" &
tailpid=$!
# LSN 1, read by the held reader: its segment is open in it before the load.
lsn=$(printf x | cli "$klogctl" append --server $srv_ip --durable - 2>&1)
ask 1
check "the held reader reads LSN $lsn, the first ($reply)" test "$lsn:$reply" = "1:1 ok 1"

cli "$klogctl" bench --server $srv_ip --count $((count - 1)) --size "fixed:$size" --seed 11 \
	--outstanding 16 >"$work/bench.out" 2>&1 &
bench=$!
# The segment count, sampled apart (a glob, no fork) until the load is drained: "SAMPLES PEAK".
(
	samples=0 peak=0
	trap 'echo "$samples $peak" >"$work/peak"; exit 0' TERM
	while :; do
		segs=("$dir"/*.klog)
		[ "${#segs[@]}" -gt "$peak" ] && peak=${#segs[@]}
		samples=$((samples + 1))
		read -r -t 0.002 <>"$work/never" || :
	done
) &
sampler=$!
deadline=$((SECONDS + 30))
until "$klogctl" read --dir "$dir" $count >/dev/null 2>&1 || [ $SECONDS -gt $deadline ]; do
	sleep 0.02
done
check "bench appended $((count - 1)) records" wait "$bench"
for _ in $(seq 100); do [ "$(nsegs)" -eq 3 ] && break; sleep 0.05; done
check "3 segments kept after the load ($(nsegs))" test "$(nsegs)" -eq 3
kill "$sampler"
wait "$sampler"
read -r samples peak <"$work/peak"
check "never more than 4 segments at once under load (peak $peak in $samples looks)" \
	test "$peak" -le 4 -a "$peak" -ge 3
first=$(first_kept)
check "the oldest went: the log starts at LSN $first" test "$first" -gt 3000
check "klogd logged each deletion with the new first LSN" \
	grep -q "retention: deleted [0-9]* segments\? of LSNs .*; the log starts at LSN $first " "$log"
check "verify: the trimmed log is clean from LSN $first" \
	sh -c "'$klogctl' verify --dir '$dir' | grep -q 'LSNs $first\\.\\.$count'"
check "every LSN from $first to $count holds bench's bytes" \
	sh -c "'$klogctl' verify --dir '$dir' --count $((count - 1)) --size fixed:$size --seed 11 \
	--from $first --to $count --partial >/dev/null"
ask 1
check "the held reader still reads the segment it had open ($reply)" test "$reply" = "1 ok 1"
ask $((first - 1))
check "the held reader says trimmed for LSN $((first - 1))" \
	sh -c "echo '$reply' | grep -q '^$((first - 1)) trimmed .*LSN $((first - 1)) was trimmed: the first segment kept starts at LSN $first'"
ask $count
check "the held reader reads the newest LSN ($reply)" test "$reply" = "$count ok $size"
ask 1
check "having looked again, it says trimmed for LSN 1 too" \
	sh -c "echo '$reply' | grep -q '^1 trimmed'"
"$klogctl" read --dir "$dir" 2 >/dev/null 2>"$work/read.err"
rc=$?
check "klogctl read of a deleted LSN: exit 1, trimmed" \
	sh -c "test $rc -eq 1 && grep -q 'trimmed (below the first record kept)' '$work/read.err'"
# tail -f follows as fast as it can; on a loaded machine it may fall behind a deletion,
# and must then stop saying so, never skipping a record.
tail_last() { tail -n 1 "$work/tail.out" | sed -n 's/^{"lsn":\([0-9]*\),.*/\1/p'; }
for _ in $(seq 200); do
	[ "$(tail_last)" = $count ] || ! kill -0 "$tailpid" 2>/dev/null && break
	sleep 0.05
done
kill "$tailpid" 2>/dev/null
wait "$tailpid" 2>/dev/null
tailpid="" tailed=$(tail_last)
check "tail -f printed LSNs 1..$tailed in order, none skipped" \
	sh -c "sed 's/^{\"lsn\":\([0-9]*\),.*/\1/' '$work/tail.out' |
		awk 'NR != \$1 { exit 1 } END { exit NR != ${tailed:-0} || !NR }'"
if [ "$tailed" = $count ]; then
	ok "tail -f kept up to LSN $count"
elif grep -q "stopped at LSN $((tailed + 1)) .*trimmed" "$work/tail.err"; then
	ok "tail -f fell behind a deletion and stopped at LSN $((tailed + 1)) saying trimmed"
else
	not_ok "tail -f reached LSN $count or stopped saying trimmed (at ${tailed:-none})"
	sed 's/^/# tail: /' "$work/tail.err"
fi

# --- klogctl trim by hand: idle, then while klogd appends ---------------------
before=$((first + 1500))
"$klogctl" trim --dir "$dir" --before $before >"$work/trim.out" 2>&1
rc=$?
sed 's/^/# /' "$work/trim.out"
kept=$(first_kept)
check "klogctl trim --before $before: exit 0, the first segment only (now from $kept)" \
	test $rc -eq 0 -a "$kept" -gt "$first" -a "$kept" -le $before -a "$(nsegs)" -eq 2
check "it printed what it deleted and the first LSN kept" \
	sh -c "grep -q '^deleted 1 segment of LSNs $first\.\.$((kept - 1)), ' '$work/trim.out' &&
		grep -q '^first LSN kept $kept (2 segments' '$work/trim.out'"
cli "$klogctl" bench --server $srv_ip --count 3000 --size "fixed:$size" --seed 12 \
	--durable --outstanding 8 >/dev/null 2>&1 &
bench=$!
trims=0 trim_fail=0 end=$((count + 3000)) deadline=$((SECONDS + 30))
until "$klogctl" read --dir "$dir" $end >/dev/null 2>&1 || [ $SECONDS -gt $deadline ]; do
	"$klogctl" trim --dir "$dir" --before 18446744073709551615 --json >>"$work/trims.out" \
		2>&1 || trim_fail=$((trim_fail + 1))
	[ "$(nsegs)" -ge 1 ] || trim_fail=$((trim_fail + 1))
	trims=$((trims + 1))
done
check "bench during the trims: all acknowledged" wait "$bench"
check "$trims trims while klogd appended: each exit 0, never an empty log" \
	test $trim_fail -eq 0 -a $trims -ge 3
"$klogctl" trim --dir "$dir" --before 18446744073709551615 --json >"$work/trim2.out"
newest=$(sed -n 's/.*"first_kept":\([0-9]*\).*/\1/p' "$work/trim2.out")
check "trim --before past the end keeps the newest segment (from $newest)" \
	sh -c "test $(nsegs) -eq 1 && grep -q '\"segments\":1,' '$work/trim2.out' &&
		'$klogctl' read --dir '$dir' $end >/dev/null"
check "klogd went on through them: running, no retention failure" \
	sh -c "kill -0 $pid && ! grep -q 'failed' '$log'"
check "verify passes after the trims" sh -c "'$klogctl' verify --dir '$dir' >/dev/null"

# --- restart on the trimmed directory ----------------------------------------
check "SIGTERM stops klogd" stop_klogd
# A check holding the deletion lock (as klog_verify does) for a second: the start waits.
flock -s "$dir/trim.lock" sleep 1 &
holder=$!
sleep 0.1
check "klogd restarts on the trimmed directory (now with --retain-bytes, --retain-age)" \
	restart_adopting "$log" --dir "$dir" --segment-size 1M --retain-bytes 3M --retain-age 1h
check "its recovery waited for the lock a check held" \
	grep -q "waiting for $dir/trim.lock: a klogctl trim or verify holds it" "$log.restart"
wait "$holder"
check "it says what it retains" grep -q \
	"retention: $dir keeps at most 3145728 bytes, those written in the last 3600 s" "$log.restart"
lsn=$(printf x | cli "$klogctl" append --server $srv_ip --durable - 2>&1)
check "and appends on: LSN $lsn is the one after $end" test "$lsn" = $((end + 1))
check "the restarted log starts at LSN $newest and is clean" \
	sh -c "'$klogctl' verify --dir '$dir' | grep -q 'LSNs $newest\\.\\.$((end + 1))'"
# A second segment (2 MiB in all: within --retain-bytes), then the older one made 2 h old.
cli "$klogctl" bench --server $srv_ip --count 500 --size "fixed:$size" --seed 13 --durable \
	--outstanding 8 >/dev/null 2>&1
old=("$dir"/*.klog)
check "two segments, none deleted yet (from $(first_kept))" \
	test "${#old[@]}" -eq 2 -a "$(first_kept)" -eq "$newest"
touch -d '2 hours ago' "${old[0]}"
for _ in $(seq 80); do [ -e "${old[0]}" ] || break; sleep 0.1; done
check "--retain-age 1h: the segment last written 2 h ago goes within seconds" \
	test ! -e "${old[0]}" -a "$(nsegs)" -eq 1
check "and klogd logged it" grep -q "retention: deleted 1 segment of LSNs $newest\\." "$log.restart"
stop_klogd >/dev/null

# --- errors ------------------------------------------------------------------
"$klogd" --iface lo --backend jetstream --nats nats://127.0.0.1:1 --retain-segments 3 \
	>/dev/null 2>"$work/js.err"
rc=$?
check "--retain-segments with jetstream: exit 2, the stream's own limits apply" \
	sh -c "test $rc -eq 2 && grep -q \"the stream's own limits apply\" '$work/js.err'"
"$klogd" --iface lo --dir "$dir" --retain-age 5x >/dev/null 2>"$work/age.err"
rc=$?
check "--retain-age 5x: exit 2, naming the option" \
	sh -c "test $rc -eq 2 && grep -q 'retain-age' '$work/age.err'"
"$klogctl" trim --dir "$dir" >/dev/null 2>&1
rc=$?
check "klogctl trim without --before: exit 2" test $rc -eq 2
"$klogctl" trim --dir "$work" --before 5 >/dev/null 2>"$work/notlog.err"
rc=$?
check "klogctl trim on a directory without segments: exit 1, says so" \
	sh -c "test $rc -eq 1 && grep -q 'holds no segment' '$work/notlog.err'"
check "klogd --help and klogctl trim --help tell of retention" \
	sh -c "'$klogd' --help | grep -q -- --retain-segments && '$klogctl' trim --help | grep -q -- --before"
finish
