#!/usr/bin/env bash
# Description: end-to-end integrity (doc/protocol.md, KLOG_F_CRC and CORRUPT;
# doc/format.md, "Tombstones"), with the real programs and klogd, and
# APPENDs built by hand from the document (rawappend.py):
#   - a durable APPEND whose CRC-32C is wrong, and one whose payload had a bit
#     flipped after its CRC was taken (the UDP checksum, computed by the
#     sending kernel over the bytes sent, holds: only the CRC can tell): the
#     client's durable answer is NACK CORRUPT with the LSN, never DURABLE;
#   - their LSNs hold tombstones: READ answers CORRUPT (alone and inside a
#     range, which goes on past them), klogctl read fails saying so, dump
#     marks them, verify counts and lists them, an export keeps them;
#   - the neighbours are intact and the LSNs gap-free; an APPEND without
#     KLOG_F_CRC is stored unchecked; klogctl's own appends (libklog, which
#     sets the flag) are stored;
#   - klog_ctl.corrupt_records counts them, klogd logs each and its stop
#     summary counts them; a QUERY of a tombstone's LSN and a retransmission
#     of its APPEND answer NACK CORRUPT (the programs' klog_corrupt map);
#   - the Python client raises Corrupt for its durable append when its bytes
#     do not match the CRC it sent, and for read() of it, and read_range()
#     marks it; klogctl append --durable (libklog) whose datagram nftables
#     changes in flight says which LSN holds the tombstone; an empty file is
#     refused before anything is sent;
#   - the same with the log in a JetStream stream.
# Usage: test-integrity.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
ra() { cli python3 "$here/rawappend.py" "$srv_ip" "$@"; }
rr() { cli python3 "$here/rawread.py" "$srv_ip" "$@"; }
pysrc=$here/../../bindings/python/src

# expect NAME WANT COMMAND...: the command's output is WANT (else shown)
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name"
		printf '# want: %s\n# got:  %s\n' "$want" "$got" | sed '2,$s/^/#   /'
	fi
}

