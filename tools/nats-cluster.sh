#!/usr/bin/env bash
# nats-cluster.sh - a local three-node NATS JetStream cluster, for the
# jetstream backend's tests and the demo (issue 10): servers n1, n2 and n3 of
# cluster "klog" on 127.0.0.1, each with its own config, data directory, log
# and pid file under one DIR.  Run `tools/nats-cluster.sh --help`.
#
# The ports are picked free at start and written into the configs, so that two
# clusters run side by side, and a server restarted later gets its own ports
# back.  Readiness is read from each server's monitoring port (/healthz and
# /jsz, as nats-server 2.9.10 serves them), never guessed from a sleep.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: tools/nats-cluster.sh start DIR           three servers n1..n3 with JetStream on free
                                                 127.0.0.1 ports; returns once they are ready
       tools/nats-cluster.sh stop DIR            SIGTERM, SIGKILL after 10 s: no server is left
       tools/nats-cluster.sh status DIR          "nN up PID PORT" or "nN down"; 0 if all are up
       tools/nats-cluster.sh kill DIR N          SIGKILL server N (1, 2 or 3)
       tools/nats-cluster.sh restart DIR N       start server N again, same ports and data;
                                                 returns once it is back and current
       tools/nats-cluster.sh urls DIR            the client URLs: nats://127.0.0.1:P1,...
       tools/nats-cluster.sh leader DIR STREAM   the server (n1..n3) that leads STREAM
DIR holds nN.conf, nN.pid, nN.log, nN/ (JetStream's data), urls (the URL line)
and lock (one command at a time changes the servers; stop waits for a start).
start on a DIR whose cluster was stopped starts it again with its ports and data.
NATS_CLUSTER_TIMEOUT (seconds, default 30) bounds every wait.
EOF
}

nodes=(1 2 3)
timeout=${NATS_CLUSTER_TIMEOUT:-30}

die() {
	echo "nats-cluster: $*" >&2
	exit 1
}

# node_pid DIR N: the pid of server N of DIR, if it runs.  The command line
# must name DIR's config: a pid file outlives its process, and the pid may
# have gone to another process since (a zombie's command line is empty).
node_pid() {
	local pid
	pid=$(cat "$1/n$2.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
		grep -qF -- "-c $1/n$2.conf " && echo "$pid"
}

conf_port() { # conf_port DIR N KEY: the port of "KEY: 127.0.0.1:PORT" in server N's config
	sed -n "s/^$3: 127\.0\.0\.1:\([0-9]*\)$/\1/p" "$1/n$2.conf"
}

# free_ports COUNT: COUNT distinct ports that nothing listens on now, below the
# kernel's ephemeral range, where outgoing connections (the routes' too) do not
# take them between this check and the server's bind.
free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports = []
while len(ports) < int(sys.argv[1]):
    p = random.randrange(10000, low) if low > 11000 else 0
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        p = s.getsockname()[1]
    except OSError:
        continue
    finally:
        s.close()
    if p not in ports:
        ports.append(p)
print(*ports)
PY
}

write_configs() { # write_configs DIR: new configs on free ports, and the urls line
	local d=$1 n urls=() routes=() ports
	read -r -a ports <<<"$(free_ports 9)"
	[ "${#ports[@]}" = 9 ] || die "$d: cannot find free ports"
	# ports: client 0-2, cluster 3-5, monitoring 6-8
	for n in "${nodes[@]}"; do
		routes+=("nats-route://127.0.0.1:${ports[n + 2]}")
		urls+=("nats://127.0.0.1:${ports[n - 1]}")
	done
	for n in "${nodes[@]}"; do
		mkdir -p "$d/n$n"
		cat >"$d/n$n.conf" <<EOF
# Written by tools/nats-cluster.sh start; restart reads it again.
server_name: n$n
listen: 127.0.0.1:${ports[n - 1]}
http: 127.0.0.1:${ports[n + 5]}
jetstream {
	store_dir: "$d/n$n"
}
cluster {
	name: klog
	listen: 127.0.0.1:${ports[n + 2]}
	routes: [$(IFS=,; echo "${routes[*]}")]
}
EOF
	done
	(IFS=,; echo "${urls[*]}") >"$d/urls"
}

start_node() { # start_node DIR N: no wait; its pid file at once, for stop
	# Without fd 9, DIR's lock: a server must not hold it.
	nats-server -c "$1/n$2.conf" </dev/null >>"$1/n$2.log" 2>&1 9>&- &
	echo $! >"$1/n$2.pid"
}

