#!/usr/bin/env bash
# Description: the local NATS JetStream cluster the jetstream backend's tests
# run on (tools/nats-cluster.sh, through lib.sh's nats_* helpers, in the
# server namespace).  start gives three live servers and a URL line of three
# distinct ports, each answering; a second cluster beside it gets other ports,
# and stopping it leaves the first alone.  The cluster takes a stream of three
# replicas and a message; leader names the stream's leader, and after that
# server is SIGKILLed the stream answers with a new leader, keeps the message
# and takes another; restart brings the server back, current, and status
# shows three up.  stop leaves no server of the directory.
# Usage: test-nats-cluster.sh XDP_PASS_OBJ MAX_RECORD PROBE   (TAP; needs root)
# shellcheck disable=SC2317 # the functions are called by check, by name
xdp_pass=$1 max=$2 probe=$3
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

a=$work/nats-a b=$work/nats-b

ports() { tr ',' '\n' <"$1/urls" | sed -n 's#^nats://127\.0\.0\.1:\([0-9][0-9]*\)$#\1#p'; }

servers_of() { pgrep -f -- "nats-server -c $1/n[123].conf" | grep -c .; } # how many run

all_up() { nats_status "$1" >/dev/null; } # status, its lines not in the TAP output

gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status"; } # exited, or a zombie

three_live() { # each pid file names a running nats-server
	local i pid
	for i in 1 2 3; do
		pid=$(cat "$1/n$i.pid")
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != nats-server ] || gone "$pid"; then
			echo "# n$i: pid '$pid' is not a running nats-server"
			return 1
		fi
	done
}

urls_line() { # one line of three nats://127.0.0.1:PORT, the ports distinct
	if [ "$(grep -c . "$1/urls")" != 1 ] || [ "$(ports "$1" | sort -u | grep -c .)" != 3 ]; then
		echo "# urls: $(cat "$1/urls")"
		return 1
	fi
}

all_answer() { # a NATS INFO line on each client port, from the server namespace
	local p
	for p in $(ports "$1"); do
		# shellcheck disable=SC2016 # expanded by the inner shell
		on_srv timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 5 <&3' _ "$p" |
			grep -q '^INFO ' || { echo "# port $p: no INFO line"; return 1; }
	done
}

# --- start --------------------------------------------------------------------
if ! nats_start "$a" 2>"$work/start.err"; then
	sed 's/^/# /' "$work/start.err"
	echo "Bail out! tools/nats-cluster.sh start failed"
	exit 1
fi
ok "start: returns once the cluster is ready"
check "start: three live nats-server processes, one per pid file" three_live "$a"
check "start: status says all three are up" all_up "$a"
check "start: the urls file is one line of three distinct ports" urls_line "$a"
check "start: nats_urls prints that line" test "$(nats_urls "$a")" = "$(cat "$a/urls")"
check "start: each client port answers as a NATS server" all_answer "$a"

check "a second cluster starts beside the first" nats_start "$b"
check "the second cluster's ports are not the first's" \
	test "$( (ports "$a"; ports "$b") | sort -u | grep -c .)" = 6
check "stop: the second cluster stops" nats_stop "$b"
check "stop: none of its servers is left" test "$(servers_of "$b")" = 0
check "stop: the first cluster still runs, all three" three_live "$a"

# --- a replicated stream ------------------------------------------------------
urls=$(nats_urls "$a") stream=klogt-r3 msg1="record one $$" msg2="record two $$"
probe() { on_srv "$probe" "$1" "$urls" "${@:2}"; } # probe COMMAND ARGS... on cluster a
field() { probe info "$stream" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; } # field NAME: of info's line
check "the cluster takes a stream of three replicas" probe add-stream "$stream" 3
check "the stream has three replicas, all current" \
	test "$(field replicas) $(field current)" = "3 3"
check "a message is stored at sequence 1" test "$(probe pub "$stream" "$msg1")" = "$stream 1"
check "the message reads back" test "$(probe get "$stream" 1)" = "$msg1"

leader=$(nats_leader "$a" "$stream") || leader=
check "leader names a server ('$leader')" test -n "$(echo "$leader" | grep -x 'n[123]')"
check "leader names the one the stream reports" test "$(field leader)" = "$leader"

# --- the leader SIGKILLed -----------------------------------------------------
k=${leader#n}
[[ $k =~ ^[123]$ ]] || k=1 # a failed check above; go on with some server
pid=$(cat "$a/n$k.pid")
check "kill: server n$k is SIGKILLed" nats_kill "$a" "$k"
check "kill: its process is gone" gone "$pid"
check "kill: status fails" test "$(nats_status "$a" >"$work/status"; echo $?)" = 1
check "kill: status says n$k is down, only it" test "$(grep -v " up " "$work/status")" = "n$k down"

new_leader() { # until the stream answers with a leader other than n$k
	local l
	for _ in $(seq 150); do
		l=$(field leader 2>/dev/null)
		[ -n "$l" ] && [ "$l" != - ] && [ "$l" != "n$k" ] && return 0
		sleep 0.2
	done
	echo "# last info: $(probe info "$stream" 2>&1)"
	return 1
}
check "kill: the stream answers with a new leader" new_leader
leader=$(nats_leader "$a" "$stream") || leader=
check "kill: nats_leader names the new leader ('$leader')" test "$leader" = "$(field leader)"
check "kill: the stream keeps the message" test "$(probe get "$stream" 1)" = "$msg1"
check "kill: two servers of three store a new message, at sequence 2" \
	test "$(probe pub "$stream" "$msg2")" = "$stream 2"

# --- restart ------------------------------------------------------------------
check "restart: n$k starts again" nats_restart "$a" "$k"
check "restart: status says all three are up" all_up "$a"
check "restart: n$k listens on its old client port" \
	test "$(nats_status "$a" | sed -n "s/^n$k up [0-9]* //p")" = "$(ports "$a" | sed -n "${k}p")"
check "restart: the stream's three replicas are current" test "$(field current)" = 3
holds() { # holds FIRST LAST MSGS: what the stream's info says
	local line
	line=$(probe info "$stream" 2>&1)
	[[ $line == "first=$1 last=$2 msgs=$3 "* ]] || { echo "# info: $line"; return 1; }
}
check "restart: the stream holds both messages, sequences 1 to 2" holds 1 2 2
check "restart: the second message reads back" test "$(probe get "$stream" 2)" = "$msg2"

# --- stop ---------------------------------------------------------------------
check "stop: returns 0" nats_stop "$a"
check "stop: no nats-server of the directory is left" test "$(servers_of "$a")" = 0
check "stop: status says all three are down" \
	test "$(nats_status "$a" | grep -c " down$")" = 3
check "stop again: nothing to do, returns 0" nats_stop "$a"
finish
