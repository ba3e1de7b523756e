#!/bin/bash
# test-klogctl-nats.sh KLOGCTL MKSTREAM - klogctl read, dump, verify and
# export with --nats URL --stream NAME, on streams mkstream writes (records 1..N, log id
# 0x10c1d) in a nats-server this script starts on a free port and stops on
# exit: the same output as for a directory, the reader's answers (trimmed,
# not durable yet, corrupt, missing, not a klog log, unreachable) and the
# usage errors.  Needs nats-server in PATH.  TAP output.
set -u
klogctl=$1 mkstream=$2
# shellcheck source=tests/unit/tap.sh
. "$(dirname "$0")/tap.sh"
work=$(mktemp -d /var/tmp/klog-test-klogctl-nats-XXXXXX)
server=
# shellcheck disable=SC2317 # the trap calls it
stop() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi
	rm -rf "$work"
}
trap stop EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port=$(free_port)
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/js" >"$work/server.log" 2>&1 &
server=$!
url=nats://127.0.0.1:$port
for _ in $(seq 100); do
	"$mkstream" "$url" clean 100 2>/dev/null && break
	sleep 0.1
done
"$klogctl" read --nats "$url" --stream clean 1 >/dev/null 2>&1 || { echo "Bail out! no nats-server"; exit 1; }
src=(--nats "$url" --stream)

run clean verify "${src[@]}" clean
check "verify: a clean stream exits 0" test "$rc" = 0
check "verify: the summary names the stream, records, LSNs and the log id" \
	has clean.out "stream clean, 100 records, LSNs 1..100, log id 0x0000000000010c1d: clean"
run dump dump "${src[@]}" clean
check "dump: every record, exit 0" test "$rc" = 0 -a "$(wc -l <"$work/dump.out")" = 100
check "dump: LSN, length, txid, CRC-32C as for a directory" \
	sh -c "grep -qE '^47 [0-9]+ 1047 [0-9a-f]{8}$' '$work/dump.out'"
run dump2 dump "${src[@]}" clean --from 90 --to 95
check "dump --from --to" test "$rc" = 0 -a "$(wc -l <"$work/dump2.out")" = 6
run rd read "${src[@]}" clean 47
check "read: a clean record, exit 0" sh -c "test $rc = 0 && test -s '$work/rd.out'"
check "--help shows --nats and --stream" sh -c "'$klogctl' --help | grep -q -- '--nats URL'"
run ex export "${src[@]}" clean --output "$work/clean.kx"
run vx verify --file "$work/clean.kx"
check "export: a stream into a file, with the stream's log id" \
	sh -c "test $rc = 0 && grep -qF '100 records, LSNs 1..100, log id 0x0000000000010c1d: clean' '$work/vx.out'"
run dx dump --file "$work/clean.kx"
check "dump --file of the stream's export: dump's lines" cmp -s "$work/dx.out" "$work/dump.out"

# Trimmed, corrupt, another salt.
"$mkstream" "$url" damaged 100 flip 47 salt 60 purge 11 || exit 1
run r1 read "${src[@]}" damaged 5
check "read: trimmed" sh -c "test $rc = 1 && grep -q 'LSN 5: trimmed.*stream damaged: sequence 5' '$work/r1.err'"
run r2 read "${src[@]}" damaged 101
check "read: not durable yet" sh -c "test $rc = 1 && grep -q 'LSN 101: not durable yet' '$work/r2.err'"
run r3 read "${src[@]}" damaged 47
check "read: corrupt, with stream, sequence and CRCs" \
	sh -c "test $rc = 1 && grep -qE 'LSN 47: corrupt in the stream: stream damaged sequence 47: CRC 0x[0-9a-f]{8} expected' '$work/r3.err'"
run d1 dump "${src[@]}" damaged
check "dump: starts at the first kept, stops at the corrupt one" \
	sh -c "test $rc = 1 && test \$(wc -l <'$work/d1.out') = 36 && head -1 '$work/d1.out' | grep -q '^11 '"
check "dump: says where it stopped" has d1.err "stopped at LSN 47 after 36 records: corrupt in the stream"
run v1 verify "${src[@]}" damaged
check "verify: stops at the first problem" \
	sh -c "test $rc = 1 && test \$(grep -c ' LSN ' '$work/v1.out') = 1"
check "verify: the CRC, with the stream and LSN" has v1.out "stream damaged LSN 47: CRC 0x"
run v2 verify "${src[@]}" damaged --keep-going
check "verify --keep-going: both, exit 1" sh -c "test $rc = 1 && test \$(grep -c ' LSN ' '$work/v2.out') = 2"
check "verify --keep-going: the other salt" has v2.out "stream damaged LSN 60: salt"
check "verify --keep-going: the summary" \
	has v2.out "stream damaged, 90 records, LSNs 11..100, log id 0x0000000000010c1d: 2 problems"

# Not a klog stream, no stream, no server.
"$mkstream" "$url" plain 3 plain || exit 1
run p1 read "${src[@]}" plain 1
check "read: a stream without klog's description" \
	sh -c "test $rc = 1 && grep -q 'LSN 1: not a klog log: stream plain is not a klog log' '$work/p1.err'"
run p2 verify "${src[@]}" plain
check "verify: a stream without klog's description is a problem" \
	sh -c "test $rc = 1 && grep -q 'not a klog log' '$work/p2.out'"
run m1 read "${src[@]}" nosuch 1
check "read: no such stream" sh -c "test $rc = 1 && grep -q 'LSN 1: missing from the log (no such stream' '$work/m1.err'"
run m2 verify "${src[@]}" nosuch
check "verify: no such stream, exit 1" sh -c "test $rc = 1 && grep -q 'stream nosuch: missing' '$work/m2.err'"
down=nats://127.0.0.1:$(free_port)
run u1 read --nats "$down" --stream clean 1
check "read: no server answers, named" \
	sh -c "test $rc = 1 && grep -qF 'LSN 1: the NATS cluster does not answer: stream clean at $down' '$work/u1.err'"
run u2 dump --nats "$down" --stream clean
check "dump: no server answers, exit 1" test "$rc" = 1

# Usage errors: exit 2.
run e1 read --nats "$url" 1
check "usage: --nats without --stream" sh -c "test $rc = 2 && grep -q 'go together' '$work/e1.err'"
run e2 dump --dir "$work" --nats "$url" --stream clean
check "usage: --dir and --nats" sh -c "test $rc = 2 && grep -q 'one source: --dir, --nats with --stream, --server, or --file' '$work/e2.err'"
run e3 verify --stream clean
check "usage: --stream without --nats" test "$rc" = 2
run e4 read 1
check "usage: no source" sh -c "test $rc = 2 && grep -q 'is required' '$work/e4.err'"
run e5 read "${src[@]}" 'bad.name' 1
check "a bad stream name" sh -c "test $rc = 1 && grep -q 'Invalid argument' '$work/e5.err'"

echo "1..$n"
exit $failed
