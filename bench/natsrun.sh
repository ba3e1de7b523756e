# shellcheck shell=bash
# shellcheck disable=SC2154 # the caller's variables
# natsrun.sh - sourced by bench/jetstream.sh: a 3-node NATS JetStream
# cluster on 127.0.0.1 inside a network namespace (klogd's), so klogd and
# js_pub reach it over that namespace's loopback.  tools/nats-cluster.sh
# when this checkout has it; until then a minimal stand-in: in a namespace
# of our own every port is free, so fixed ones do.
#
#   nats_cluster_start NETNS DIR   DIR/urls: the client URLs, comma-separated
#   nats_cluster_stop DIR          quiet; always succeeds
#   nats_cluster_kind              which of the two runs it

nats_tool=$here/tools/nats-cluster.sh

nats_cluster_kind() {
	if [ -x "$nats_tool" ]; then echo "tools/nats-cluster.sh"; else echo "bench/natsrun.sh stand-in"; fi
}

nats_cluster_start() {
	local ns=$1 d=$2 i routes=
	mkdir -p "$d"
	if [ -x "$nats_tool" ]; then
		ip netns exec "$ns" "$nats_tool" start "$d" >&2
		return
	fi
	for i in 0 1 2; do routes+=${routes:+,}nats://127.0.0.1:$((6322 + i)); done
	for i in 0 1 2; do
		ip netns exec "$ns" nats-server --jetstream --store_dir "$d/n$i" \
			--addr 127.0.0.1 --port $((4322 + i)) --http_port $((8322 + i)) \
			--server_name "n$i" --cluster_name klog-bench \
			--cluster "nats://127.0.0.1:$((6322 + i))" --routes "$routes" \
			>"$d/n$i.log" 2>&1 &
		echo $! >"$d/n$i.pid"
	done
	echo "nats://127.0.0.1:4322,nats://127.0.0.1:4323,nats://127.0.0.1:4324" >"$d/urls"
	# Ready when every server's /healthz says JetStream is (a meta leader elected).
	for _ in $(seq 200); do
		sleep 0.1
		for i in 0 1 2; do
			ip netns exec "$ns" curl -sf "http://127.0.0.1:$((8322 + i))/healthz" \
				>/dev/null 2>&1 || continue 2
		done
		return 0
	done
	return 1
}

nats_cluster_stop() {
	local d=$1 p
	[ -d "$d" ] || return 0
	if [ -x "$nats_tool" ]; then
		"$nats_tool" stop "$d" >&2 2>/dev/null || :
		return 0
	fi
	for p in "$d"/n*.pid; do
		[ -f "$p" ] || continue
		kill "$(cat "$p")" 2>/dev/null &&
			{ timeout 10 tail --pid="$(cat "$p")" -f /dev/null || kill -9 "$(cat "$p")"; }
		rm -f "$p"
	done
	return 0
}
