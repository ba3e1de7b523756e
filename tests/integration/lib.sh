# shellcheck shell=bash disable=SC2154 # klogd, klogctl, xdp_pass, max: the caller's
# lib.sh - sourced by the integration tests: TAP output, two network
# namespaces joined by a veth pair (the server's end for klogd, the client's
# end with a pass-through XDP program so XDP_TX replies arrive), and klogd
# started, restarted and stopped in the server namespace (tools/testbed.sh);
# and NATS JetStream clusters (tools/nats-cluster.sh) in that namespace too.
# The caller sets klogd, klogctl, xdp_pass and max, then sources this file.
set -u
# shellcheck source=tools/testbed.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/testbed.sh"
# shellcheck source=tests/integration/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

tag=${tag:-klogt-${test_part:+$test_part-}$$} # a test may name its part: tag=klogt-PART-$$, or test_part=PART
srv=$tag-s cli=$tag-c vs=ks$$ vc=kc$$ name=$tag
srv_ip=10.97.0.1
work=$(mktemp -d /var/tmp/klog-test-XXXXXX)
# shellcheck disable=SC2034 # the testbed_* functions use it by its name
pid=
cleanup_extra=:
nats_dirs=() # the clusters nats_start started, for cleanup
cleanup() {
	$cleanup_extra
	local d
	for d in "${nats_dirs[@]}"; do nats_stop "$d"; done
	testbed_down "$srv" "$cli" pid KILL
	rm -rf "/sys/fs/bpf/klog/$name" "$work"
}
trap cleanup EXIT

mtu=$((max + 100 > 1500 ? max + 100 : 1500))
testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" 10.97.0.2 "$xdp_pass" "$mtu" ||
	{ echo "Bail out! cannot set up the namespaces"; exit 1; }

testbed_klogd_failed() { sed 's/^/# /' "$1"; } # its log as TAP comments

klogd_wrap=() # a command klogd runs under, if any (seccomp-deny SYSCALL)
start_klogd() { # start_klogd LOG ARGS...: klogd in the server namespace, its pid in pid
	local log=$1
	shift
	testbed_start_klogd pid "$srv" "$log" "${klogd_wrap[@]}" "$klogd" --iface "$vs" \
		--name "$name" "$@"
}

restart_adopting() { # start_klogd, and it must say it adopted the pinned maps
	local log=$1
	: >"$log.restart"
	shift
	start_klogd "$log.restart" "$@" && grep -q "adopted the pinned log" "$log.restart"
}

stop_klogd() { # SIGTERM, and klogd's exit status
	testbed_stop_klogd pid TERM
}

remove_log() { # after a clean stop: what an operator does to drop the kernel log (doc/klogd.md)
	rm -rf "/sys/fs/bpf/klog/$name"
}

kill_klogd() { # SIGKILL: the programs stay attached, the maps pinned
	testbed_stop_klogd pid KILL 2>/dev/null
}

wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.05; done
}

ctl_map() { # a field of a pinned map, summed over CPUs: ctl_map klog_ctl next_lsn
	local v s=0
	# Summed by the shell: 64-bit integers, where awk's doubles would round.
	for v in $(bpftool map dump pinned "/sys/fs/bpf/klog/$name/$1" |
		sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"); do
		s=$((s + v))
	done
	echo "$s"
}

cli() { ip netns exec "$cli" "$@"; }

wait_durable() { # wait_durable DIR LSN: until the log holds LSN
	for _ in $(seq 200); do "$klogctl" read --dir "$1" "$2" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

send() { # send REQUEST_ID PAYLOAD [CLIENT]: a raw APPEND (client 77 by default) -> "OPCODE STATUS LSN"
	cli python3 - "$srv_ip" "$1" "$2" "${3:-77}" <<'PY'
import socket, struct, sys
server, rid, payload, client = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((server, 7070))
s.send(struct.pack(">IBBHIHHQQQ", 0x4b4c4f47, 1, 1, 0, client, 0, len(payload), rid, 5, 0) + payload)
h = struct.unpack(">IBBHIHHQQQ", s.recv(64)[:40])
print(h[2], h[5], h[9])
PY
}

drop_first_segment() { # drop_first_segment DIR: as a trim does; the first LSN kept in second
	local segs=("$1"/*.klog)
	[ "${#segs[@]}" -gt 1 ] || return 1
	rm -f "${segs[0]}" "${segs[0]%.klog}.idx"
	second=$((10#$(basename "${segs[1]}" .klog)))
}

# lossy_link TABLE N [RULE]: nftables table TABLE drops one in N klog datagrams each way on
# the client's veth (numgen random), with RULE too on the way out
lossy_link() {
	cli nft -f - <<NFT
table netdev $1 {
	chain out {
		type filter hook egress device "$vc" priority 0;
		udp dport 7070 numgen random mod $2 0 counter drop
		${3:-}
	}
	chain in {
		type filter hook ingress device "$vc" priority 0;
		udp sport 7070 numgen random mod $2 0 counter drop
	}
}
NFT
}

nft_packets() { # nft_packets TABLE WORD: packets counted by TABLE's rules that say WORD
	cli nft list table netdev "$1" | awk -v w="$2" '$0 ~ w {
		for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}

# --- NATS JetStream clusters --------------------------------------------------
# Three nats-server processes each, in the server namespace, where klogd
# reaches them on 127.0.0.1 (the root namespace's loopback is not klogd's).
# Clients of a cluster run there too: on_srv COMMAND....  cleanup stops every
# cluster nats_start started.
nats_cluster=$(dirname "${BASH_SOURCE[0]}")/../../tools/nats-cluster.sh

on_srv() { ip netns exec "$srv" "$@"; }

nats_start() { # nats_start DIR: servers n1..n3, ready; their URL line in DIR/urls
	nats_dirs+=("$1")
	ip -n "$srv" link set lo up && on_srv "$nats_cluster" start "$1"
}

nats_stop() { # nats_stop DIR: no server of DIR left (signals only: no namespace needed)
	"$nats_cluster" stop "$1"
}

nats_urls() { "$nats_cluster" urls "$1"; } # nats://127.0.0.1:P1,...,P3

nats_status() { "$nats_cluster" status "$1"; } # "nN up PID PORT" or "nN down"; 0 if all up

nats_kill() { "$nats_cluster" kill "$1" "$2"; } # nats_kill DIR N: SIGKILL server N, gone on return

nats_restart() { on_srv "$nats_cluster" restart "$1" "$2"; } # same ports and data; current on return

nats_leader() { on_srv "$nats_cluster" leader "$1" "$2"; } # nats_leader DIR STREAM -> n1, n2 or n3
