#!/bin/bash
# test-cli.sh KLOGCTL MKLOG KLOGD - the command line of klogctl and klogd:
# numbers decimal only (the octal regression: a segment's zero-padded name
# given to --from), ports 1..65535, `klogctl CMD --help` per command, the
# same exit statuses in every command (0 done, 1 failed, 2 usage), errors
# that name the argument and what it may be, and a host that does not
# resolve said as such.  Nothing here needs a running klogd (FULL for real
# is tests/integration/test-cli.sh).  TAP output.
set -u
klogctl=$1 mklog=$2 klogd=$3
# shellcheck source=tests/unit/tap.sh
. "$(dirname "$0")/tap.sh"
work=$(mktemp -d /var/tmp/klog-test-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
max=18446744073709551615

# --- The octal regression: 5,400 records in segments of 200 ----------------
d=$work/log
"$mklog" "$d" 27 200 || { echo "Bail out! mklog failed"; exit 1; }
run oct dump --dir "$d" --from 00000000000000005264
check "dump --from 00000000000000005264: LSN 5264 first (base 0 read 2740)" \
	test "$rc" = 0 -a "$(head -n1 "$work/oct.out" | cut -d' ' -f1)" = 5264
check "dump --from 00000000000000005264: every record to the end (137)" \
	test "$(wc -l <"$work/oct.out")" = 137
seg=$(basename "$(find "$d" -name '*.klog' | sort | sed -n 27p)" .klog)
run seg dump --dir "$d" --from "$seg" --to "$seg"
check "dump --from/--to a segment's name ($seg): that segment's first LSN" \
	test "$rc" = 0 -a "$(cut -d' ' -f1 "$work/seg.out")" = 5201
run rd0 read --dir "$d" 00000000000000005264
run rd read --dir "$d" 5264
check "read 00000000000000005264 is read 5264" \
	sh -c "test $rc = 0 && cmp -s '$work/rd0.out' '$work/rd.out' && test -s '$work/rd.out'"
run tl tail --dir "$d" --from 0000000000005399
check "tail --from 0000000000005399: LSNs 5399 and 5400" \
	test "$rc $(grep -o '"lsn":[0-9]*' "$work/tl.out" | tr '\n' ' ')" = '0 "lsn":5399 "lsn":5400 '
run xp export --dir "$d" --from 0005000 --to 0005009 --output "$work/x.klogx"
run xv dump --file "$work/x.klogx"
check "export --from 0005000 --to 0005009: LSNs 5000..5009" \
	test "$(cut -d' ' -f1 "$work/xv.out" | tr '\n' ' ')" = "5000 5001 5002 5003 5004 5005 5006 5007 5008 5009 "

# --- Numbers: decimal only, each refusal names the argument and the range ---
# bad NAME WANT ARGS...: exit 2, nothing on standard output, WANT on standard error
bad() {
	local name=$1 want=$2
	shift 2
	run "$name" "$@"
	if [ "$rc" = 2 ] && [ ! -s "$work/$name.out" ] && has "$name.err" "$want"; then
		ok "klogctl $*: exit 2, '$want'"
	else
		not_ok "klogctl $*: exit 2, '$want' (exit $rc)"
		sed 's/^/# /' "$work/$name.err"
	fi
}
bad n1 "--from '0x1490': not a decimal number: 0..$max" dump --dir "$d" --from 0x1490
bad n2 "--to '-1': not a decimal number: 0..$max" dump --dir "$d" --to -1
bad n3 "--to ' 5': not a decimal number" export --dir "$d" --to ' 5' --output "$work/n3"
bad n4 "LSN '0x10': not a decimal number: 1..$max" read --dir "$d" 0x10
bad n5 "LSN '0': out of range: 1..$max" read --dir "$d" 0
bad n6 "--from '+5': not a decimal number" tail --dir "$d" --from +5
bad n7 "--txid '1e3': not a decimal number: 0..$max" append --server 127.0.0.1 --txid 1e3 -
bad n8 "--count '0x10': not a decimal number: 1..$max" bench --server 127.0.0.1 --count 0x10
bad n9 "--count '0': out of range: 1..$max" bench --server 127.0.0.1 --count 0
bad n10 "--outstanding '65': out of range: 1..64" bench --server 127.0.0.1 --count 1 --outstanding 65
bad n11 "--clients '0100': out of range: 1..64" bench --server 127.0.0.1 --count 1 --clients 0100
bad n12 "--timeout (ms) '0': out of range: 1..60000" bench --server 127.0.0.1 --count 1 --timeout 0
bad n13 "--retries '60001': out of range: 0..60000" bench --server 127.0.0.1 --count 1 --retries 60001
bad n14 "--size 'fixed:0x10'" bench --server 127.0.0.1 --count 1 --size fixed:0x10
bad n15 "--size 'uniform:9:8'" bench --server 127.0.0.1 --count 1 --size uniform:9:8
bad n16 "--seed '010x'" verify --dir "$d" --count 1 --seed 010x
bad n17 "--from '0': out of range: 1..$max" verify --dir "$d" --count 1 --from 0
bad n18 "10.0.0.0/33: not an IPv4 or IPv6 address" allow add --name cli-no-such 10.0.0.0/33
run n19 bench --server 127.0.0.1 --count 1 --size fixed:0016 --outstanding 010 --help
check "leading zeros in bench's numbers are decimal (fixed:0016, 010: taken)" test "$rc" = 0

# --- Ports: 1..65535 wherever a server is given ------------------------------
for arg in "append --server 127.0.0.1:0 -" "append --server 127.0.0.1:65536 -" \
	"info --server [::1]:70000" "dump --server 127.0.0.1:0x1f90" \
	"read --server localhost:-1 1" "tail --server 127.0.0.1:" \
	"export --server 127.0.0.1:99999 --output $work/p" \
	"bench --server 127.0.0.1:0 --count 1" "verify --server 127.0.0.1:65536 --count 1" \
	"bench --server 127.0.0.1 --count 1 --dir $d --server 127.0.0.1:0"; do
	# shellcheck disable=SC2086 # the words of one command
	set -- $arg
	bad port "1..65535" "$@"
	check "klogctl $1: the message names --server and its value" \
		grep -q -- "--server '" "$work/port.err"
done
run p1 info --server 127.0.0.1:65535 --help
check "port 65535 is taken" test "$rc" = 0

# --- Per-command --help and usage errors -------------------------------------
cmds="append read dump export tail info bench verify allow bind"
for c in $cmds; do
	run "h-$c" "$c" --help
	others=$(grep -cE "^(usage: |       )klogctl " "$work/h-$c.out")
	check "klogctl $c --help: exit 0, its usage first, no other command's" \
		sh -c "test $rc = 0 && head -n1 '$work/h-$c.out' | grep -q '^usage: klogctl $c ' &&
			! grep -E '^(usage: |       )klogctl ' '$work/h-$c.out' | grep -vq 'klogctl $c '"
	check "klogctl $c --help: what it does, and the exit statuses ($others synopsis lines)" \
		sh -c "grep -q '^$c  *[a-z]' '$work/h-$c.out' &&
			grep -q '^Exit status: 0 done; 1 the operation failed' '$work/h-$c.out' &&
			grep -q '^2 a usage error' '$work/h-$c.out' && test ! -s '$work/h-$c.err'"
	run "hs-$c" "$c" -h
	check "klogctl $c -h is --help" cmp -s "$work/h-$c.out" "$work/hs-$c.out"
	run "u-$c" "$c" --no-such-option
	check "klogctl $c --no-such-option: exit 2, its usage on standard error" \
		sh -c "test $rc = 2 && grep -q '^usage: klogctl $c ' '$work/u-$c.err' &&
			test ! -s '$work/u-$c.out'"
	check "klogctl $c --no-such-option: named, after 'klogctl $c'" \
		has "u-$c.err" "klogctl $c: unrecognized option '--no-such-option'"
done
check "klogctl dump --help says what SOURCE is" has h-dump.out "SOURCE  where the log is read"
check "klogctl append --help names FULL's words" has h-append.out "log full (klogd behind or stopped)"
# Missing or extra arguments: usage errors too.
for arg in "append" "append --server 127.0.0.1" "read --dir $d" "read --dir $d 1 2" \
	"dump" "dump --dir $d extra" "export --dir $d extra" "tail --dir $d extra" "info" \
	"info --server 127.0.0.1 extra" "bench --count 1" "verify --dir $d extra" "verify" \
	"allow" "allow frob 10.0.0.0/8" "bind add 10.0.0.0/8" "allow list --name a/b" \
	"dump --dir $d --file $d" "read --dir $d --from 1 1" "dump --dir $d --output x"; do
	# shellcheck disable=SC2086
	run miss $arg
	check "klogctl $arg: exit 2" sh -c "test $rc = 2 && test -s '$work/miss.err'"
done

run all --help
check "klogctl --help: exit 0, every command's synopsis, exit statuses" \
	sh -c "test $rc = 0 && test \$(grep -cE '^(usage: |       )klogctl ' '$work/all.out') -ge 10 &&
		grep -q '^Exit status: 0 done' '$work/all.out'"
for c in $cmds; do
	check "klogctl --help has $c" grep -qE "^(usage: |       )klogctl $c " "$work/all.out"
done
run unk frobnicate --dir "$d"
check "an unknown command: exit 2, named, the whole usage on standard error" \
	sh -c "test $rc = 2 && test ! -s '$work/unk.out' &&
		grep -q \"unknown command 'frobnicate'\" '$work/unk.err' &&
		grep -q '^Exit status' '$work/unk.err'"
run none
check "klogctl alone: exit 2" test "$rc" = 2

# --- Failures are 1 --------------------------------------------------------
run f1 dump --dir "$work/no-such-log"
check "dump of a missing directory: exit 1" test "$rc" = 1
run f2 read --dir "$d" 6000
check "read of an LSN not durable: exit 1" test "$rc" = 1

# --- A host that does not resolve ------------------------------------------
echo x >"$work/rec"
for arg in "append --server nonexistent.invalid $work/rec" "info --server nonexistent.invalid" \
	"dump --server nonexistent.invalid:7070" "read --server nonexistent.invalid 1" \
	"bench --server nonexistent.invalid --count 1" \
	"verify --server nonexistent.invalid --count 1"; do
	# shellcheck disable=SC2086
	run res $arg
	check "klogctl ${arg%% *}: an unresolvable host is said as such, exit 1" \
		sh -c "test $rc = 1 && grep -q 'cannot resolve nonexistent.invalid: ' '$work/res.err' &&
			! grep -qi 'unreachable\\|No such device' '$work/res.err'"
done

# --- klogd: the same rules; it never starts here (each value is refused first)
# kbad WANT ARGS...: klogd exits 2 and says WANT
kbad() {
	local want=$1
	shift
	"$klogd" "$@" --iface cli-no-such0 --dir "$work/klogd-never" --name cli-never \
		>"$work/kd.out" 2>"$work/kd.err"
	local krc=$?
	if [ "$krc" = 2 ] && has kd.err "$want"; then
		ok "klogd $*: exit 2, '$want'"
	else
		not_ok "klogd $*: exit 2, '$want' (exit $krc)"
		sed 's/^/# /' "$work/kd.err"
	fi
}
kbad "--port 0 is out of range: 1..65535" --port 0
kbad "--port 70000 is out of range: 1..65535" --port 70000
kbad "invalid value for --port: '0x1f90': a decimal number, 1..65535" --port 0x1f90
kbad "invalid value for --window: '010x': a decimal number (k, M or G" --window 010x
kbad "invalid value for --batch: '-1': a decimal number, 1..1048576" --batch -1
kbad "--client-ttl 0 is out of range: 1..31536000" --client-ttl 0
kbad "invalid value for --mode: 'xdpnative': xdp, xdpgeneric or tc" --mode xdpnative
kbad "invalid value for --pool: 'list': ring or hash" --pool list
kbad "--udp-csum maybe: auto, on or off" --udp-csum maybe
kbad "--replicas 03: 1, 3 or 5" --replicas 03
kbad "unexpected argument 'extra'" extra
check "klogd made no log directory" test ! -e "$work/klogd-never"
"$klogd" --help >"$work/kh.out" 2>&1
check "klogd --help: exit 0, the port's range, decimal numbers" \
	sh -c "test $? = 0 && grep -q -- '--port N .*1..65535' '$work/kh.out' &&
		grep -q 'Numbers are decimal' '$work/kh.out'"

echo "1..$n"
exit $failed
