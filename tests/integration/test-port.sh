#!/usr/bin/env bash
# Description: who may send to klogd's port (doc/klogd.md, "Protecting the
# port"), over the veth pair, with requests sent by hand (rawreq.py) from
# two client addresses, 10.97.0.2 (allowed) and 10.97.0.3 (not), and
# likewise fd00:98::2 and fd00:98::3:
#   - --allow: a refused source's APPEND, READ and INFO get no answer and
#     append nothing (drop_refused counted), the allowed source's work;
#   - klogctl allow add lets the refused source in live, del shuts it out
#     again; allow list and bind list, --json, and their errors;
#   - datagrams to an address that is not the server's (routed to its veth)
#     and to the subnet's broadcast: not appended, not answered (pass_foreign);
#   - without --bind, an address added to the interface while klogd runs is
#     taken (rtnetlink), and no longer once removed; with --bind, another
#     address of the interface is not, and one not (yet) on it is bound
#     with a warning; a restart re-applies the options over klogctl's changes;
#   - a fragmented APPEND answered NACK TOOBIG by klogd, and not answered
#     when it comes from a refused source or to an address not bound;
#   - a NACK, and an APPEND, sent from port 7070: not answered (drop_reply).
# Usage: test-port.sh KLOGD KLOGCTL XDP_PASS_OBJ MAX_RECORD   (TAP; needs root)
klogd=$1 klogctl=$2 xdp_pass=$3 max=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
raw="$(dirname "$0")/rawreq.py"
req() { cli python3 "$raw" "$@"; } # req DST OPCODE [options]: "OPCODE STATUS LSN" or NONE
stat() { ctl_map klog_stats "$1"; }
next_lsn() { ctl_map klog_ctl next_lsn; }
# A request id of its own (growing, as the dedup window wants): append runs in $(...),
# where a counter's increment would be lost and every APPEND a retransmission.
append() { # append DST [options]
	req "$1" 1 --payload 64 --rid "$(date +%s%N)" "${@:2}"
}
acked() { [[ "$1" == "2 0 "* ]]; } # an ACK
none() { [ "$1" = NONE ]; }

ip -n "$cli" addr add 10.97.0.3/24 dev "$vc"
ip -n "$srv" addr add fd00:98::1/64 dev "$vs" nodad
ip -n "$cli" addr add fd00:98::2/64 dev "$vc" nodad && ip -n "$cli" addr add fd00:98::3/64 dev "$vc" nodad
dir=$work/log log=$work/klogd.log
check "klogd starts with --allow 10.97.0.2 --allow fd00:98::2" \
	start_klogd "$log" --dir "$dir" --allow 10.97.0.2 --allow fd00:98::2
check "it logs the allowed sources" \
	grep -q "sources allowed (--allow): 10.97.0.2/32, fd00:98::2/128" "$log"
check "it logs the addresses it takes appends at (the interface's, followed)" \
	grep -q "appends accepted at the addresses of the interface (followed): .*10.97.0.1" "$log"

# --- (a) the allow-list -----------------------------------------------------------
check "APPEND from the allowed source: ACK" acked "$(append "$srv_ip" --src 10.97.0.2)"
before=$(next_lsn) refused=$(stat drop_refused)
check "APPEND from a refused source: no answer" none "$(append "$srv_ip" --src 10.97.0.3)"
check "... and nothing appended" test "$(next_lsn)" = "$before"
check "... drop_refused counted" test "$(stat drop_refused)" -gt "$refused"
check "READ from a refused source: no answer" none "$(req "$srv_ip" 6 --src 10.97.0.3)"
check "INFO from a refused source: no answer" none "$(req "$srv_ip" 8 --src 10.97.0.3)"
check "INFO from the allowed source: answered" \
	eval '[[ "$(req "$srv_ip" 8 --src 10.97.0.2)" == "9 0 "* ]]'
check "IPv6: APPEND from the allowed fd00:98::2: ACK" acked "$(append fd00:98::1 --src fd00:98::2)"
check "IPv6: APPEND from fd00:98::3: no answer" none "$(append fd00:98::1 --src fd00:98::3)"

# --- (b) klogctl allow, live ------------------------------------------------------
check "klogctl allow add 10.97.0.3: exit 0" "$klogctl" allow add --name "$name" 10.97.0.3
check "APPEND from 10.97.0.3 after allow add: ACK" acked "$(append "$srv_ip" --src 10.97.0.3)"
check "allow list: one CIDR per line, sorted" \
	test "$("$klogctl" allow list --name "$name")" = $'10.97.0.2/32\n10.97.0.3/32\nfd00:98::2/128'
