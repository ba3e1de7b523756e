#!/usr/bin/env bash
# Description: klogd --backend jetstream over the veth pair, on a local
# three-node JetStream cluster in the server namespace (doc/klogd.md,
# "Replication").  Each part has its own stream and kernel log:
#   - NATS unreachable at klogd's start: klogd waits and says so, attaches
#     once the cluster is up, and every durable ack is in the stream;
#   - a stream with other settings (one replica for --replicas 3) is refused,
#     and klogd leaves nothing attached or pinned;
#   - the stream's leader SIGKILLed while a durable client streams, and
#     started again: every LSN acknowledged durable is in the stream, byte for
#     byte, each record once, no gap;
#   - one server down for 30 s under the same client, then back;
#   - quorum lost (two servers down): appends are still acknowledged in
#     memory, nothing is durable or truncated, the kernel answers FULL once
#     the window fills, klogd says what it waits for; with the servers back
#     every record is durable and in the stream once;
#   - SIGTERM while the stream cannot be reached: klogd stops within its
#     10 s, keeps the records in the pinned kernel log; the next klogd,
#     started with NATS still down, attaches at once and the kernel takes
#     more appends; once NATS is back every record is published, once.
# Records are checked with `klogctl verify --nats ... --count --seed --acks`
# (LSNs contiguous, each txid once, every byte as generated, each
# acknowledged LSN holding its txid) and the stream's sequences with
# klog-nats-probe.
# Usage: test-jetstream.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD PROBE   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 probe=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

