#!/bin/bash
# test-klogctl.sh KLOGCTL MKLOG - klogctl read, dump and verify on logs mklog
# writes (segments of 20 records: LSNs 1-20, 21-40, ...) and this script
# damages: exit statuses and messages, which must name the file, offset and
# LSN; 2,000 segments under a limit of 64 descriptors; dump --json and tail
# (JSON lines, payloads byte for byte), and tail -f woken by records made
# durable the way klogd does (index entries written, a segment renamed in);
# export files written by klogctl export, read back with --file and
# damaged.  TAP output.
set -u
klogctl=$1 mklog=$2
# shellcheck source=tests/unit/tap.sh
. "$(dirname "$0")/tap.sh"
work=$(mktemp -d /var/tmp/klog-test-klogctl-XXXXXX)
trap 'rm -rf "$work"' EXIT

seg() { printf '%s/%020d.%s' "$1" "$2" "${3:-klog}"; } # seg DIR FIRST [idx]
entry() { # entry DIR LSN: the index entry of LSN (segments of 20)
	python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(8*int(sys.argv[2])); print(struct.unpack("<Q",f.read(8))[0])' \
		"$(seg "$1" $(( ($2 - 1) / 20 * 20 + 1 )) idx)" $(( ($2 - 1) % 20 ))
}
xframe() { # xframe FILE LSN: the offset of LSN's frame in an export (doc/format.md)
	python3 -c 'import struct,sys
f=open(sys.argv[1],"rb"); d=f.read(); off=40; lsn=struct.unpack_from("<Q",d,16)[0]
while lsn < int(sys.argv[2]): off += (32 + struct.unpack_from("<I",d,off+4)[0] + 7) & ~7; lsn += 1
print(off)' "$1" "$2"
}
flip() { # flip FILE OFFSET: one bit of the byte at OFFSET
	python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^1]))' "$1" "$2"
}

# A clean log.
d=$work/clean
"$mklog" "$d" 5 20 || { echo "Bail out! mklog failed"; exit 1; }
: >"$d/klog.meta"; : >"$d/klogd.lock"
run clean verify --dir "$d"
check "verify: a clean log exits 0" test "$rc" = 0
check "verify: the summary counts segments, records, LSNs and the log id" \
	has clean.out "5 segments, 100 records, LSNs 1..100, log id 0x0000000000010c1d: clean"
run dump dump --dir "$d"
check "dump: a clean log, every record, exit 0" test "$rc" = 0 -a "$(wc -l <"$work/dump.out")" = 100
run rd read --dir "$d" 47
check "read: a clean record, exit 0" test "$rc" = 0 -a "$(wc -c <"$work/rd.out")" = 11
check "--help lists verify's options" sh -c "'$klogctl' --help | grep -q -- '--keep-going'"

# A middle segment's index missing.
d=$work/noidx
"$mklog" "$d" 5 20 && rm "$(seg "$d" 21 idx)"
run dump dump --dir "$d"
check "dump: a missing index stops it with exit 1" test "$rc" = 1
check "dump: printed what came before" test "$(wc -l <"$work/dump.out")" = 20
check "dump: says where it stopped" has dump.err "stopped at LSN 21 after 20 records"
check "dump: names the missing file" has dump.err "$(seg "$d" 21 idx)"
run rd read --dir "$d" 25
check "read: a missing index is not 'not durable yet'" \
	sh -c "test $rc = 1 && grep -q 'LSN 25: missing from the log' '$work/rd.err'"
run verify verify --dir "$d"
check "verify: a missing index, exit 1, named with its LSN" \
	sh -c "test $rc = 1 && grep -qF '$(seg "$d" 21 idx) LSN 21: cannot open' '$work/verify.out'"

