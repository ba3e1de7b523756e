#!/usr/bin/env bash
# Description: klogd answers READ and INFO (doc/protocol.md, "Reading") over
# the veth pair, checked with datagrams built from the document alone
# (rawread.py), not with libklog:
#   - INFO on an empty log, and after appends: every field;
#   - READ of one record and of ranges: each RECORD's bytes are the server's
#     own read of that LSN (klogctl read --dir), CRC-32C right, LSNs in order,
#     LAST on the last only, the byte budget kept;
#   - NOTYET (with the first LSN not durable), TOOBIG, BADLEN, FLAGS;
#   - a long poll answered as soon as its record is durable, and one that
#     times out with NOTYET;
#   - reads while a client appends: every append acknowledged, every read
#     answered;
#   - TRIMMED once the first segment is gone;
#   - the same reads from a log in a JetStream stream.
# Usage: test-serve.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
raw="$(dirname "$0")/rawread.py" nats=$work/nats
rr() { cli python3 "$raw" "$srv_ip" "$@"; }

dir=$work/log log=$work/klogd.log
check "klogd starts" start_klogd "$log" --dir "$dir" --segment-size 1M

got=$(rr info)
check "INFO on an empty log: version 1, a directory, port, limits, nothing durable" \
	test "${got% log_id=*}" = "INFO version=1 backend=0 port=7070 max_record=$max block_size=$(
		sed -n 's/#define KLOG_BLOCK_SIZE \([0-9]*\)/\1/p' "$(dirname "$klogd")/../include/klog/klog_config.h"
		) max_read_bytes=262144"
check "INFO on an empty log: first 0, durable 1, next 1, 48 bytes" \
	eval '[[ "$got" == *" first_lsn=0 durable_lsn=1 next_lsn=1 len=48" ]]'
check "READ 1 of an empty log: NOTYET, LSN 1" test "$(rr read 1)" = "NACK 12 1"

cli "$klogctl" bench --server "$srv_ip" --count 40 --size "uniform:1:$max" --seed 5 \
	--durable >/dev/null 2>&1
check "40 durable appends" wait_durable "$dir" 40

sha() { "$klogctl" read --dir "$dir" "$1" | sha256sum | cut -d' ' -f1; }
len() { "$klogctl" read --dir "$dir" "$1" | wc -c; }
id=$("$klogctl" verify --dir "$dir" | sed -n 's/.*log id 0x\([0-9a-f]*\).*/\1/p')
got=$(rr info)
check "INFO after 40: first 1, durable 41, next 41, the log's id" \
	eval '[[ "$got" == *" log_id=$id first_lsn=1 durable_lsn=41 next_lsn=41 len=48" ]]'

# range_ok OUT FROM TO: OUT holds RECORDs FROM..TO in order, each the server's bytes, LAST on the last
range_ok() {
	local want="" l
	for ((l = $2; l <= $3; l++)); do
		want+="RECORD $l $(($l - 1)) $(len "$l") 1 $([ "$l" = "$3" ] && echo 1 || echo 0) $(sha "$l")"$'\n'
	done
	[ "$1"$'\n' = "$want" ] || { echo "# got:"; sed 's/^/#   /' <<<"$1"; return 1; }
}
check "READ 7: the record, its txid, CRC right, LAST" range_ok "$(rr read 7)" 7 7
check "READ 1..40 (budget 256 KiB): 40 RECORDs in order, LAST on the last" \
	range_ok "$(rr read 1 40 262144 0)" 1 40
check "READ 3.. to no limit stops at the durable end" range_ok "$(rr read 3 0 262144 0)" 3 40
check "READ 10..12 stops at to_lsn" range_ok "$(rr read 10 12 262144 0)" 10 12
# A budget of two maximum records: records while their bytes fit.
budget=$((2 * max)) fit=0 sum=0
for ((l = 5; l <= 40; l++)); do
	sum=$((sum + $(len "$l")))
	[ "$sum" -le "$budget" ] || break
	fit=$l
done
[ "$fit" -ge 5 ] || fit=5 # the first record always goes
check "READ 5.. with a $budget-byte budget: records 5..$fit" \
	range_ok "$(rr read 5 0 "$budget" 0)" 5 "$fit"