check "allow list --json" test "$("$klogctl" allow list --name "$name" --json)" = \
	'{"allow":["10.97.0.2/32","10.97.0.3/32","fd00:98::2/128"]}'
check "klogctl allow add fd00:98::/64: exit 0" "$klogctl" allow add --name "$name" fd00:98::/64
check "IPv6: APPEND from fd00:98::3 after allow add of its /64: ACK" \
	acked "$(append fd00:98::1 --src fd00:98::3)"
"$klogctl" allow del --name "$name" fd00:98::/64
check "IPv6: APPEND from fd00:98::3 after allow del: no answer" \
	none "$(append fd00:98::1 --src fd00:98::3)"
check "klogctl allow del 10.97.0.3: exit 0" "$klogctl" allow del --name "$name" 10.97.0.3
check "APPEND from 10.97.0.3 after allow del: no answer" none "$(append "$srv_ip" --src 10.97.0.3)"
out=$("$klogctl" allow add --name "$name" 10.97.0.3/8 2>&1); rc=$?
check "allow add 10.97.0.3/8: refused, exit 2 (a bad argument), bits beyond the prefix named" \
	eval '[ $rc = 2 ] && [[ "$out" == *"bits set beyond the prefix length"* ]]'
out=$("$klogctl" allow del --name "$name" 10.1.0.0/16 2>&1); rc=$?
check "allow del of a prefix not in the list: exit 1, says so" \
	eval '[ $rc = 1 ] && [[ "$out" == *"10.1.0.0/16 is not in the list"* ]]'
out=$("$klogctl" allow list --name klogt-no-such-log 2>&1); rc=$?
check "allow list of an unknown --name: exit 1, says so" \
	eval '[ $rc = 1 ] && [[ "$out" == *"no access maps pinned under /sys/fs/bpf/klog/klogt-no-such-log"* ]]'
check "bind list: the interface's addresses, IPv4 and IPv6" \
	eval '"$klogctl" bind list --name "$name" | grep -qx 10.97.0.1 &&
	      "$klogctl" bind list --name "$name" | grep -qx fd00:98::1'

# --- (c) not addressed to the server ----------------------------------------------
# 10.98.0.1 is routed to the server's veth (its MAC by hand) but is none of its addresses.
mac=$(ip -n "$srv" -br link show "$vs" | awk '{ print $3 }')
ip -n "$cli" route add 10.98.0.0/24 dev "$vc" && ip -n "$cli" neigh add 10.98.0.1 lladdr "$mac" dev "$vc"
before=$(next_lsn) foreign=$(stat pass_foreign)
check "APPEND to 10.98.0.1, routed to the server but not its address: no answer" \
	none "$(append 10.98.0.1 --src 10.97.0.2)"
check "APPEND to the broadcast address 10.97.0.255: no answer" \
	none "$(append 10.97.0.255 --src 10.97.0.2)"
check "... nothing appended" test "$(next_lsn)" = "$before"
check "... pass_foreign counted both" test "$(stat pass_foreign)" -ge $((foreign + 2))

# --- (d) the interface's addresses, followed --------------------------------------
ip -n "$srv" addr add 10.97.0.5/24 dev "$vs"
sleep 0.3
check "an address added to the interface at runtime takes appends" \
	acked "$(append 10.97.0.5 --src 10.97.0.2)"
check "klogd logged the change" grep -q "addresses changed; appends accepted at: .*10.97.0.5" "$log"
ip -n "$srv" addr del 10.97.0.5/24 dev "$vs"
sleep 0.3
ip -n "$cli" neigh replace 10.97.0.5 lladdr "$mac" dev "$vc" # reaches the server still
check "once removed, it takes none" none "$(append 10.97.0.5 --src 10.97.0.2)"

# --- (e) fragments ----------------------------------------------------------------
# A record of the largest size, from a client whose link MTU is too small for it: it
# leaves in IPv4 fragments, which the programs pass to the stack, and reaches klogd.
cli ip link set dev "$vc" mtu 1280
before=$(next_lsn)
got=$(append "$srv_ip" --src 10.97.0.2 --payload "$max")
check "a fragmented APPEND ($max bytes over a 1280-byte MTU): NACK TOOBIG from klogd" \
	test "$got" = "3 3 0"
check "... not appended" test "$(next_lsn)" = "$before"
check "klogd logged the first one, with its source" \
	grep -q "an APPEND from 10.97.0.2 reached klogd's socket (fragmented" "$log"
check "a fragmented APPEND from a refused source: no answer" \
	none "$(append "$srv_ip" --src 10.97.0.3 --payload "$max")"