# ready DIR N...: one look at servers N... (the ones that should be up): each
# healthy, all with the same JetStream meta leader, one of them, which sees
# the others current, and the same for each stream.  Prints why not, when not.
ready() {
	local d=$1 n args=()
	shift
	for n in "$@"; do args+=("n$n=$(conf_port "$d" "$n" http)"); done
	python3 - "${args[@]}" <<'PY'
import json, sys, urllib.error, urllib.request
# No proxy from the environment: these are loopback addresses.
get = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
def fetch(port, path):
    try:
        with get(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # /healthz answers 503 with its reason
        return json.load(e)
    except urllib.error.URLError as e:
        raise OSError(f"127.0.0.1:{port}{path}: {e.reason}")
try:
    up = dict(a.split("=") for a in sys.argv[1:])
    for name, port in up.items():
        h = fetch(port, "/healthz")
        if h.get("status") != "ok":
            sys.exit(f"{name}: {h.get('error') or h}")
    meta = {name: fetch(port, "/jsz")["meta_cluster"] for name, port in up.items()}
    leaders = {m.get("leader", "") for m in meta.values()}
    if len(leaders) != 1 or "" in leaders:
        sys.exit("no JetStream meta leader all agree on: " +
                 ", ".join(f"{n} sees {m.get('leader') or 'none'}" for n, m in meta.items()))
    leader = leaders.pop()
    if leader not in up:
        sys.exit(f"the meta leader {leader} is not among the servers up")
    current = {r["name"] for r in meta[leader].get("replicas", []) if r.get("current")}
    behind = sorted(set(up) - current - {leader})
    if behind:
        sys.exit(f"not current with the meta leader {leader}: {' '.join(behind)}")
    # Each stream led by a server up, which sees its replicas up current:
    # a restarted server has caught up with the streams it holds too.
    streams = {}
    for name, port in up.items():
        for acc in fetch(port, "/jsz?streams=true").get("account_details") or []:
            for s in acc.get("stream_detail") or []:
                key, c = f"stream {acc['name']} > {s['name']}", s.get("cluster") or {}
                if c.get("leader") == name:
                    streams[key] = c
                else:
                    streams.setdefault(key, None)
    for key, c in streams.items():
        if c is None:
            sys.exit(f"{key}: no leader among the servers up")
        behind = [r["name"] for r in c.get("replicas") or []
                  if r["name"] in up and not r.get("current")]
        if behind:
            sys.exit(f"{key}: not current with its leader {c['leader']}: {' '.join(behind)}")
except (OSError, ValueError, KeyError) as e:
    sys.exit(f"monitoring endpoint: {e}")
PY
}

log_tails() { # the last lines of each server's log, on stderr
	local n
	for n in "${nodes[@]}"; do
		echo "--- $1/n$n.log (last 10 lines)" >&2
		tail -n 10 "$1/n$n.log" >&2 2>/dev/null || true
	done
}

# wait_ready DIR N...: until ready DIR N..., or a server of N... has exited
# (status 2, 3 if its log says its port was taken), or the timeout (status 1);
# the reason and the logs on stderr then.
wait_ready() {
	local d=$1 n why deadline=$((SECONDS + timeout))
	shift
	while :; do
		for n in "$@"; do
			if ! node_pid "$d" "$n" >/dev/null; then
				echo "nats-cluster: $d: n$n exited" >&2
				log_tails "$d"
				grep -q "address already in use" "$d/n$n.log" && return 3
				return 2
			fi
		done
		why=$(ready "$d" "$@" 2>&1) && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "nats-cluster: $d: not ready after ${timeout} s: $why" >&2
			log_tails "$d"
			return 1
		fi
		sleep 0.2
	done
}

# signal_wait DIR SIGNAL SECONDS N...: SIGNAL to servers N... that run, and
# wait up to SECONDS until none does; fails if one still runs.
signal_wait() {
	local d=$1 sig=$2 n pid left deadline=$((SECONDS + $3))
	shift 3
	for n in "$@"; do
		if pid=$(node_pid "$d" "$n"); then kill "-$sig" "$pid" 2>/dev/null || true; fi
	done
	while :; do
		left=0
		for n in "$@"; do node_pid "$d" "$n" >/dev/null && left=1; done
		[ "$left" = 0 ] && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

cmd_stop() {
	local d=$1 n
	[ -d "$d" ] || return 0 # nothing was started there
	signal_wait "$d" TERM 10 "${nodes[@]}" ||
		signal_wait "$d" KILL 5 "${nodes[@]}" ||
		die "$d: a server survives SIGKILL"
	for n in "${nodes[@]}"; do rm -f "$d/n$n.pid"; done
}

cmd_start() {
	local d=$1 n attempt rc fresh=0
	for n in "${nodes[@]}"; do
		node_pid "$d" "$n" >/dev/null && die "$d: n$n runs already"
	done
	[ -f "$d/n1.conf" ] || fresh=1
	# Killed half-way, start leaves no server behind either.
	trap 'cmd_stop "$d"; exit 143' TERM
	trap 'cmd_stop "$d"; exit 130' INT
	trap 'cmd_stop "$d"; exit 129' HUP
	for attempt in 1 2 3; do
		[ "$fresh" = 1 ] && write_configs "$d"
		for n in "${nodes[@]}"; do start_node "$d" "$n"; done
		rc=0
		wait_ready "$d" "${nodes[@]}" || rc=$?
		if [ "$rc" = 0 ]; then
			trap - TERM INT HUP
			return 0
		fi
		cmd_stop "$d"
		# A port taken between the check and the bind: other ports, if they
		# are ours to choose.
		if [ "$rc" != 3 ] || [ "$fresh" = 0 ] || [ "$attempt" = 3 ]; then break; fi
		echo "nats-cluster: $d: trying other ports" >&2
		rm -f "$d"/n?.log
	done
	die "$d: cannot start the cluster"
}

cmd_status() {
	local d=$1 n pid all=0
	for n in "${nodes[@]}"; do
		if pid=$(node_pid "$d" "$n"); then
			echo "n$n up $pid $(conf_port "$d" "$n" listen)"
		else
			echo "n$n down"
			all=1
		fi
	done
	return $all
}

cmd_kill() {
	local d=$1 n=$2
	node_pid "$d" "$n" >/dev/null || die "$d: n$n does not run"
	# Gone for sure, so that a restart binds its ports again.
	signal_wait "$d" KILL 5 "$n" || die "$d: n$n survives SIGKILL"
}

cmd_restart() {
	local d=$1 n=$2 m up=()
	node_pid "$d" "$n" >/dev/null && die "$d: n$n runs already"
	start_node "$d" "$n"
	for m in "${nodes[@]}"; do node_pid "$d" "$m" >/dev/null && up+=("$m"); done
	wait_ready "$d" "${up[@]}" || die "$d: n$n did not come back"
}

cmd_leader() { # the server that says it leads STREAM; asked of every server up
	local d=$1 stream=$2 n args=()
	for n in "${nodes[@]}"; do
		node_pid "$d" "$n" >/dev/null && args+=("n$n=$(conf_port "$d" "$n" http)")
	done
	[ "${#args[@]}" -gt 0 ] || die "$d: no server runs"
	python3 - "$stream" "${args[@]}" <<'PY' || die "$d: no server leads stream $stream"
import json, sys, urllib.request
get = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
stream = sys.argv[1]
for name, port in (a.split("=") for a in sys.argv[2:]):
    try:
        with get(f"http://127.0.0.1:{port}/jsz?streams=true", timeout=2) as r:
            jsz = json.load(r)
    except (OSError, ValueError):
        continue
    # A follower's view of the leader may be stale: only the leader's own word counts.
    for acc in jsz.get("account_details") or []:
        for s in acc.get("stream_detail") or []:
            if s.get("name") == stream and (s.get("cluster") or {}).get("leader") == name:
                print(name)
                sys.exit(0)
sys.exit(1)
PY
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
start | stop | status | urls) [ $# = 2 ] || { usage >&2; exit 2; } ;;
kill | restart) if [ $# != 3 ] || ! [[ $3 =~ ^[123]$ ]]; then usage >&2; exit 2; fi ;;
leader) [ $# = 3 ] || { usage >&2; exit 2; } ;;
*) usage >&2; exit 2 ;;
esac
cmd=$1
[ "$cmd" = start ] && mkdir -p "$2"
# Absolute, as the configs and the pid checks name it.
if [ -d "$2" ]; then
	dir=$(cd "$2" && pwd)
elif [ "$cmd" = stop ]; then
	exit 0
else
	die "$2: no such directory"
fi
[ "$cmd" = start ] || [ "$cmd" = stop ] || [ -f "$dir/n1.conf" ] ||
	die "$dir: no cluster was started there"
if [ "$cmd" = start ] || [ "$cmd" = restart ]; then
	command -v nats-server >/dev/null || die "nats-server is not installed (tools/deps.sh installs it)"
fi
# One command at a time changes DIR's servers: a test killed while it starts a
# cluster has its cleanup stop it, and that stop must come after the start,
# or the start would go on and leave servers behind.
if [ "$cmd" != status ] && [ "$cmd" != urls ] && [ "$cmd" != leader ]; then
	exec 9>>"$dir/lock"
	flock -w $((timeout + 30)) 9 || die "$dir: busy: another nats-cluster.sh holds $dir/lock"
fi

case $cmd in
start) cmd_start "$dir" ;;
stop) cmd_stop "$dir" ;;
status) cmd_status "$dir" ;;
kill) cmd_kill "$dir" "$3" ;;
restart) cmd_restart "$dir" "$3" ;;
urls) cat "$dir/urls" ;;
leader) cmd_leader "$dir" "$3" ;;
esac