big=0
for ((l = 1; l <= 40; l++)); do [ "$(len "$l")" -gt 1 ] && { big=$l; break; }; done
check "READ $big with a 1-byte budget: TOOBIG" test "$(rr read "$big" 0 1 0)" = "NACK 3 $big"
check "READ 41: NOTYET, LSN 41" test "$(rr read 41)" = "NACK 12 41"
check "READ 500 (far past the end): NOTYET, LSN 41" test "$(rr read 500)" = "NACK 12 41"
check "READ with len 8: BADLEN" test "$(rr read 1 --len=8)" = "NACK 2 1"
check "READ with a flag: FLAGS" test "$(rr read 1 --flags=1)" = "NACK 6 1"

# --- long polls ----------------------------------------------------------------
rr read 41 0 262144 5000 >"$work/poll" &
poll=$!
sleep 0.3
check "a long poll waits (no answer after 0.3 s)" test ! -s "$work/poll"
printf 'late record' >"$work/late"
cli "$klogctl" append --server "$srv_ip" --txid 41 --durable "$work/late" >/dev/null
wait "$poll"
check "the long poll is answered with the record that became durable" \
	test "$(cut -d' ' -f1-6 "$work/poll")" = "RECORD 41 41 11 1 1"
start=$(date +%s%N)
got=$(rr read 42 0 262144 400)
took=$((($(date +%s%N) - start) / 1000000))
check "a long poll that times out: NOTYET, LSN 42" test "$got" = "NACK 12 42"
check "... after its wait (${took} ms >= 400)" test "$took" -ge 400

# --- reads beside appends ------------------------------------------------------
rr hammer 1 "$work/stop" >"$work/hammer" 2>&1 &
hammer=$!
sleep 0.5 # python's start
cli "$klogctl" bench --server "$srv_ip" --count 20000 --size "uniform:1:$max" --seed 6 \
	--outstanding 32 --durable >"$work/bench.out" 2>&1
check "20000 durable appends acknowledged while reading" test $? -eq 0
touch "$work/stop"
wait "$hammer"
read -r _ reads answered <"$work/hammer" || sed 's/^/# hammer: /' "$work/hammer"
check "every read answered meanwhile, LSN 1 byte for byte ($answered of $reads)" \
	test "$answered" -eq "$reads" -a "$reads" -gt 10

# --- trimmed -------------------------------------------------------------------
cli "$klogctl" bench --server "$srv_ip" --count 2000 --size "fixed:$max" --seed 8 \
	--durable --outstanding 32 >/dev/null 2>&1
check "SIGTERM stops klogd" stop_klogd
check "klogd says what it served" grep -q "served [0-9]* reads" "$log"
check "the first segment removed, of several" drop_first_segment "$dir"
check "klogd starts on the log whose first segment was removed" \
	restart_adopting "$log" --dir "$dir" --segment-size 1M
check "READ 1: TRIMMED, the first kept LSN ($second)" test "$(rr read 1)" = "NACK 13 $second"
check "INFO: first_lsn $second" eval '[[ "$(rr info)" == *" first_lsn=$second "* ]]'
check "READ $second: the record" eval '[[ "$(rr read "$second")" == "RECORD $second "* ]]'
stop_klogd
remove_log

# --- from a JetStream stream -----------------------------------------------------
nats_start "$nats" || echo "# nats cluster did not start"
urls=$(nats_urls "$nats")
check "klogd --backend jetstream starts" start_klogd "$work/klogd-js.log" \
	--backend jetstream --nats "$urls" --stream serve --replicas 1
cli "$klogctl" bench --server "$srv_ip" --count 30 --size "uniform:1:$max" --seed 9 \
	--durable >/dev/null 2>&1
got=$(rr read 1 0 262144 0 --timeout=3)
check "READ 1.. from the stream: 30 RECORDs, CRCs right, LAST on the 30th" \
	test "$(awk '{print $2, $5, $6}' <<<"$got" | tr '\n' ' ')" = \
	"$(for l in $(seq 29); do printf '%d 1 0 ' "$l"; done)30 1 1 "
check "INFO: a stream, durable 31" eval '[[ "$(rr info --timeout=3)" == "INFO version=1 backend=1 "*" durable_lsn=31 next_lsn=31 len=48" ]]'
check "READ 31 of the stream: NOTYET" test "$(rr read 31 --timeout=3)" = "NACK 12 31"
stop_klogd
finish
