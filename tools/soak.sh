#!/usr/bin/env bash
# soak.sh - crash-loop soak of klogd, as root: klogd on a veth pair
# (tools/testbed.sh) with 1 MiB segments, so that it rotates every few
# thousand records; a client appending with durable acks, recording each
# acknowledged record as "LSN TXID CRC32C" (klogctl bench --log); klogd
# SIGKILLed at a random point 0..400 ms after it is ready, or (every 4th
# cycle) the moment it creates a new segment, and restarted.  After every
# kill, with klogd dead:
#   - every LSN acknowledged durable so far is on disk holding that record
#     (txid and CRC-32C of the payload, tools/soak_dump.c);
#   - no LSN is reused: every record seen on disk before is still there,
#     unchanged, LSNs on disk are contiguous, and no LSN was acknowledged for
#     two different records.
# Stops at the first violation with a non-zero status and a message (the
# work directory is kept); otherwise prints one line per cycle and
#   N cycles, M durable acks checked, 0 violations
# after a final SIGTERM and check.  M counts the distinct acknowledged LSNs,
# each checked after every kill that followed its acknowledgement.
#
# With --backend jetstream the log is a stream on a local three-node NATS
# cluster (tools/nats-cluster.sh, in the server's namespace), and every 3rd
# cycle SIGKILLs the stream's leader instead of klogd, and starts it again
# 2 s later; the checks are the same, read from the stream.
#
# Retention does not exist in klogd yet: nothing is ever removed from the log
# directory, so every record seen on disk must stay there.  Once it does, the
# "still on disk" checks apply above the retention point only.
#
# Usage: tools/soak.sh [--cycles N] [--seconds S] [--backend dir|jetstream]
#   --cycles N    kill/restart cycles (default 20)
#   --backend B   dir (default: a log directory, uring) or jetstream
#   --seconds S   stop after S seconds even if cycles remain (default 900);
#                 the summary counts the cycles run
# Binaries: KLOGD, KLOGCTL, SOAK_DUMP, XDP_PASS (default: under build/ of this tree).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/testbed.sh
. "$root/tools/testbed.sh"

cycles=20 seconds=900 backend=dir
while [ $# -gt 0 ]; do
	case $1 in
	--cycles) cycles=${2:-}; shift 2 || break ;;
	--seconds) seconds=${2:-}; shift 2 || break ;;
	--backend) backend=${2:-}; shift 2 || break ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown argument '$1' (--cycles N, --seconds S, --backend B)" >&2; exit 2 ;;
	esac
done
case $backend in
dir|jetstream) ;;
*) echo "soak.sh: --backend dir or jetstream, not '$backend'" >&2; exit 2 ;;
esac
case "$cycles$seconds" in
*[!0-9]*|'') echo "soak.sh: --cycles and --seconds take whole numbers" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "soak.sh: must run as root (it loads BPF programs and makes namespaces)" >&2
	exit 2
fi
klogd=${KLOGD:-$root/build/klogd/klogd} klogctl=${KLOGCTL:-$root/build/klogctl/klogctl}
soak_dump=${SOAK_DUMP:-$root/build/tools/klog-soak-dump}
xdp_pass=${XDP_PASS:-$root/build/bpf/xdp_pass.bpf.o}
for f in "$klogd" "$klogctl" "$soak_dump" "$xdp_pass"; do
	[ -e "$f" ] || { echo "soak.sh: $f is missing: build first (meson setup build && ninja -C build)" >&2; exit 2; }
done

# Tagged with our pid, so that parallel runs and tests never share a name.
tag=klogsoak-$$
srv=$tag-s cli=$tag-c vs=kss$$ vc=ksc$$ name=$tag srv_ip=10.98.0.1
work=$(mktemp -d /var/tmp/klog-soak-XXXXXX)
dir=$work/log nats=$work/nats
cluster=$root/tools/nats-cluster.sh
# shellcheck disable=SC2034 # the testbed_* functions use it by its name
pid=
client="" keep="" urls=""
cleanup() {
	[ -n "$client" ] && kill "$client" 2>/dev/null && wait "$client" 2>/dev/null
	[ -n "$urls" ] && "$cluster" stop "$nats" >/dev/null 2>&1
	testbed_down "$srv" "$cli" pid KILL
	rm -rf "/sys/fs/bpf/klog/$name"
	if [ -n "$keep" ]; then echo "soak.sh: logs and acks kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { # fail MESSAGE: the first violation (or a klogd that will not run) ends the soak
	echo "soak.sh: FAILED: $1" >&2
	keep=1
	exit 1
}

testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" 10.98.0.2 "$xdp_pass" ||
	fail "cannot set up the namespaces"
# Where the log goes, and how it is read back: klogd's arguments, the dump.
store=(--dir "$dir" --segment-size 1M)
dump=("$soak_dump" "$dir")
held="on disk"
if [ "$backend" = jetstream ]; then
	ip netns exec "$srv" "$cluster" start "$nats" >/dev/null || fail "cannot start the NATS cluster"
	urls=$("$cluster" urls "$nats")
	store=(--backend jetstream --nats "$urls" --stream "$name")
	dump=(ip netns exec "$srv" "$soak_dump" --nats "$urls" --stream "$name")
	held="in the stream"
fi

starts=0
start_klogd() { # a log per start: testbed_start_klogd waits for "ready" in it
	starts=$((starts + 1))
	klog=$work/klogd.$starts.log
	: >"$klog"
	testbed_start_klogd pid "$srv" "$klog" "$klogd" --iface "$vs" --name "$name" \
		"${store[@]}" || fail "klogd did not start (log above)"
}

# The client: bench runs one after another (each its own seed, so its own
# records), each writing its acknowledgements to acks.SEED.  Its retries
# outlast a klogd restart: the attached program goes on appending while
# klogd is dead, and the DURABLE notice or QUERY answer comes after.
run_client() {
	local seed=1 b=
	trap '[ -n "$b" ] && kill "$b" 2>/dev/null; exit 0' TERM
	while :; do
		ip netns exec "$cli" "$klogctl" bench --server "$srv_ip" --count 1000000 --size mix \
			--seed "$seed" --durable --outstanding 4 --timeout 100 --retries 300 \
			--log "$work/acks.$seed" >/dev/null 2>>"$work/bench.err" &
		b=$!
		wait "$b"
		seed=$((seed + 1))
	done
}