nats=$work/nats
bench_pid=
cleanup_extra='stop_bench'
stop_bench() { [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null; bench_pid=; }

info() { on_srv "$probe" info "$urls" "$1"; } # "first=F last=L msgs=M replicas=R leader=... current=N"
last_seq() { info "$1" | sed -n 's/.*last=\([0-9]*\).*/\1/p'; }
stream_is() { # stream_is STREAM FIRST LAST MSGS [REPLICAS]
	local got
	got=$(info "$1")
	[[ "$got" == "first=$2 last=$3 msgs=$4 "${5:+replicas=$5}* ]] || { echo "# $1: $got"; return 1; }
}

# verify STREAM COUNT SEED ACKS: the stream holds exactly bench's records.
verify() {
	on_srv "$klogctl" verify --nats "$urls" --stream "$1" --count "$2" --size mix --seed "$3" \
		--acks "$4" >"$work/verify.out" 2>&1
	local rc=$?
	sed 's/^/# /' "$work/verify.out"
	return $rc
}

# bench_bg COUNT SEED ACKS [ARGS]: a durable client in the background whose
# retries outlast a leader election or a restart.
bench_bg() {
	# ip execs the client: $! is its pid, so stop_bench stops it.
	ip netns exec "$cli" "$klogctl" bench --server "$srv_ip" --count "$1" --size mix --seed "$2" --durable \
		--outstanding 16 --timeout 200 --retries 600 --acks "$3" "${@:4}" \
		>"$work/bench.out" 2>"$work/bench.err" &
	bench_pid=$!
}

bench_wait() {
	local rc=0
	wait "$bench_pid" || rc=$?
	bench_pid=
	[ $rc = 0 ] || sed 's/^/# bench: /' "$work/bench.err" | tail -n 5
	return $rc
}

klogd_up() { # klogd_up LOG STREAM [ARGS]: a jetstream klogd on the cluster
	: >"$1"
	start_klogd "$1" --backend jetstream --nats "$urls" --stream "$2" "${@:3}"
}

ready_within() { # ready_within LOG SECONDS
	for _ in $(seq $(($2 * 10))); do
		grep -q "klogd: ready" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# --- options ---------------------------------------------------------------------
# refused STATUS MESSAGE ARGS...: klogd ARGS exits with STATUS, saying MESSAGE.
refused() {
	local rc=0
	"$klogd" "${@:3}" >/dev/null 2>"$work/err" || rc=$?
	[ "$rc" = "$1" ] && grep -qF -- "$2" "$work/err" || { sed 's/^/# /' "$work/err"; return 1; }
}
check "klogd --help names the jetstream options" \
	sh -c "'$klogd' --help | grep -q -- '--nats URLS' && '$klogd' --help | grep -q -- '--replicas N'"
check "--backend jetstream without --nats: status 2" \
	refused 2 "--backend jetstream needs --nats" --iface x --backend jetstream
check "--dir with --backend jetstream: status 2" \
	refused 2 "--dir and --backend jetstream" --iface x --backend jetstream --nats n:1 --dir y
check "--nats without --backend jetstream: status 2" \
	refused 2 "--nats and --stream go with --backend jetstream" --iface x --dir y --nats n:1
check "--replicas 2: status 2, the choices named" \
	refused 2 "--replicas 2: 1, 3 or 5" --iface x --backend jetstream --nats n:1 --replicas 2
check "an unknown backend: status 2, the backends named" \
	refused 2 "unknown backend 'nope' (uring, psync, jetstream)" --iface x --backend nope --dir y
check "a --name that makes no stream name: status 2, saying where the name came from" \
	refused 2 "(the default, klog-NAME from --name: give --stream)" --iface x \
	--backend jetstream --nats n:1 --name a.b

# --- NATS unreachable at start --------------------------------------------------
nats_start "$nats" || { echo "Bail out! no NATS cluster"; exit 1; }
urls=$(nats_urls "$nats")
nats_stop "$nats"
log=$work/klogd.down.log
: >"$log"
nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name" --backend jetstream \
	--nats "$urls" --stream s-start 2>>"$log" &
pid=$!
sleep 3
check "NATS down at start: klogd is waiting, alive, not attached" \
	sh -c "kill -0 $pid && grep -q 'waiting for NATS at' '$log' && ! grep -q 'klogd: ready' '$log'"
on_srv "$nats_cluster" start "$nats" >/dev/null
check "NATS back: klogd attaches (ready)" ready_within "$log" 30
bench_bg 3000 1 "$work/acks.start"
check "durable appends after the late start (bench exits 0)" bench_wait
check "... every one in the stream, byte for byte, once, in LSN order" \
	verify s-start 3000 1 "$work/acks.start"
check "... the stream's sequences are 1..3000" stream_is s-start 1 3000 3000
check "clean stop (exit 0)" stop_klogd
remove_log

# --- a stream with other settings is refused ------------------------------------
on_srv "$probe" add-stream "$urls" s-other 1 klog.s-other >/dev/null
log=$work/klogd.other.log
: >"$log"
start_klogd "$log" --backend jetstream --nats "$urls" --stream s-other --replicas 3 2>/dev/null
rc=0
[ -n "$pid" ] && { wait "$pid" || rc=$?; pid=; }
check "a stream of 1 replica for --replicas 3: klogd exits 1 (status $rc)" test "$rc" = 1
check "... saying which setting differs" grep -q "exists with other settings than klogd's: 1 replicas (--replicas 3)" "$log"
check "... and it left no program attached" sh -c "! ip netns exec '$srv' bpftool net show dev '$vs' | grep -q klog_"
check "... nor the kernel log it made pinned" test ! -e "/sys/fs/bpf/klog/$name"
check "... and the stream is as it was (empty, one replica)" stream_is s-other 0 0 0 1

# --- the stream's leader SIGKILLed under a durable client -----------------------
klogd_up "$work/klogd.leader.log" s-leader || echo "# klogd did not start"
bench_bg 20000 2 "$work/acks.leader"
sleep 1
leader=$(nats_leader "$nats" s-leader)
check "the stream has a leader ($leader)" test -n "$leader"
nats_kill "$nats" "${leader#n}"
sleep 5
nats_restart "$nats" "${leader#n}"
check "leader killed and restarted: the durable client finishes (bench exits 0)" bench_wait
check "... every LSN acknowledged durable is in the stream, byte for byte, once, no gap" \
	verify s-leader 20000 2 "$work/acks.leader"
check "clean stop (exit 0)" stop_klogd
remove_log

# --- one server down for 30 s ---------------------------------------------------
klogd_up "$work/klogd.down30.log" s-down30 || echo "# klogd did not start"
bench_bg 1000000 3 "$work/acks.down30" --outstanding 4
leader=$(nats_leader "$nats" s-down30)
victim=$(( ${leader#n} % 3 + 1 )) # a follower: the leader's own death is the part above
nats_kill "$nats" "$victim"
before=$(wc -l <"$work/acks.down30")
sleep 30
after=$(wc -l <"$work/acks.down30")
check "n$victim down for 30 s: durable acks went on ($before then $after)" test "$after" -gt "$((before + 100))"
nats_restart "$nats" "$victim"
sleep 2
check "... n$victim back: three servers up" nats_status "$nats"
stop_bench
check "clean stop (exit 0)" stop_klogd
sent=$(last_seq s-down30)
check "... every LSN acknowledged durable is in the stream, once, no gap ($sent records)" \
	verify s-down30 "$sent" 3 "$work/acks.down30"
remove_log

# --- quorum lost: held in the kernel, FULL, then resumed -----------------------
klogd_up "$work/klogd.quorum.log" s-quorum --window 64 || echo "# klogd did not start"
for i in $(seq 10); do send "$i" "before-$i" >/dev/null; done
for _ in $(seq 50); do [ "$(last_seq s-quorum)" = 10 ] && break; sleep 0.1; done
check "quorum: 10 records durable before" test "$(last_seq s-quorum)" = 10
nats_kill "$nats" 1
nats_kill "$nats" 2
statuses=$work/statuses
for i in $(seq 11 80); do send "$i" "during-$i" | cut -d' ' -f2; done >"$statuses"
acked=$(grep -c '^0$' "$statuses") full=$(grep -c '^1$' "$statuses")
check "quorum lost: the kernel still acknowledges up to its window of 64 ($acked of 70 ACKed)" \
	test "$acked" = 64
check "... then answers FULL (status 1), never overwriting ($full FULL)" test "$full" = 6
check "... nothing more is durable: durable_lsn stays at 11" test "$(ctl_map klog_ctl durable_lsn)" = 11
# Within its 3 s wait for an acknowledgement and a stream-info request's 2 s, or a refusal's.
waits_said() {
	grep -Eq "waiting for stream s-quorum|stream s-quorum: .*: publishing LSNs 11\.\.[0-9]+ again" \
		"$work/klogd.quorum.log"
}
for _ in $(seq 150); do waits_said && break; sleep 0.1; done
check "... klogd says what it waits for" waits_said
status_is() { # status_is RC OUT: klogctl status exits RC, its output in OUT
	"$klogctl" status --name "$name" >"$2" 2>&1
	[ "$?" = "$1" ]
}
check "... klogctl status: degraded, exit 1 (waiting for the stream, or the drain stalled)" \
	wait_for 10 status_is 1 "$work/status.quorum"
check "... and it says why: $(grep -E -m1 'waiting for|stalled' "$work/status.quorum")" \
	grep -Eq 'waiting for stream s-quorum|drain stalled' "$work/status.quorum"
nats_restart "$nats" 1
nats_restart "$nats" 2
for _ in $(seq 300); do [ "$(ctl_map klog_ctl durable_lsn)" = 75 ] && break; sleep 0.1; done
check "quorum back: every acknowledged record durable (durable_lsn 75)" test "$(ctl_map klog_ctl durable_lsn)" = 75
check "... and in the stream once: sequences 1..74" stream_is s-quorum 1 74 74
check "... klogd said it resumed" grep -Eq "stream s-quorum takes records again: durable up to LSN [0-9]+" "$work/klogd.quorum.log"
check "... klogctl status: healthy again, exit 0" wait_for 10 status_is 0 "$work/status.back"
check "... without flooding its log (under 100 lines)" test "$(wc -l <"$work/klogd.quorum.log")" -lt 100
check "... and the kernel takes appends again (ACK, LSN 75)" test "$(send 100 after | cut -d' ' -f2,3)" = "0 75"
check "clean stop (exit 0)" stop_klogd
remove_log

# --- SIGTERM while the stream is unreachable -------------------------------------
klogd_up "$work/klogd.term.log" s-term || echo "# klogd did not start"
for i in $(seq 5); do send "$i" "first-$i" >/dev/null; done
nats_stop "$nats"
for i in $(seq 6 10); do send "$i" "held-$i" >/dev/null; done
t0=$SECONDS
rc=0
testbed_stop_klogd pid TERM || rc=$?
check "SIGTERM with NATS down: klogd stops within 15 s ($((SECONDS - t0)) s, status $rc)" \
	test $((SECONDS - t0)) -le 15
check "... saying the records not durable stay in the kernel log" \
	grep -q "not durable yet; stopping with them in the kernel log" "$work/klogd.term.log"
check "... which still holds them (next_lsn 11, durable_lsn <= 6)" \
	sh -c "test $(ctl_map klog_ctl next_lsn) = 11 && test $(ctl_map klog_ctl durable_lsn) -le 6"
check "NATS still down: the next klogd adopts the pinned log and attaches at once" \
	restart_adopting "$work/klogd.term2.log" --backend jetstream --nats "$urls" --stream s-term
check "... saying the records stay in the kernel until the stream answers" \
	grep -q "attaching the pinned log now, its records stay in the kernel until stream s-term answers" \
	"$work/klogd.term2.log.restart"
for i in $(seq 11 15); do send "$i" "later-$i" | cut -d' ' -f2; done >"$statuses"
check "... and the kernel acknowledges new appends meanwhile (5 ACKs)" \
	test "$(grep -c '^0$' "$statuses")" = 5
check "... none of them durable yet (durable_lsn <= 6)" test "$(ctl_map klog_ctl durable_lsn)" -le 6
on_srv "$nats_cluster" start "$nats" >/dev/null
for _ in $(seq 200); do [ "$(ctl_map klog_ctl durable_lsn)" = 16 ] && break; sleep 0.1; done
check "NATS back: every record durable (durable_lsn 16)" test "$(ctl_map klog_ctl durable_lsn)" = 16
check "... published once, in order: sequences 1..15" stream_is s-term 1 15 15
check "... and klogd said when the stream answered" \
	grep -q "stream s-term answers: it holds up to LSN" "$work/klogd.term2.log.restart"
check "clean stop (exit 0)" stop_klogd
finish
