# lib.sh - sourced by the integration tests: TAP output, two network
# namespaces joined by a veth pair (the server's end for klogd, the client's
# end with a pass-through XDP program so XDP_TX replies arrive), and klogd
# started, restarted and stopped in the server namespace.
# The caller sets klogd, klogctl, xdp_pass and max, then sources this file.
set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { # check NAME COMMAND...
	if "${@:2}"; then ok "$1"; else not_ok "$1"; fi
}
finish() { echo "1..$n"; exit $failed; }

tag=klogt-$$
srv=$tag-s cli=$tag-c vs=ks$$ vc=kc$$ name=$tag
srv_ip=10.97.0.1
work=$(mktemp -d /var/tmp/klog-test-XXXXXX)
pid=
cleanup_extra=:
cleanup() {
	$cleanup_extra
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	ip netns del "$cli" 2>/dev/null
	rm -rf "/sys/fs/bpf/klog/$name" "$work"
}
trap cleanup EXIT

mtu=$((max + 100 > 1500 ? max + 100 : 1500))
ip netns add "$srv" && ip netns add "$cli" &&
	ip link add "$vs" mtu "$mtu" netns "$srv" type veth peer name "$vc" mtu "$mtu" netns "$cli" &&
	ip -n "$srv" addr add "$srv_ip/24" dev "$vs" && ip -n "$cli" addr add 10.97.0.2/24 dev "$vc" &&
	ip -n "$srv" link set "$vs" up && ip -n "$cli" link set "$vc" up &&
	ip -n "$cli" link set dev "$vc" xdpdrv obj "$xdp_pass" sec xdp ||
	{ echo "Bail out! cannot set up the namespaces"; exit 1; }

# start_klogd LOG ARGS...: klogd in the server namespace (nsenter, not `ip
# netns exec`, so its pins land in this bpffs)
start_klogd() {
	local log=$1
	shift
	nsenter --net=/var/run/netns/"$srv" "$klogd" --iface "$vs" --name "$name" "$@" 2>>"$log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q "klogd: ready" "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# /' "$log"
	return 1
}

restart_adopting() { # start_klogd, and it must say it adopted the pinned maps
	local log=$1
	: >"$log.restart"
	shift
	start_klogd "$log.restart" "$@" && grep -q "adopted the pinned log" "$log.restart"
}

stop_klogd() { # SIGTERM, and klogd's exit status
	kill -TERM "$pid" && wait "$pid"
	local rc=$?
	pid=
	return $rc
}

kill_klogd() { # SIGKILL: the programs stay attached, the maps pinned
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	pid=
}

ctl_map() { # a field of a pinned map, summed over CPUs: ctl_map klog_ctl next_lsn
	bpftool map dump pinned "/sys/fs/bpf/klog/$name/$1" |
		sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'
}

cli() { ip netns exec "$cli" "$@"; }

wait_durable() { # wait_durable DIR LSN: until the log holds LSN
	for _ in $(seq 200); do "$klogctl" read --dir "$1" "$2" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