# check_log: with klogd stopped, compare the disk with every acknowledgement
# so far and with the disk at the last check; sets acked (distinct LSNs
# acknowledged); fail()s at the first violation.
checks=0
check_log() {
	local f out
	for f in "$work"/acks.*; do
		[ -e "$f" ] || continue
		cp "$f" "$work/snap"
		# A line the client was still writing is not an acknowledgement yet.
		[ -n "$(tail -c 1 "$work/snap")" ] && sed -i '$d' "$work/snap"
		cat "$work/snap"
	done >"$work/acked"
	"${dump[@]}" >"$work/disk.new" 2>"$work/dump.err" ||
		fail "reading the log (${dump[*]}): $(cat "$work/dump.err")"
	touch "$work/disk"
	out=$(awk -v disk="$work/disk.new" -v old="$work/disk" '
		function violation(msg) { print msg; bad = 1; exit 1 }
		FILENAME == disk {
			if (FNR > 1 && $1 != last + 1)
				violation("LSN " $1 " follows LSN " last " on disk")
			last = $1; rec[$1] = $2 " " $3; next
		}
		FILENAME == old {
			if (!($1 in rec))
				violation("LSN " $1 " (txid " $2 ") was on disk and is gone")
			if (rec[$1] != $2 " " $3)
				violation("LSN " $1 " reused: txid/crc " $2 " " $3 " on disk before, " rec[$1] " now")
			next
		}
		{
			if (($1 in ack) && ack[$1] != $2 " " $3)
				violation("LSN " $1 " acknowledged durable for two records: txid/crc " ack[$1] " and " $2 " " $3)
			if (!($1 in ack))
				n++
			ack[$1] = $2 " " $3
			if (!($1 in rec))
				violation("LSN " $1 " (txid " $2 ") acknowledged durable, not on disk")
			if (rec[$1] != $2 " " $3)
				violation("LSN " $1 " acknowledged durable as txid/crc " $2 " " $3 ", on disk " rec[$1])
		}
		END { if (!bad) print n + 0 }' "$work/disk.new" "$work/disk" "$work/acked") ||
		fail "$out"
	acked=$out
	checks=$((checks + 1))
	mv "$work/disk.new" "$work/disk"
}

where() { # where the records are, for the cycle's line
	if [ "$backend" = jetstream ]; then
		echo "in stream $name"
	else
		echo "on disk in $(find "$dir" -name '*.klog' | wc -l) segments"
	fi
}

# kill_leader: SIGKILL the server leading the stream, start it again 2 s
# later (klogd and the client go on); prints what it did.
kill_leader() {
	local leader
	leader=$(ip netns exec "$srv" "$cluster" leader "$nats" "$name") ||
		fail "the stream has no leader"
	"$cluster" kill "$nats" "${leader#n}"
	sleep 2
	ip netns exec "$srv" "$cluster" restart "$nats" "${leader#n}" >/dev/null ||
		fail "server $leader did not come back"
	echo "stream leader $leader SIGKILLed and restarted"
}

# stop_at_rotation: SIGSTOP klogd the moment it creates its next segment
# (NAME.tmp: then fallocate, header, sync, rename, directory sync follow),
# or after 5 s, for the SIGKILL that follows; prints when it was.  (Stopped,
# not killed here: bash reports a job killed behind its back.)  inotify
# through ctypes: no extra tools.
stop_at_rotation() {
	python3 - "$dir" "$pid" <<'PY'
import ctypes, os, select, signal, struct, sys, time
d, pid = sys.argv[1], int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
if fd < 0 or libc.inotify_add_watch(fd, d.encode(), 0x100) < 0:  # IN_CREATE
	os.kill(pid, signal.SIGSTOP)
	print("at once (no inotify)")
	sys.exit(0)
end, hit = time.monotonic() + 5, False
while not hit and time.monotonic() < end:
	if not select.select([fd], [], [], max(0, end - time.monotonic()))[0]:
		break
	buf, off = os.read(fd, 65536), 0
	while off < len(buf):
		_, _, _, n = struct.unpack_from("iIII", buf, off)
		hit = hit or buf[off + 16:off + 16 + n].rstrip(b"\0").endswith(b".tmp")
		off += 16 + n
os.kill(pid, signal.SIGSTOP)
print("as it created a segment" if hit else "5 s after ready (no rotation)")
PY
}

start_klogd
run_client &
client=$!
t_end=$((SECONDS + seconds)) done_cycles=0 mid_rotation=0
for ((c = 1; c <= cycles && SECONDS < t_end; c++)); do
	# A stream's leader dies every 3rd cycle (jetstream); klogd otherwise:
	# every 4th kill waits for a rotation (dir), the others come at a random time.
	if [ "$backend" = jetstream ] && ((c % 3 == 0)); then
		sleep 0.5
		what=$(kill_leader)
		check_log
		first=$(head -n 1 "$work/disk" | cut -d' ' -f1) last=$(tail -n 1 "$work/disk" | cut -d' ' -f1)
		echo "cycle $c/$cycles: $what; $acked durable acks $held as acknowledged;" \
			"LSNs ${first:-none}..${last:-none} $(where), unchanged; 0 violations"
		done_cycles=$c
		continue
	fi
	if [ "$backend" = dir ] && ((c % 4 == 0)); then
		when=$(stop_at_rotation)
	else
		ms=$((RANDOM % 401))
		sleep "$(printf '0.%03d' "$ms")"
		when="${ms} ms after ready"
	fi
	testbed_stop_klogd pid KILL 2>/dev/null
	# A NAME.tmp segment left behind: the kill came during a rotation.
	rot=
	if [ -n "$(find "$dir" -name '*.tmp' 2>/dev/null)" ]; then
		rot=", mid-rotation (NAME.tmp left)"
		mid_rotation=$((mid_rotation + 1))
	fi
	check_log
	first=$(head -n 1 "$work/disk" | cut -d' ' -f1) last=$(tail -n 1 "$work/disk" | cut -d' ' -f1)
	echo "cycle $c/$cycles: SIGKILL $when$rot; $acked durable acks $held as" \
		"acknowledged; LSNs ${first:-none}..${last:-none} $(where), unchanged; 0 violations"
	start_klogd
	done_cycles=$c
done

# The end: no more appends, a clean stop drains everything, a last check.
kill "$client" && wait "$client" 2>/dev/null
client=
testbed_stop_klogd pid TERM || fail "klogd's final SIGTERM stop failed: $(tail -n 3 "$klog")"
check_log
[ "$done_cycles" -lt "$cycles" ] && echo "soak.sh: stopped after $seconds s ($done_cycles of $cycles cycles)"
echo "soak.sh: $checks checks, $mid_rotation kills left a segment mid-rotation"
echo "$done_cycles cycles, $acked durable acks checked, 0 violations"