check "a fragmented APPEND to the broadcast address: no answer" \
	none "$(append 10.97.0.255 --src 10.97.0.2 --payload "$max")"
cli ip link set dev "$vc" mtu "$mtu"

# --- (f) replies are never answered -----------------------------------------------
reply=$(stat drop_reply)
check "a NACK sent from port 7070: no answer" none "$(req "$srv_ip" 3 --status 3 --src 10.97.0.2 --sport 7070)"
check "a NACK from another port: no answer" none "$(req "$srv_ip" 3 --status 3 --src 10.97.0.2)"
check "an APPEND from port 7070: no answer" none "$(append "$srv_ip" --src 10.97.0.2 --sport 7070)"
check "... drop_reply counted the three" test "$(stat drop_reply)" -ge $((reply + 3))

check "klogd stops cleanly" stop_klogd
check "its stop line counts the TOOBIG answer" \
	grep -q "on the service port: 1 appends answered TOOBIG" "$log"

# --- --bind, and a restart re-applying the options -------------------------------
ip -n "$srv" addr add 10.97.0.6/24 dev "$vs"
"$klogctl" allow add --name "$name" 10.97.0.3 # undone by the restart
check "klogd restarts with --bind 10.97.0.1 --bind 10.97.0.99 and no --allow" \
	restart_adopting "$log" --dir "$dir" --bind 10.97.0.1 --bind 10.97.0.99
check "it warns that every source may append" \
	grep -q "warning: no --allow: every source may append" "$log.restart"
check "it warns that 10.97.0.99 is not on the interface, and binds it anyway" \
	grep -q "warning: --bind 10.97.0.99 is not an address of $vs (yet)" "$log.restart"
check "allow list after the restart: ::/0 alone (the live change undone)" \
	test "$("$klogctl" allow list --name "$name")" = "::/0"
check "bind list: the two --bind addresses alone" \
	test "$("$klogctl" bind list --name "$name")" = $'10.97.0.1\n10.97.0.99'
check "APPEND from 10.97.0.3 (every source allowed now): ACK" \
	acked "$(append "$srv_ip" --src 10.97.0.3)"
check "APPEND to 10.97.0.6, an address of the interface but not bound: no answer" \
	none "$(append 10.97.0.6 --src 10.97.0.2)"
check "INFO to 10.97.0.6: no answer either" none "$(req 10.97.0.6 8 --src 10.97.0.2)"
out=$(nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --dir "$work/x" --name "$name-x" \
	--allow 10.1.2.3/8 2>&1); rc=$?
check "--allow 10.1.2.3/8: refused at start, exit 2, says why" \
	eval '[ $rc = 2 ] && [[ "$out" == *"--allow 10.1.2.3/8: bits set beyond the prefix length"* ]]'
out=$(nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --dir "$work/x" --name "$name-x" \
	--bind 10.97.0.0/24 2>&1); rc=$?
check "--bind with a prefix: refused at start, exit 2" \
	eval '[ $rc = 2 ] && [[ "$out" == *"--bind 10.97.0.0/24: not an IPv4 or IPv6 address"* ]]'
check "klogd stops cleanly again" stop_klogd

# UDP checksums (doc/security.md): on a veth, a sender on this host leaves
# a partial checksum to an offload that never runs, so auto does not verify.
check "default (--udp-csum auto) on a veth: checksums not verified, said at start" \
	eval 'grep -q "UDP checksums not verified" "$log"'
log=$work/klogd-csum.log
check "klogd --udp-csum on starts" start_klogd "$log" --dir "$dir" --udp-csum on
check "... and says it verifies them" eval 'grep -q "UDP checksums verified" "$log"'
before=$(next_lsn) dropped=$(stat drop_csum)
check "APPEND with the client's checksum offload on (a partial sum): no answer" \
	none "$(append "$srv_ip" --src 10.97.0.2)"
check "... dropped as a bad checksum (drop_csum)" test "$(stat drop_csum)" -gt "$dropped"
check "... its LSN taken (the ring had reserved it): a tombstone, never its bytes" \
	test "$(next_lsn)" -gt "$before"
cli ethtool -K "$vc" tx off >/dev/null
check "APPEND with the client's offload off (a full checksum, verified): ACK" \
	acked "$(append "$srv_ip" --src 10.97.0.2)"
cli ethtool -K "$vc" tx on >/dev/null
check "klogd stops cleanly" stop_klogd
out=$("$klogd" --iface "$vs" --dir "$work/x" --udp-csum maybe 2>&1); rc=$?
check "--udp-csum maybe: refused, exit 2" \
	eval '[ $rc = 2 ] && [[ "$out" == *"--udp-csum maybe: auto, on or off"* ]]'
finish
