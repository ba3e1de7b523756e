#!/usr/bin/env bash
# Description: commit semantics end to end, with klogd on a veth pair between
# two namespaces.  A lossy link (nftables drops 5% of requests and replies and
# duplicates 5% of requests) carries 50,000 appends from 16 outstanding
# requests: every record must be on disk exactly once and every client learn
# its LSN.  A durable-ack client streams while klogd is killed with SIGKILL
# three times: every LSN it was told is durable must be on disk at each
# kill.  CONFLICT, STALE and retransmissions are answered from the dedup state
# after a klogd restart.
# Usage: test-commit.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# --- a lossy link -----------------------------------------------------------
dir=$work/log-lossy log=$work/klogd-lossy.log acks=$work/acks-lossy count=50000
check "lossy: klogd starts" start_klogd "$log" --dir "$dir"
lossy_link klogtest 20 "udp dport 7070 numgen random mod 20 0 counter dup to \"$vc\""
check "lossy: nftables drops and duplicates on the client's veth" \
	sh -c "ip netns exec '$cli' nft list table netdev klogtest | grep -q 'dup to'"
cli "$klogctl" bench --server "$srv_ip" --count "$count" --size "uniform:1:$max" --seed 11 \
	--outstanding 16 --timeout 20 --retries 100 --acks "$acks" >"$work/bench-lossy.out" 2>&1
check "lossy: all $count appends acknowledged" test "$?" -eq 0
check "lossy: every client learned its LSN (one ack per record)" \
	test "$(sort -u "$acks" | wc -l)" -eq "$count"
wait_durable "$dir" "$(sort -n "$acks" | tail -n 1 | cut -d' ' -f1)"
check "lossy: every record on disk exactly once, LSNs contiguous, bytes as sent" \
	sh -c "'$klogctl' verify --dir '$dir' --count $count --size uniform:1:$max --seed 11 --acks '$acks' >/dev/null"
dropped=$(nft_packets klogtest drop)
dups=$(nft_packets klogtest "dup to")
check "lossy: the link lost $dropped and duplicated $dups packets" test "$dropped" -gt 0 -a "$dups" -gt 0
check "lossy: duplicates and resends were answered from the dedup state ($(ctl_map klog_stats retransmits))" \
	test "$(ctl_map klog_stats retransmits)" -gt 0
cli nft delete table netdev klogtest
check "lossy: klogd stops cleanly" stop_klogd
remove_log # the next log is a new one, in another directory

# --- durable acknowledgements across SIGKILL ---------------------------------
dir=$work/log-durable log=$work/klogd-durable.log acks=$work/acks-durable count=20000
check "durable: klogd starts" start_klogd "$log" --dir "$dir"
cli "$klogctl" bench --server "$srv_ip" --count "$count" --size mix --seed 12 --durable \
	--outstanding 8 --timeout 50 --retries 200 --acks "$acks" >"$work/bench-durable.out" 2>&1 &
bench=$!
for k in 1 2 3; do
	sleep "0.$((RANDOM % 3 + 1))"
	kill_klogd
	cp "$acks" "$work/acks-at-kill-$k"
	# A line the client was still writing is not an acknowledgement yet.
	[ -n "$(tail -c 1 "$work/acks-at-kill-$k")" ] && sed -i '$d' "$work/acks-at-kill-$k"
	# klogd is dead: the disk holds exactly what it made durable.
	"$klogctl" dump --dir "$dir" >"$work/disk-at-kill-$k"
	acked=$(wc -l <"$work/acks-at-kill-$k")
	missing=$(awk 'NR == FNR { disk[$1] = $3; next } !($1 in disk) || disk[$1] != $2' \
		"$work/disk-at-kill-$k" "$work/acks-at-kill-$k" | wc -l)
	check "durable: kill $k: all $acked LSNs acknowledged durable are on disk ($missing missing)" \
		test "$missing" -eq 0 -a "$acked" -gt 0
	check "durable: kill $k: klogd restarts and adopts the log" restart_adopting "$log" --dir "$dir"
done
check "durable: all $count durable appends acknowledged" wait "$bench"
wait_durable "$dir" "$(sort -n "$acks" | tail -n 1 | cut -d' ' -f1)"
check "durable: every record on disk exactly once" \
	sh -c "'$klogctl' verify --dir '$dir' --count $count --size mix --seed 12 --acks '$acks' >/dev/null"

# --- the dedup state survives a restart ---------------------------------------
first=$(send 500 "hello")
kill_klogd
check "dedup: klogd restarts after SIGKILL" restart_adopting "$log" --dir "$dir"
lsn=$(echo "$first" | cut -d' ' -f3)
check "dedup: a retransmission after the restart gets the original LSN ($first)" \
	test "$(send 500 hello)" = "2 0 $lsn"
check "dedup: the same ids with another payload get CONFLICT" \
	test "$(send 500 other)" = "3 9 0"
send 600 "newer" >/dev/null
check "dedup: an id 64 or more below the newest, never seen, gets STALE" \
	test "$(send 536 old)" = "3 10 0"
check "durable: klogd stops cleanly" stop_klogd

finish