# run_backend KIND SOURCE_ARGS...: the whole check against a klogd already started; the log
# is read where it is: a directory here, a stream from the server's namespace (NATS on its
# loopback)
run_backend() {
	local kind=$1 out
	shift
	src=("$@")
	printf 'first record' >"$work/first"
	expect "$kind: klogctl append --durable (libklog sets KLOG_F_CRC): stored at LSN 1" "1" \
		cli "$klogctl" append --server "$srv_ip" --durable "$work/first"
	expect "$kind: a wrong CRC-32C, durable: ACK+PENDING, then NACK CORRUPT for LSN 2" \
		"ACK 0 2 2"$'\n'"NACK 16 2" ra append 1001 "bytes that went bad" --crc=bad --durable
	expect "$kind: a good neighbour: DURABLE at LSN 3" "ACK 0 3 2"$'\n'"DURABLE 3" \
		ra append 1002 "the neighbour after" --durable
	expect "$kind: a bit flipped after the CRC, UDP checksum good: NACK CORRUPT for LSN 4" \
		"ACK 0 4 2"$'\n'"NACK 16 4" ra append 1003 "flipped in flight" --crc=flip --durable
	expect "$kind: without KLOG_F_CRC nothing is checked: DURABLE at LSN 5" \
		"ACK 0 5 2"$'\n'"DURABLE 5" ra append 1004 "no crc sent" --crc=none --durable
	check "$kind: LSN 5 durable" wait_durable_src 5
	expect "$kind: READ 2: a tombstone (RECORD of status CORRUPT, no bytes)" "CORRUPT 2 5 0 1" \
		rr read 2
	out=$(rr read 1 5 262144 0)
	expect "$kind: READ 1..5: records and tombstones in LSN order, none skipped" \
		"RECORD 1;CORRUPT 2;RECORD 3;CORRUPT 4;RECORD 5;" fields 1 2 "$out"
	expect "$kind: READ 1..5: the records' CRCs right (1), LAST (1) on LSN 5 only" \
		"1 0;0;1 0;0;1 1;" eval 'awk "{print \$1 == \"RECORD\" ? \$5 \" \" \$6 : \$5}" <<<"$out" | tr "\n" ";"'
	expect "$kind: klogctl read 1: the bytes sent" "first record" log_ctl read 1
	expect "$kind: klogctl read 3: the bytes sent" "the neighbour after" log_ctl read 3
	expect "$kind: klogctl read 5: the bytes sent" "no crc sent" log_ctl read 5
	expect "$kind: klogctl read 2 fails (1), a tombstone, no bytes" \
		"klogctl: LSN 2: a tombstone: the record's bytes were damaged before they were stored (corrupt)"$'\n'"1" \
		eval 'log_ctl read 2 2>&1 | sed "s/: LSN 2: txid 5, stored CRC 0x[0-9a-f]*: no bytes kept\$//"; echo "${PIPESTATUS[0]}"'
	expect "$kind: klogctl read --server 4 fails (1), a tombstone" \
		"klogctl: LSN 4: a tombstone: the record's bytes were damaged before they were stored (corrupt)"$'\n'"1" \
		eval 'cli "$klogctl" read --server "$srv_ip" 4 2>&1 | sed "s/: LSN 4: txid 5, stored CRC 0x[0-9a-f]*: no bytes kept\$//"; echo "${PIPESTATUS[0]}"'
	out=$(log_ctl dump 2>"$work/dump.err")
	expect "$kind: dump: LSNs 1..5, 2 and 4 of length 0 marked CORRUPT" \
		"1 12;2 0 CORRUPT;3 19;4 0 CORRUPT;5 11;" \
		eval 'awk "{print \$1, \$2 (\$5 ? \" \" \$5 : \"\")}" <<<"$out" | tr "\n" ";"'
	check "$kind: dump says how many tombstones" grep -q "klogctl dump: 2 tombstones" "$work/dump.err"
	expect "$kind: tail --from 2 (JSON lines, to the end): 2 and 4 corrupt, no payload" "2 CORRUPT;3 ;4 CORRUPT;5 ;" \
		eval 'log_ctl tail --from 2 2>/dev/null | sed -n "s/^{\"lsn\":\([0-9]*\),.*\"corrupt\":true}\$/\1 CORRUPT/p; s/^{\"lsn\":\([0-9]*\),.*\"payload\":\"[^\"]*\"}\$/\1 /p" | tr "\n" ";"'
	log_ctl tail --from 1 --raw >"$work/tail.kexp" 2>/dev/null
	expect "$kind: tail --raw keeps the tombstones: read --file 4 fails saying so" \
		"klogctl: LSN 4: a tombstone: the record's bytes were damaged before they were stored (corrupt)" \
		eval '"$klogctl" read --file "$work/tail.kexp" 4 2>&1 | sed "s/: LSN 4: txid 5, stored CRC 0x[0-9a-f]*: no bytes kept\$//"'
	out=$(log_ctl dump --json --payload 2>/dev/null | grep '"lsn":2,')
	check "$kind: dump --json: LSN 2 len 0, corrupt true, no payload" \
		eval '[[ "$out" == "{\"lsn\":2,\"txid\":5,\"len\":0,\"crc\":\"0x"????????"\",\"corrupt\":true}" ]]'
}

fields() { awk -v a="$1" -v b="$2" '{ printf "%s %s;", $a, $b }' <<<"$3"; } # fields I J TEXT

log_ctl() { # klogctl CMD SOURCE ARGS...: on the log run_backend was given
	local cmd=$1
	shift
	$on_log "$klogctl" "$cmd" "${src[@]}" "$@"
}