# read's four answers.
d=$work/four
"$mklog" "$d" 5 20 && rm "$(seg "$d" 1)" "$(seg "$d" 1 idx)" "$(seg "$d" 61 idx)"
off=$(entry "$d" 47)
flip "$(seg "$d" 41)" $((off + 40))
run r1 read --dir "$d" 5
check "read: trimmed" sh -c "test $rc = 1 && grep -q 'LSN 5: trimmed' '$work/r1.err'"
run r2 read --dir "$d" 101
check "read: not durable yet" sh -c "test $rc = 1 && grep -q 'LSN 101: not durable yet' '$work/r2.err'"
run r3 read --dir "$d" 65
check "read: missing" sh -c "test $rc = 1 && grep -q 'LSN 65: missing from the log' '$work/r3.err'"
run r4 read --dir "$d" 47
check "read: corrupt, with file, offset, LSN and CRCs" \
	sh -c "test $rc = 1 && grep -qE 'LSN 47: corrupt on disk: .*$(seg "$d" 41) offset $off LSN 47: CRC 0x[0-9a-f]{8} expected 0x' '$work/r4.err'"

# Several problems: a CRC, a gap, another log id.
d=$work/multi
"$mklog" "$d" 6 20 && "$mklog" "$work/other" 6 20 0x5eed || exit 1
off=$(entry "$d" 7)
flip "$(seg "$d" 1)" $((off + 40))
rm "$(seg "$d" 41)" "$(seg "$d" 41 idx)"
cp "$(seg "$work/other" 81)" "$(seg "$d" 81)"
run v1 verify --dir "$d"
check "verify: stops at the first problem" \
	sh -c "test $rc = 1 && test \$(grep -c ' LSN ' '$work/v1.out') = 1"
check "verify: the CRC, at its file, offset and LSN" has v1.out "$(seg "$d" 1) offset $off LSN 7: CRC 0x"
check "verify: the summary says it stopped" has v1.out "1 problem (stopped at the first"
run v2 verify --dir "$d" --keep-going
check "verify --keep-going: lists all three, exit 1" \
	sh -c "test $rc = 1 && test \$(grep -c ' LSN ' '$work/v2.out') = 3"
check "verify --keep-going: the gap" has v2.out "$(seg "$d" 61) LSN 41: gap: no segment holds LSNs 41..60"
check "verify --keep-going: the other log id" \
	has v2.out "$(seg "$d" 81) offset 32 LSN 81: log id 0x0000000000005eed expected 0x0000000000010c1d"
check "verify --keep-going: the summary" has v2.out "5 segments, 100 records, LSNs 1..120, log id 0x0000000000010c1d: 3 problems"

# Export files: written from a log, read back and checked with --file.
d=$work/clean x=$work/all.kx
run ex export --dir "$d" --output "$x"
check "export: a whole log, exit 0" test "$rc" = 0
run vx verify --file "$x"
check "verify --file: a clean export, its range and log id" \
	sh -c "test $rc = 0 && grep -qF '$x, 100 records, LSNs 1..100, log id 0x0000000000010c1d: clean' '$work/vx.out'"
run dx dump --file "$x"
run dd dump --dir "$d"
check "dump --file: the same lines as dump --dir" \
	sh -c "test $rc = 0 && test \$(wc -l <'$work/dx.out') = 100 && cmp -s '$work/dx.out' '$work/dd.out'"
run rx read --file "$x" 47
run rd read --dir "$d" 47
check "read --file: the same payload as read --dir" \
	sh -c "test $rc = 0 && cmp -s '$work/rx.out' '$work/rd.out'"
check "export to a pipe, a sub-range: verify --file counts it" \
	sh -c "'$klogctl' export --dir '$d' --from 30 --to 50 | cat >'$work/sub.kx' &&
	       '$klogctl' verify --file '$work/sub.kx' | grep -qF '21 records, LSNs 30..50'"
run rs read --file "$work/sub.kx" 29
check "read --file: below the export" sh -c "test $rc = 1 && grep -q 'LSN 29: below the export' '$work/rs.err'"
check "export: refuses a terminal" \
	sh -c "script -qec \"'$klogctl' export --dir '$d'\" /dev/null | grep -q 'standard output is a terminal'"
run et export --dir "$d" --from 90 --to 120 --output "$work/long.kx"
check "export: --to past the log, exit 1 naming the LSN" \
	sh -c "test $rc = 1 && grep -q 'LSN 101 .*not durable yet' '$work/et.err'"
