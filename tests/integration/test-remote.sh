#!/usr/bin/env bash
# Description: libklog's remote reader through klogctl --server, against a
# real klogd over the veth pair (doc/protocol.md, "Reading"):
#   - info --server (text and --json) on an empty log and after appends:
#     the log id, the LSNs, the limits; an INFO to a port nobody serves
#     times out with a message; [V6ADDR]:PORT and [V6ADDR] over IPv6;
#   - read --server and dump --server --payload --json: byte for byte what
#     the server's own directory holds (klogctl --dir); export --server: a
#     clean export file of the same records; verify --server --count: every
#     record bench sent;
#   - NOTYET and TRIMMED: messages naming the server and the LSN, exit 1;
#   - tail -f --server prints the records appended after it started;
#   - RECORDs damaged on the way (nftables sets a byte): the CRC-32C check
#     catches them, and the read says so once the retries run out;
#   - with 10% of the datagrams dropped each way and 10% of the answers
#     damaged (nftables on the client's veth), dump --server still reads
#     everything byte for byte and tail -f still follows;
#   - the same dump from a klogd whose log is a JetStream stream.
# Usage: test-remote.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
tailpid=
cleanup_extra=stop_tail
stop_tail() { [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null; }

dir=$work/log log=$work/klogd.log
ctl() { cli "$klogctl" "$@"; } # klogctl in the client's namespace
rctl() { # rctl NAME ARGS...: ctl's status in rc, its output in $work/NAME.out and .err
	local name=$1
	shift
	ctl "$@" >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
}
has() { grep -qF -- "$2" "$work/$1"; } # has FILE TEXT

check "klogd starts" start_klogd "$log" --dir "$dir" --segment-size 1M

# --- an empty log ----------------------------------------------------------------
rctl i0 info --server "$srv_ip"
check "info on an empty log: exit 0, nothing durable" \
	sh -c "test $rc = 0 && grep -qx 'first_lsn 0' '$work/i0.out' && grep -qx 'durable_lsn 1' '$work/i0.out'"
rctl r0 read --server "$srv_ip" 1
check "read of an empty log: not durable yet, exit 1" \
	sh -c "test $rc = 1 && grep -q 'LSN 1: not durable yet: server $srv_ip: LSN 1' '$work/r0.err'"
rctl d0 dump --server "$srv_ip"
check "dump of an empty log: nothing, exit 0" test "$rc" = 0 -a ! -s "$work/d0.out"
ip -n "$srv" addr add fd00:97::1/64 dev "$vs" nodad && ip -n "$cli" addr add fd00:97::2/64 dev "$vc" nodad
rctl i6 info --server "[fd00:97::1]:7070"
check "info --server [fd00:97::1]:7070: over IPv6" \
	sh -c "test $rc = 0 && grep -qx 'first_lsn 0' '$work/i6.out'"
rctl n0 info --server "$srv_ip:7071"
check "info to a port nobody serves: no answer, exit 1" \
	sh -c "test $rc = 1 && grep -q 'server $srv_ip:7071: no answer' '$work/n0.err'"

# --- records read back -------------------------------------------------------------
count=600
ctl bench --server "$srv_ip" --count $count --size "uniform:1:$max" --seed 9 --durable \
	--outstanding 16 >/dev/null 2>&1
check "$count durable appends" wait_durable "$dir" $count
id=$("$klogctl" verify --dir "$dir" | sed -n 's/.*log id \(0x[0-9a-f]*\).*/\1/p')
rctl i1 info --server "$srv_ip"
check "info: the log's id, first 1, durable and next $((count + 1)), max_record $max" \
	sh -c "grep -qx 'log_id $id' '$work/i1.out' && grep -qx 'first_lsn 1' '$work/i1.out' &&
	       grep -qx 'durable_lsn $((count + 1))' '$work/i1.out' &&
	       grep -qx 'next_lsn $((count + 1))' '$work/i1.out' &&
	       grep -qx 'max_record $max' '$work/i1.out' && grep -qx 'backend dir' '$work/i1.out'"
rctl ij info --server "$srv_ip:7070" --json
check "info --json: one JSON object with the same fields" \
	python3 -c 'import json, sys; i = json.load(open(sys.argv[1]))
assert (i["version"], i["backend"], i["port"], i["log_id"], i["first_lsn"], i["durable_lsn"],
        i["max_record"], i["max_read_bytes"]) == (1, "dir", 7070, sys.argv[2], 1, int(sys.argv[3]),
        int(sys.argv[4]), 262144), i' "$work/ij.out" "$id" $((count + 1)) "$max"

"$klogctl" dump --dir "$dir" --payload --json >"$work/local.json"
rctl remote dump --server "$srv_ip" --payload --json
check "dump --server --payload --json: exit 0" test "$rc" = 0
check "dump --server --payload --json: byte for byte dump --dir's ($count records)" \
	sh -c "test \$(wc -l <'$work/local.json') = $count && cmp -s '$work/local.json' '$work/remote.out'"
"$klogctl" dump --dir "$dir" --from 100 --to 130 >"$work/local.txt"
rctl part dump --server "$srv_ip" --from 100 --to 130
check "dump --server --from 100 --to 130: as dump --dir" cmp -s "$work/local.txt" "$work/part.out"
rctl rx export --server "$srv_ip" --from 100 --to 130 --output "$work/remote.kx"
"$klogctl" verify --file "$work/remote.kx" >"$work/rxv.out"
check "export --server: a clean export file, with the log's id from INFO" \
	sh -c "test $rc = 0 && grep -qF '31 records, LSNs 100..130, log id $id: clean' '$work/rxv.out'"
check "export --server, dump --file: as dump --dir" \
	sh -c "'$klogctl' dump --file '$work/remote.kx' | cmp -s - '$work/local.txt'"
same=1
for l in 1 2 77 $count; do
	"$klogctl" read --dir "$dir" "$l" >"$work/want"
	ctl read --server "$srv_ip" "$l" >"$work/got" && cmp -s "$work/want" "$work/got" || same=0
done
check "read --server: the bytes of LSNs 1, 2, 77 and $count" test "$same" = 1
ctl dump --server "[fd00:97::1]" --payload --json >"$work/remote6.out"
check "dump --server [fd00:97::1] (IPv6, the default port): byte for byte dump --dir's" \
	cmp -s "$work/local.json" "$work/remote6.out"
check "verify --server --count: every record bench sent, in order" \
	sh -c "ip netns exec '$cli' '$klogctl' verify --server '$srv_ip' --count $count \
		--size uniform:1:$max --seed 9 | grep -q 'verified $count records'"
rctl vs verify --server "$srv_ip"
check "verify --server without --count: refused (the files are the server's), status 2" \
	sh -c "test $rc = 2 && grep -q -- '--server checks the records bench sent' '$work/vs.err'"
rctl r1 read --server "$srv_ip" $((count + 1))
check "read past the end: not durable yet, the server and the LSN, exit 1" \
	sh -c "test $rc = 1 && grep -q 'LSN $((count + 1)): not durable yet: server $srv_ip: LSN $((count + 1)): the durable log ends before LSN $((count + 1))' '$work/r1.err'"
rctl two read --server "$srv_ip" --dir "$dir" 1
check "read --server with --dir: one source only, status 2" \
	sh -c "test $rc = 2 && grep -q 'one source' '$work/two.err'"

# --- tail -f ---------------------------------------------------------------------------
# follow FROM NAME: tail -f --server from LSN FROM in the background, klogctl's pid in tailpid
# (ip netns exec execs it: no shell in between to take the signal)
follow() {
	ip netns exec "$cli" "$klogctl" tail --server "$srv_ip" --from "$1" -f \
		>"$work/$2.out" 2>"$work/$2.err" &
	tailpid=$!
}
lines() { # lines FILE N: until FILE has N lines (20 s at most)
	for _ in $(seq 400); do [ "$(wc -l <"$work/$1")" -ge "$2" ] && return 0; sleep 0.05; done
	return 1
}
# appended_ok FILE FROM N: FILE holds LSNs FROM..FROM+N-1 as dump --dir --payload --json has them
appended_ok() {
	"$klogctl" dump --dir "$dir" --payload --json --from "$2" --to $(($2 + $3 - 1)) >"$work/want"
	cmp -s "$work/want" "$work/$1"
}
# unfollow SIGNAL NAME FROM N: stop tail -f with SIGNAL: status 0, LSNs FROM.. (N) byte for byte
unfollow() {
	kill -"$1" "$tailpid"
	wait "$tailpid"
	check "$2: SIG$1 ends tail -f with status 0" test "$?" = 0
	tailpid=
	check "$2: each record once, in order, byte for byte" appended_ok "$2.out" "$3" "$4"
}
next=$((count + 1))
follow $next tf
sleep 0.5
check "tail -f: nothing before records come" test ! -s "$work/tf.out"
for k in 1 2 3 4 5; do head -c $((k * 200)) /dev/urandom >"$work/rec$k"; done
ctl append --server "$srv_ip" --durable "$work"/rec1 "$work"/rec2 "$work"/rec3 "$work"/rec4 \
	"$work"/rec5 >/dev/null
check "tail -f --server: the 5 records appended after it started" lines tf.out 5
unfollow TERM tf $next 5
next=$((next + 5))

# --- RECORDs damaged on the way: the CRC-32C catches them ------------------------------
# Byte 100 of every answer's UDP payload set to 0x5a: inside the record's bytes, after
# the 8-byte UDP header, the 40-byte klog header and the 8 bytes of CRCs.
bad=$((next - 1)) # 1000 random bytes: byte 44 is not 0x5a, or the check below says so
damage() { # damage [MATCH]: nftables table klogbad sets that byte in the answers MATCH takes
	cli nft -f - <<NFT
table netdev klogbad {
	chain in {
		type filter hook ingress device "$vc" priority 0;
		udp sport 7070 ${1:-} @th,800,8 set 0x5a counter
	}
}
NFT
}
damage
check "LSN $bad's byte 44 is not 0x5a (else nftables would leave it as it is)" \
	test "$("$klogctl" read --dir "$dir" $bad | od -An -tx1 -j44 -N1 | tr -d ' ')" != 5a
rctl crc read --server "$srv_ip" $bad
check "a RECORD damaged every time: no answer, its CRC-32C named, exit 1" \
	sh -c "test $rc = 1 && grep -q 'LSN $bad: the server does not answer: .*(a RECORD failed its CRC-32C)' '$work/crc.err'"
check "the answers were damaged ($(nft_packets klogbad counter) datagrams)" \
	test "$(nft_packets klogbad counter)" -gt 10
cli nft delete table netdev klogbad

# --- trimmed ---------------------------------------------------------------------------
ctl bench --server "$srv_ip" --count 1500 --size "fixed:$max" --seed 8 --durable \
	--outstanding 32 >/dev/null 2>&1
next=$((next + 1500))
check "SIGTERM stops klogd" stop_klogd
check "the first segment removed, of several" drop_first_segment "$dir"
check "klogd starts on the log whose first segment was removed" \
	restart_adopting "$log" --dir "$dir" --segment-size 1M
rctl t1 read --server "$srv_ip" 5
check "read of a trimmed LSN: trimmed, the first kept ($second), exit 1" \
	sh -c "test $rc = 1 && grep -q 'LSN 5: trimmed (below the first record kept): server $srv_ip: LSN 5: the first record kept is LSN $second' '$work/t1.err'"
rctl t2 dump --server "$srv_ip"
check "dump --server after the trim: from LSN $second, as dump --dir" \
	sh -c "'$klogctl' dump --dir '$dir' | cmp -s - '$work/t2.out' && head -n 1 '$work/t2.out' | grep -q '^$second '"

# --- 10% loss each way ---------------------------------------------------------------
lossy_link klogloss 10
damage "numgen random mod 10 0"
check "nftables drops 10% each way on the client's veth, and damages 10% of the answers" \
	sh -c "ip netns exec '$cli' nft list table netdev klogloss | grep -q 'numgen random mod 10' &&
	       ip netns exec '$cli' nft list table netdev klogbad | grep -q 'numgen random mod 10'"
"$klogctl" dump --dir "$dir" --payload --json >"$work/local.json"
rctl lossy dump --server "$srv_ip" --payload --json
check "lossy: dump --server --payload --json exits 0" test "$rc" = 0
check "lossy: byte for byte dump --dir's ($(wc -l <"$work/local.json") records)" \
	cmp -s "$work/local.json" "$work/lossy.out"
follow $next tl
sleep 0.5
ctl bench --server "$srv_ip" --count 200 --size "uniform:1:$max" --seed 4 --durable \
	--outstanding 8 --timeout 50 --retries 100 >/dev/null 2>&1
check "lossy: tail -f --server follows 200 records appended meanwhile" lines tl.out 200
unfollow INT tl $next 200
dropped=$(nft_packets klogloss drop)
check "lossy: the link dropped datagrams ($dropped)" test "$dropped" -gt 100
check "lossy: and damaged answers ($(nft_packets klogbad counter))" \
	test "$(nft_packets klogbad counter)" -gt 50
cli nft delete table netdev klogloss
cli nft delete table netdev klogbad
check "klogd stops cleanly" stop_klogd
remove_log

# --- a log in a JetStream stream -----------------------------------------------------
nats=$work/nats
nats_start "$nats" || echo "# nats cluster did not start"
urls=$(nats_urls "$nats")
check "klogd --backend jetstream starts" start_klogd "$work/klogd-js.log" \
	--backend jetstream --nats "$urls" --stream remote --replicas 1
ctl bench --server "$srv_ip" --count 100 --size "uniform:1:$max" --seed 3 --durable \
	>/dev/null 2>&1
on_srv "$klogctl" dump --nats "$urls" --stream remote --payload --json >"$work/js.json"
rctl jsd dump --server "$srv_ip" --payload --json
check "stream: dump --server --payload --json is byte for byte dump --nats's (100 records)" \
	sh -c "test \$(wc -l <'$work/js.json') = 100 && cmp -s '$work/js.json' '$work/jsd.out'"
rctl jsi info --server "$srv_ip"
check "stream: info says backend jetstream, durable 101" \
	sh -c "grep -qx 'backend jetstream' '$work/jsi.out' && grep -qx 'durable_lsn 101' '$work/jsi.out'"
check "klogd (jetstream) stops cleanly" stop_klogd
finish