wait_durable_src() { # wait_durable_src LSN
	for _ in $(seq 200); do log_ctl read "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

# --- a log directory --------------------------------------------------------
on_log=
dir=$work/log log=$work/klogd.log
check "klogd starts" start_klogd "$log" --dir "$dir"
run_backend dir --dir "$dir"

out=$("$klogctl" verify --dir "$dir")
check "dir: verify: clean, 5 records, 2 tombstones, each listed" \
	eval '[[ "$out" == *"5 records, LSNs 1..5, 2 tombstones (CORRUPT), log id "*": clean" ]] &&
	      grep -q "offset [0-9]* LSN 2: tombstone" <<<"$out" &&
	      grep -q "offset [0-9]* LSN 4: tombstone" <<<"$out"'
check "dir: klog_ctl.corrupt_records is 2" test "$(ctl_map klog_ctl corrupt_records)" = 2
check "dir: klogd logged LSN 2's CRC mismatch" \
	grep -q "LSN 2 (client 77 request 1001, 19 bytes): CRC-32C 0x[0-9a-f]*, the client sent 0x[0-9a-f]*: stored as a tombstone" "$log"
expect "dir: QUERY of LSN 2 (the APPEND's ids): NACK CORRUPT" "NACK 16 2" ra query 1001 2
expect "dir: the APPEND of LSN 2 sent again: NACK CORRUPT" "NACK 16 2" \
	ra append 1001 "bytes that went bad" --crc=bad --durable
expect "dir: QUERY of LSN 3: DURABLE" "DURABLE 3" ra query 1002 3
check "dir: nack_corrupt counted the programs' answers" \
	eval '[ "$(ctl_map klog_stats nack_corrupt)" -ge 2 ]'

# The Python client, its CRC-32C made wrong: the durable append raises Corrupt with its LSN.
out=$(cli env PYTHONPATH="$pysrc" python3 - "$srv_ip" <<'PY' 2>&1
import sys
import klog
from klog import protocol
real = protocol.crc32c
protocol.crc32c = lambda b: real(b) ^ 0x80  # what a flipped bit does to the check
c = klog.Client(sys.argv[1])
try:
    print("DURABLE", c.append(b"python bytes", durable=True))
except klog.Corrupt as e:
    print("CORRUPT", e.lsn)
protocol.crc32c = real
print("DURABLE", c.append(b"python good", durable=True))
try:
    print("READ", c.read(6))
except klog.Corrupt as e:
    print("READ CORRUPT", e.lsn)
print("RANGE", " ".join(f"{r.lsn}:{int(r.corrupt)}:{r.payload.decode()}"
                        for r in c.read_range(5, 7)))
PY
)
expect "dir: Python client: Corrupt for LSN 6, a good append at 7; read(6) raises Corrupt, read_range marks it" \
	"CORRUPT 6"$'\n'"DURABLE 7"$'\n'"READ CORRUPT 6"$'\n'"RANGE 5:0:no crc sent 6:1: 7:0:python good" \
	echo "$out"
check "dir: klog_ctl.corrupt_records is 3" test "$(ctl_map klog_ctl corrupt_records)" = 3

# klogctl's own durable append (libklog) with its first payload byte changed on the wire by
# nftables on the client's way out: the CRC-32C it sent no longer matches.
cli nft -f - <<NFT
table netdev klogt_flip {
	chain out {
		type filter hook egress device "$vc" priority 0;
		udp dport 7070 @th,384,8 set 0x58 counter
	}
}
NFT
printf 'a record damaged in flight' >"$work/flip"
expect "dir: klogctl append --durable, a byte changed in flight: CORRUPT, LSN 8 named (1)" \
	"klogctl: $work/flip: LSN 8 holds a tombstone: the server's check of the bytes failed (CORRUPT): damaged on the way, not stored"$'\n'"1" \
	eval 'cli "$klogctl" append --server "$srv_ip" --durable "$work/flip" 2>&1; echo $?'
out=$(cli "$klogctl" bench --server "$srv_ip" --count 1 --size fixed:16 --durable 2>&1 >/dev/null
      echo "exit $?")
check "dir: klogctl bench --durable, a byte changed in flight: CORRUPT at LSN 9, exit 1" \
	eval '[[ "$out" == *"klogctl: record 0: LSN 9 holds a tombstone: the server'"'"'s check of the bytes failed (CORRUPT)"*"exit 1" ]]'
cli nft delete table netdev klogt_flip
out=$("$klogctl" verify --dir "$dir" --count 1 --size fixed:16 --from 9 --to 9 2>&1)
check "dir: klogctl verify --count of what bench sent reports the tombstone, exit 1" \
	eval '! "$klogctl" verify --dir "$dir" --count 1 --size fixed:16 --from 9 --to 9 >/dev/null 2>&1 &&
	      [[ "$out" == *"klogctl: LSN 9 (txid 0): a tombstone: the record'"'"'s bytes were damaged before they were stored (corrupt)"* ]]'
expect "dir: LSN 8 is a tombstone" \
	"klogctl: LSN 8: a tombstone: the record's bytes were damaged before they were stored (corrupt)" \
	eval '"$klogctl" read --dir "$dir" 8 2>&1 | sed "s/: LSN 8: txid 0, stored CRC 0x[0-9a-f]*: no bytes kept\$//"'

: >"$work/empty"
expect "dir: klogctl append of an empty file: refused before sending (1)" \
	"klogctl: $work/empty: empty: a record is 1 byte at least (the server refuses an empty one, BADLEN)"$'\n'"1" \
	eval 'cli "$klogctl" append --server "$srv_ip" "$work/empty" 2>&1; echo $?'
check "dir: nothing appended for it: the next LSN is still 10" \
	test "$(ctl_map klog_ctl next_lsn)" = 10

"$klogctl" export --dir "$dir" --output "$work/x.kexp" 2>"$work/export.err"
check "dir: export of LSNs 1..9 written" test -s "$work/x.kexp"
out=$("$klogctl" read --file "$work/x.kexp" 2 2>&1)
check "dir: the export keeps the tombstone: read 2 fails saying so" \
	eval '[[ "$out" == "klogctl: LSN 2: a tombstone"* ]]'
expect "dir: the export: read 3, the bytes sent" "the neighbour after" \
	"$klogctl" read --file "$work/x.kexp" 3
out=$("$klogctl" verify --file "$work/x.kexp")
check "dir: verify --file: clean, 5 tombstones" \
	eval '[[ "$out" == *"9 records, LSNs 1..9, 5 tombstones (CORRUPT), log id "*": clean" ]]'

check "dir: klog_ctl.corrupt_records is 5" test "$(ctl_map klog_ctl corrupt_records)" = 5
check "dir: klogd stops cleanly" stop_klogd
check "dir: its stop summary counts 5 tombstones" grep -q "in [0-9]* commits, 5 tombstones" "$log"
# The tombstones are durable and out of the kernel log: a restarted klogd's
# programs must still know them (klog_corrupt is pinned with the log).
check "dir: klogd restarts, adopting the pinned log" restart_adopting "$log" --dir "$dir"
expect "dir: after the restart, QUERY of LSN 2: still NACK CORRUPT" "NACK 16 2" ra query 1001 2
check "dir: klogd stops cleanly again" stop_klogd
remove_log

# --- a JetStream stream -----------------------------------------------------
nats=$work/nats
nats_start "$nats" || echo "# nats cluster did not start"
urls=$(nats_urls "$nats")
check "klogd --backend jetstream starts" start_klogd "$work/klogd-js.log" \
	--backend jetstream --nats "$urls" --stream integrity --replicas 1
on_log=on_srv
run_backend js --nats "$urls" --stream integrity
out=$(on_srv "$klogctl" verify --nats "$urls" --stream integrity)
check "js: verify: clean, 5 records, 2 tombstones" \
	eval '[[ "$out" == *"5 records, LSNs 1..5, 2 tombstones (CORRUPT), log id "*": clean" ]]'
check "js: klog_ctl.corrupt_records is 2" test "$(ctl_map klog_ctl corrupt_records)" = 2
expect "js: QUERY of LSN 4: NACK CORRUPT" "NACK 16 4" ra query 1003 4
check "js: klogd stops cleanly" stop_klogd
check "js: its stop summary counts 2 tombstones" \
	grep -q "in [0-9]* commits, 2 tombstones" "$work/klogd-js.log"
finish