run vt verify --file "$work/long.kx"
check "verify --file: the export cut short has no trailer" \
	sh -c "test $rc = 1 && grep -qF 'LSN 101: no trailer: the export was cut short at LSN 101' '$work/vt.out'"
cp "$x" "$work/bad.kx"
off=$(xframe "$work/bad.kx" 47)
flip "$work/bad.kx" $((off + 32))
run vb verify --file "$work/bad.kx"
check "verify --file: a corrupt export, exit 1, the line names offset and LSN" \
	sh -c "test $rc = 1 && grep -qE '^$work/bad.kx offset $off LSN 47: frame: CRC 0x' '$work/vb.out'"
run db dump --file "$work/bad.kx"
check "dump --file: stops at the damage, exit 1" \
	sh -c "test $rc = 1 && grep -q 'stopped at LSN 47 after 46 records: corrupt in the export file: .*offset $off LSN 47' '$work/db.err'"
d=$work/xdamaged
"$mklog" "$d" 5 20 || exit 1
flip "$(seg "$d" 41)" $(( $(entry "$d" 47) + 40 ))
run ed export --dir "$d" --output "$work/damaged.kx"
check "export: a corrupt record in the range, exit 1 naming its LSN" \
	sh -c "test $rc = 1 && grep -q 'LSN 47 .*corrupt on disk: .*$(seg "$d" 41) offset' '$work/ed.err'"

# 2,000 segments, 64 descriptors.
d=$work/many
"$mklog" "$d" 2000 5 || exit 1
check "dump: 2,000 segments under ulimit -n 64" \
	sh -c "ulimit -n 64 && '$klogctl' dump --dir '$d' >'$work/many.out' && test \$(wc -l <'$work/many.out') = 10000"
check "verify: 2,000 segments under ulimit -n 64" \
	sh -c "ulimit -n 64 && '$klogctl' verify --dir '$d' | grep -q '2000 segments, 10000 records, LSNs 1..10000'"

# --- JSON lines: dump --json [--payload], tail [-f] ---------------------------
# json_ok FILE FIRST LAST PAYLOAD: FILE holds LSNs FIRST..LAST as JSON lines, each
# record's txid, length and (if PAYLOAD is 1, decoded from base64) bytes as mklog
# wrote them (tests/lib/logbuild.c), its crc as dump's text line says.
json_ok() {
	python3 - "$work/$1" "$2" "$3" "$4" "$work/dump-text" <<'PY'
import base64, json, sys
path, first, last, payload, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
crc = {int(l.split()[0]): l.split()[3] for l in open(text)}
lines = open(path).read().splitlines()
assert len(lines) == last - first + 1, f"{len(lines)} lines, {last - first + 1} wanted"
for lsn, line in zip(range(first, last + 1), lines):
    r = json.loads(line)
    keys = ["lsn", "txid", "len", "crc"] + (["payload"] if payload else [])
    assert list(r) == keys, f"LSN {lsn}: keys {list(r)}"
    n = lsn * 37 % 96
    assert (r["lsn"], r["txid"], r["len"]) == (lsn, lsn + 1000, n), f"LSN {lsn}: {line}"
    assert r["crc"] == "0x" + crc[lsn], f"LSN {lsn}: crc {r['crc']}, dump says {crc[lsn]}"
    if payload:
        want = bytes((lsn * 131 + k * 7) & 0xff for k in range(n))
        assert base64.b64decode(r["payload"], validate=True) == want, f"LSN {lsn}: payload"
PY
}
d=$work/json
"$mklog" "$d" 2 20 || exit 1
"$klogctl" dump --dir "$d" >"$work/dump-text"
run dj dump --dir "$d" --json --payload
check "dump --json --payload: exit 0" test "$rc" = 0
check "dump --json --payload: LSNs 1..40, fields in order, payloads byte for byte" json_ok dj.out 1 40 1
run dn dump --dir "$d" --json --from 5 --to 9
check "dump --json: LSNs 5..9, no payload without --payload" json_ok dn.out 5 9 0
run dp dump --dir "$d" --payload --to 3
check "dump --payload: the base64 payload after the text fields" \
	test "$(sed -n 1p "$work/dp.out")" = "$(sed -n 1p "$work/dump-text") g4qRmJ+mrbS7wsnQ197l7PP6AQgPFh0kKzI5QEdOVVxjanF4fw=="
