#!/usr/bin/env bash
# Description: klogd's life as an operator sees it, with one klogd on a tmpfs
# too small for its log: a fresh start prints no libbpf line and tells
# systemd READY=1 (NOTIFY_SOCKET, a datagram socket of this test); the disk
# fills (a filler file) and klogd goes on: it says so once, tells STATUS=,
# confirms no durability, the kernel keeps the records until the window is
# FULL; the filler deleted, klogd drains them by itself: every acknowledged
# record is on disk with its bytes, LSNs without a gap, the log verifies and
# clients append again.  SIGHUP is logged and changes nothing; SIGTERM stops
# it with STOPPING=1.  Lines carry levels: "klogd: error: " on a file, "<3>"
# when stderr is the journal (JOURNAL_STREAM).  Then EIO (every pwrite of a
# klogd restarted under a seccomp filter fails so: its index writes) stops
# klogd with a line saying a restart drains again, the records stay in the
# kernel, and a klogd restarted without the filter makes them durable; SIGINT
# stops that one cleanly.
# Usage: test-life.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD SECCOMP_DENY   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 seccomp_deny=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
listener=""
cleanup_extra=restore
restore() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	umount "$work/tiny" 2>/dev/null
}

# Every datagram sent to the notify socket, one line each (newlines as '|').
sock=$work/notify.sock notes=$work/notes
python3 - "$sock" "$notes" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        f.flush()
PY
listener=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.02; done

note_index() { # note_index REGEX: the line number of the first notice matching REGEX (0: none)
	local i
	i=$(grep -n -m 1 -E "$1" "$notes" | cut -d: -f1)
	echo "${i:-0}"
}
notes_in_order() { # READY=1, then STATUS=disk full, then STATUS=appending (healthy), then STOPPING=1
	local r f o s
	r=$(note_index 'READY=1') f=$(note_index '^STATUS=disk full') s=$(note_index 'STOPPING=1')
	o=$(awk -v f="$f" 'NR > f && /^STATUS=appending/ { print NR; exit }' "$notes")
	[ "$r" -ge 1 ] && [ "$f" -gt "$r" ] && [ -n "$o" ] && [ "$s" -gt "$o" ]
}

# --- a fresh start on a small tmpfs -------------------------------------------
tiny=$work/tiny dir=$work/tiny/log log=$work/klogd.log
mkdir -p "$tiny" && mount -t tmpfs -o size=4M klogtest-life "$tiny"
klogd_wrap=(env NOTIFY_SOCKET="$sock")
check "klogd starts with a new --name on a small tmpfs" \
	start_klogd "$log" --dir "$dir" --segment-size 1M --window 512
klogd_wrap=()
echo "# $(grep -o "[a-z]* backend[^,]*" "$log" | head -n 1)"
check "a fresh start prints no libbpf line" sh -c "! grep -q 'libbpf:' '$log'"
check "a warning carries its level word (klogd: warning: no --allow)" \
	grep -q "^klogd: warning: no --allow" "$log"
check "systemd is told READY=1 with a STATUS=" wait_for 2 grep -q "READY=1|STATUS=appending on $vs" "$notes"

# --- the disk fills -------------------------------------------------------------
dd if=/dev/zero of="$tiny/filler" bs=64k 2>/dev/null
cli "$klogctl" bench --server $srv_ip --count 1 --durable --timeout 100 --retries 5 \
	--acks "$work/dacks" >/dev/null 2>&1
check "a durable append (ACK+PENDING) is not confirmed while the disk is full" test ! -s "$work/dacks"
check "... and the kernel holds it (next_lsn $(ctl_map klog_ctl next_lsn))" \
	test "$(ctl_map klog_ctl next_lsn)" -eq 2
cli "$here/appendmany.py" $srv_ip 41 600 200 full >"$work/acked"
echo "# $(tail -n 1 "$work/acked")"
check "appends are acknowledged until the window is full, then FULL (no overwrite)" \
	grep -qx "FULL 51[0-9]" "$work/acked"
sed -i '$d' "$work/acked"
check "klogd goes on with the disk full" kill -0 "$pid"
check "it says the disk is full, in one warning line" wait_for 3 \
	test "$(grep -c 'warning: disk full (No space left on device)' "$log")" -eq 1
check "systemd is told (STATUS=disk full)" wait_for 2 grep -q "^STATUS=disk full" "$notes"
durable=$(ctl_map klog_ctl durable_lsn)
ondisk=$("$klogctl" dump --dir "$dir" 2>/dev/null | wc -l)
check "no record is durable while the disk is full (durable_lsn $durable, records on disk $ondisk)" \
	test "$durable" -le 1 -a "$ondisk" -eq 0
check "klogd still runs after retries" kill -0 "$pid"
"$klogctl" status --name "$name" >"$work/status.full" 2>&1
rc=$?
check "klogctl status: degraded, exit 1, saying the disk is full ($rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'disk full' '$work/status.full'"

