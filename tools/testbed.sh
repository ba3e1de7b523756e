# shellcheck shell=bash
# testbed.sh - sourced by tools/demo.sh, bench/commit.sh and the integration
# tests (tests/integration/lib.sh): two network namespaces joined by a veth
# pair, the server's end for klogd and the client's end with a pass-through
# XDP program, so that XDP_TX replies arrive; klogd started and stopped in the
# server namespace; and the teardown.
#
#   testbed_up SRV CLI VS VC SRV_IP CLI_IP XDP_PASS [MTU [QUEUES]]
#   testbed_start_klogd PIDVAR SRV LOG KLOGD [ARG...]
#   testbed_stop_klogd PIDVAR [SIGNAL]
#   testbed_down SRV CLI [PIDVAR [SIGNAL]]
#
# Works with and without set -e; needs root.

# testbed_up SRV CLI VS VC SRV_IP CLI_IP XDP_PASS [MTU [QUEUES]]: namespaces
# SRV and CLI, the veth pair VS (in SRV, address SRV_IP/24) and VC (in CLI,
# CLI_IP/24), both up, MTU bytes when given (empty: the default), QUEUES rx
# and tx queues on each end when given (default 1); XDP_PASS is the object
# file of a pass-through program (section xdp).  Loopback is up in both, for
# servers the test runs beside klogd (NATS).  Fails at the first step that
# fails, with ip's status.
testbed_up() {
	local srv=$1 cli=$2 vs=$3 vc=$4 srv_ip=$5 cli_ip=$6 xdp_pass=$7 link_opt=()
	[ -z "${8:-}" ] || link_opt=(mtu "$8")
	[ -z "${9:-}" ] || link_opt+=(numtxqueues "$9" numrxqueues "$9")
	ip netns add "$srv" && ip netns add "$cli" &&
		ip link add "$vs" "${link_opt[@]}" netns "$srv" \
			type veth peer name "$vc" "${link_opt[@]}" netns "$cli" &&
		ip -n "$srv" addr add "$srv_ip/24" dev "$vs" &&
		ip -n "$cli" addr add "$cli_ip/24" dev "$vc" &&
		ip -n "$srv" link set "$vs" up && ip -n "$cli" link set "$vc" up &&
		ip -n "$srv" link set lo up && ip -n "$cli" link set lo up &&
		# A veth receives its peer's XDP_TX frames only when it runs NAPI,
		# which an XDP program (here one that passes everything) turns on.
		ip -n "$cli" link set dev "$vc" xdpdrv obj "$xdp_pass" sec xdp
}

# What testbed_start_klogd does when klogd does not say it is ready: show its
# LOG on stderr.  A caller that reports it otherwise defines its own after
# sourcing this file.
testbed_klogd_failed() {
	cat "$1" >&2
}

# testbed_start_klogd PIDVAR SRV LOG KLOGD [ARG...]: KLOGD ARG... in the
# background in namespace SRV, its stderr appended to LOG, its pid in the
# variable PIDVAR; waits up to 10 s for the line "klogd: ready" in LOG.  Fails
# (testbed_klogd_failed LOG, status 1) when klogd exits or is not ready by then.
# nsenter, not `ip netns exec`: klogd's pins must land in this host's bpffs.
testbed_start_klogd() {
	local _tb_var=$1 _tb_log=$3
	nsenter --net=/var/run/netns/"$2" "${@:4}" 2>>"$_tb_log" &
	printf -v "$_tb_var" %s "$!"
	for _ in $(seq 100); do
		grep -q "klogd: ready" "$_tb_log" && return 0
		kill -0 "${!_tb_var}" 2>/dev/null || break
		sleep 0.1
	done
	testbed_klogd_failed "$_tb_log"
	return 1
}

# testbed_stop_klogd PIDVAR [SIGNAL]: sends SIGNAL (default TERM) to the klogd
# whose pid is in PIDVAR and waits for it; empties PIDVAR.  Returns klogd's exit
# status, or 1 when it could not be signalled (it had exited already).
testbed_stop_klogd() {
	local _tb_var=$1 _tb_rc=0
	kill -"${2:-TERM}" "${!_tb_var}" && wait "${!_tb_var}" || _tb_rc=$?
	printf -v "$_tb_var" %s ""
	return $_tb_rc
}

# testbed_down SRV CLI [PIDVAR [SIGNAL]]: stops the klogd in PIDVAR, if any,
# with SIGNAL (default TERM), then deletes namespaces SRV and CLI (and with them
# the veth pair).  Quiet; always succeeds, so it serves before testbed_up too.
testbed_down() {
	if [ -n "${3:-}" ] && [ -n "${!3:-}" ]; then
		testbed_stop_klogd "$3" "${4:-TERM}" 2>/dev/null || :
	fi
	ip netns del "$1" 2>/dev/null || :
	ip netns del "$2" 2>/dev/null || :
}