run tl tail --dir "$d" --from 35
check "tail --from 35: exit 0 at the durable end" test "$rc" = 0
check "tail --from 35: LSNs 35..40 with their payloads" json_ok tl.out 35 40 1
run ta tail --dir "$d"
check "tail: from the first record kept" json_ok ta.out 1 40 1
t=$work/trimmed
mkdir "$t" && cp "$(seg "$d" 21)" "$(seg "$d" 21 idx)" "$t/" # LSNs 1..20 trimmed
run tt tail --dir "$t" --from 5
check "tail --from a trimmed LSN: exit 1, says trimmed, prints nothing" \
	sh -c "test $rc = 1 && grep -q 'trimmed' '$work/tt.err' && test ! -s '$work/tt.out'"
run tk tail --dir "$t"
check "tail without --from: from the first kept (21)" test "$(head -c 9 "$work/tk.out")" = '{"lsn":21'
run tx tail --dir "$d" --nats nats://x --stream s
check "tail: one source only (status 2)" sh -c "test $rc = 2 && grep -q 'one source' '$work/tx.err'"

# tail -f: klogd makes a record durable by writing its index entry, and starts a
# segment; here the files mklog wrote come in the same way.
f=$work/follow
mkdir "$f"
cp "$(seg "$d" 1)" "$f/"
head -c 80 "$(seg "$d" 1 idx)" >"$(seg "$f" 1 idx)" # 10 of its 20 records durable
"$klogctl" tail --dir "$f" -f >"$work/tf.out" 2>"$work/tf.err" &
tailpid=$!
lines() { # lines N: until tail -f has printed N lines (5 s at most)
	for _ in $(seq 100); do [ "$(wc -l <"$work/tf.out")" -ge "$1" ] && return 0; sleep 0.05; done
	return 1
}
check "tail -f: the 10 durable records" lines 10
sleep 0.3
check "tail -f: not the records not durable yet" test "$(wc -l <"$work/tf.out")" = 10
cp "$(seg "$d" 1 idx)" "$(seg "$f" 1 idx)"
check "tail -f: index entries written wake it: LSNs 11..20" lines 20
cp "$(seg "$d" 21 idx)" "$(seg "$f" 21 idx)"
cp "$(seg "$d" 21)" "$f/new.tmp" && mv "$f/new.tmp" "$(seg "$f" 21)"
check "tail -f: a new segment wakes it: LSNs 21..40" lines 40
kill -TERM "$tailpid"
wait "$tailpid"
check "tail -f: SIGTERM ends it with status 0" test "$?" = 0
check "tail -f: every record once, in order, byte for byte" json_ok tf.out 1 40 1

# tail --raw: an export file, open-ended; complete once tail ends cleanly.
run tr tail --dir "$d" --from 3 --raw
check "tail --raw: exit 0" test "$rc" = 0
check "tail --raw: a complete export file (verify --file)" \
	sh -c "'$klogctl' verify --file '$work/tr.out' >/dev/null"
"$klogctl" dump --file "$work/tr.out" --json --payload >"$work/tr.json"
check "tail --raw: LSNs 3..40, byte for byte (dump --file)" json_ok tr.json 3 40 1
"$klogctl" tail --dir "$f" -f --raw >"$work/trf.out" 2>"$work/trf.err" &
tailpid=$!
sleep 0.5
kill -TERM "$tailpid"
wait "$tailpid"
check "tail -f --raw: SIGTERM ends it with status 0" test "$?" = 0
check "tail -f --raw: ended with a trailer: a complete file of LSNs 1..40" \
	sh -c "'$klogctl' verify --file '$work/trf.out' | grep -q 'LSNs 1..40'"
check "tail --raw: refuses a terminal" \
	sh -c "script -qec \"'$klogctl' tail --dir '$d' --raw\" /dev/null | grep -q 'standard output is a terminal'"

echo "1..$n"
exit $failed