# --- room again -----------------------------------------------------------------
rm "$tiny/filler"
last=$(tail -n 1 "$work/acked" | cut -d' ' -f1)
check "klogd drains by itself once there is room" wait_durable "$dir" "$last"
check "it says the disk has room again" wait_for 2 grep -q "disk has room again after" "$log"
check "systemd is told it is healthy again" wait_for 2 \
	sh -c "tail -n 1 '$notes' | grep -q '^STATUS=appending on'"
check "klogctl status: healthy again, exit 0" wait_for 3 "$klogctl" status --name "$name"
"$klogctl" dump --dir "$dir" --payload --json >"$work/dump" 2>/dev/null
check "every acknowledged record reads back byte-exact, LSNs without a gap" \
	python3 - "$work/acked" "$work/dump" <<'PY'
import base64, json, sys
acked = dict(l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
lsns = [r["lsn"] for r in recs]
ok = len(acked) > 500 and lsns == list(range(lsns[0], lsns[0] + len(lsns)))
ok = ok and all(base64.b64decode(r["payload"]).decode() == acked[str(r["lsn"])]
                for r in recs if str(r["lsn"]) in acked)
ok = ok and set(acked) <= set(str(l) for l in lsns)
sys.exit(0 if ok else 1)
PY
check "klogctl verify passes" sh -c "'$klogctl' verify --dir '$dir' >/dev/null"
cli "$here/appendmany.py" $srv_ip 42 20 100 again >"$work/acked-again"
check "clients append again" grep -qx END "$work/acked-again"

# --- signals ----------------------------------------------------------------------
kill -HUP "$pid"
check "SIGHUP is logged" wait_for 2 grep -q "SIGHUP: nothing to reopen" "$log"
check "SIGHUP does not stop klogd" kill -0 "$pid"
cli "$here/appendmany.py" $srv_ip 43 5 50 hup >"$work/acked-hup"
last=$(tail -n 2 "$work/acked-hup" | head -n 1 | cut -d' ' -f1)
check "appends after SIGHUP are acknowledged and made durable" \
	sh -c "tail -n 1 '$work/acked-hup' | grep -qx END && '$klogctl' read --dir '$dir' $last >/dev/null"

# A second klogd on the same --name is refused: an error line, on a file and to the journal.
"$klogd" --iface "$vs" --name "$name" --dir "$work/other" 2>"$work/second.log"
check "an error carries its level word (klogd: error: another klogd is running)" \
	grep -q "^klogd: error: another klogd is running" "$work/second.log"
: >"$work/journal.log"
JOURNAL_STREAM=$(stat -c %d:%i "$work/journal.log") "$klogd" --iface "$vs" --name "$name" \
	--dir "$work/other" 2>>"$work/journal.log"
check "to the journal: <3> (sd-daemon's priority) and no 'klogd: ' prefix" \
	grep -q "^<3>another klogd is running" "$work/journal.log"

check "SIGTERM stops klogd with status 0" stop_klogd
check "systemd is told READY=1, the disk full, healthy again, STOPPING=1, in that order" \
	wait_for 2 notes_in_order

# --- EIO: fatal, and a restart drains again --------------------------------------
klogd_wrap=("$seccomp_deny" pwrite64)
check "EIO: klogd restarts, adopting the log, where every pwrite fails with EIO" \
	restart_adopting "$log" --dir "$dir" --segment-size 1M
klogd_wrap=()
cli "$here/appendmany.py" $srv_ip 44 5 300 eio >"$work/acked-eio"
wait "$pid"
rc=$?
pid=
check "EIO: klogd stops with status 1 ($rc)" test "$rc" -eq 1
check "EIO: one error line: the state is unknown, a restart drains again" \
	grep -q "^klogd: error: writing the log failed: Input/output error; durable LSN stays below [0-9]*; what the disk holds past it is unknown, so klogd stops. The [1-5] records from there stay in the kernel log: restarting klogd drains them again (the maps stay pinned)" "$log.restart"
held=$(($(ctl_map klog_ctl next_lsn) - $(ctl_map klog_ctl truncated_lsn)))
check "EIO: the records not durable stay in the kernel log ($held)" test "$held" -ge 1
check "EIO: klogd restarted without the fault adopts them" \
	restart_adopting "$log" --dir "$dir" --segment-size 1M
check "EIO: then every acknowledged record is on disk, byte-exact" sh -c "
	grep -qx END '$work/acked-eio' && sed '\$d' '$work/acked-eio' | while read -r lsn payload; do
		for _ in \$(seq 50); do '$klogctl' read --dir '$dir' \$lsn >'$work/one' 2>/dev/null && break; sleep 0.05; done
		[ \"\$(cat '$work/one')\" = \"\$payload\" ] || exit 1
	done"
check "EIO: the log verifies" sh -c "'$klogctl' verify --dir '$dir' >/dev/null"
check "EIO: SIGINT stops the restarted klogd with status 0" testbed_stop_klogd pid INT
check "SIGINT: the stop says so and counts what was drained" \
	grep -q "^klogd: stopped: [0-9]* records" "$log.restart"
remove_log
finish
