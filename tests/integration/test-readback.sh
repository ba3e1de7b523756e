#!/usr/bin/env bash
# Description: a coordinator on another host reads its log back (issue 11's
# "done when").  The client runs in its own network namespace with no access
# to the server's files; nftables drops 10% of the datagrams each way on its
# veth (requests and READs out, ACKs, DURABLEs and RECORDs in):
#   - C: `klogctl bench --durable` appends, is killed with SIGKILL partway,
#     and a restarted one appends 100,000 more; then a new process reads
#     every acknowledged record back through klogd, by LSN (each alone) and
#     by range (klog_iterate over the whole log), byte for byte against what
#     bench generated (`klogctl verify --server`);
#   - Python: the same with bindings/python (klog.Client), killed partway
#     and restarted, then read back by LSN and by range (read_range).
# Usage: test-readback.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD PYTHON_SRC   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4 pysrc=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
count=${READBACK_COUNT:-100000}

dir=$work/log log=$work/klogd.log
check "klogd starts" start_klogd "$log" --dir "$dir"
cli nft -f - <<NFT
table netdev klogloss {
	chain out {
		type filter hook egress device "$vc" priority 0;
		udp dport 7070 numgen random mod 10 0 counter drop
	}
	chain in {
		type filter hook ingress device "$vc" priority 0;
		udp sport 7070 numgen random mod 10 0 counter drop
	}
}
NFT
lost() { # datagrams the rules dropped so far, each way: "OUT IN"
	cli nft list table netdev klogloss | awk '/drop/ {
		for (i = 1; i < NF; i++) if ($i == "packets") v[++n] = $(i + 1) }
		END { print v[1] + 0, v[2] + 0 }'
}

# --- C: klogctl, killed and restarted ---------------------------------------------
size=uniform:1:$max
# Durable appends of COUNT records of a --seed, their acks to --acks.  ip netns
# exec and env exec what they run: $! of one in the background is the client.
bench=(ip netns exec "$cli" "$klogctl" bench --server "$srv_ip" --count "$count" --size "$size"
	--durable --outstanding 64 --timeout 5 --retries 2000)
t0=$SECONDS
took() { echo "# $1: $((SECONDS - t0)) s"; t0=$SECONDS; }
# kill_partway PID ACKS WHO: SIGKILL client PID once ACKS holds a third of
# COUNT acknowledgements; the whole lines of ACKS go to ACKS.kept.
kill_partway() {
	for _ in $(seq 6000); do
		[ "$(wc -l <"$2" 2>/dev/null || echo 0)" -ge $((count / 3)) ] && break
		sleep 0.01
	done
	kill -KILL "$1"
	wait "$1" 2>/dev/null
	# A line the client was still writing is not an acknowledgement.
	head -n -1 "$2" >"$2.kept"
	n_a=$(wc -l <"$2.kept")
	check "$3: the client is killed (SIGKILL) after $n_a durable acks of $count" \
		test "$n_a" -gt 0 -a "$n_a" -lt "$count"
}
"${bench[@]}" --seed 21 --acks "$work/acks-a" >"$work/bench-a.out" 2>&1 &
kill_partway $! "$work/acks-a" C
took "C appends, killed"
"${bench[@]}" --seed 22 --acks "$work/acks-b" >"$work/bench-b.out" 2>&1
check "C: restarted, the client appends $count more, every one acknowledged durable" \
	test "$?" -eq 0 -a "$(wc -l <"$work/acks-b")" -eq "$count"
first_b=$(sort -n "$work/acks-b" | head -n 1 | cut -d' ' -f1)
end_a=$((first_b - 1))
took "C appends, restarted"
verify() { # a READ lost is asked again after 10 ms (the default 200 is for a WAN)
	cli "$klogctl" verify --server "$srv_ip" --count "$count" --size "$size" --timeout 10 \
		--retries 100 "$@"
}
check "C: a new process reads LSNs 1..$end_a back by range and each of the $n_a acknowledged by LSN, bytes as sent" \
	verify --seed 21 --partial --from 1 --to "$end_a" --acks "$work/acks-a.kept"
check "C: ... and LSNs $first_b..$((end_a + count)) by range and each by LSN, all $count, bytes as sent" \
	verify --seed 22 --from "$first_b" --to "$((end_a + count))" --acks "$work/acks-b"
took "C reads"
read -r out in <<<"$(lost)"
check "C: the link dropped datagrams both ways ($out out, $in in)" test "$out" -gt 0 -a "$in" -gt 0

# --- Python: bindings/python, killed and restarted -----------------------------------
py=(ip netns exec "$cli" env PYTHONPATH="$pysrc" /usr/bin/python3
	"$(dirname "$0")/pyreadback.py" "$srv_ip")
base=$((end_a + count))
"${py[@]}" append 31 "$count" "$max" "$work/pyacks-a" >"$work/py-a.out" 2>&1 &
kill_partway $! "$work/pyacks-a" Python
took "Python appends, killed"
"${py[@]}" append 32 "$count" "$max" "$work/pyacks-b" >"$work/py-b.out" 2>&1
check "Python: restarted, the client appends $count more, every one acknowledged durable" \
	test "$?" -eq 0 -a "$(wc -l <"$work/pyacks-b")" -eq "$count"
took "Python appends, restarted"
first_b=$(sort -n "$work/pyacks-b" | head -n 1 | cut -d' ' -f1)
end_a=$((first_b - 1))
check "Python: a new process reads LSNs $((base + 1))..$end_a back by range and each of the $n_a acknowledged by LSN" \
	"${py[@]}" check 31 "$count" "$max" "$work/pyacks-a.kept" "$((base + 1))" "$end_a" partial
check "Python: ... and LSNs $first_b..$((end_a + count)), all $count, by range and by LSN" \
	"${py[@]}" check 32 "$count" "$max" "$work/pyacks-b" "$first_b" "$((end_a + count))"
took "Python reads"
read -r out2 in2 <<<"$(lost)"
check "Python: the link dropped datagrams both ways ($((out2 - out)) out, $((in2 - in)) in)" \
	test "$out2" -gt "$out" -a "$in2" -gt "$in"
finish
