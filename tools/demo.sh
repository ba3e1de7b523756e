#!/usr/bin/env bash
# The klog demo, as root on a fresh Debian 12 machine: install what is needed,
# build, join two network namespaces with a veth pair, start klogd on the
# server's end, stream records of mixed sizes from the client's end with a
# live progress line, check every record on disk byte for byte by LSN, read
# them all back again from the client's namespace through klogd, print a
# summary, and clean up.  RECORDS=N changes how many (default 300000).
# --backend jetstream: the log is a stream replicated by a local three-node
# NATS JetStream cluster (tools/nats-cluster.sh) instead of a directory, and
# the records are read back from it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/testbed.sh
. tools/testbed.sh

if [ "$(id -u)" != 0 ]; then
	echo "tools/demo.sh: must run as root (it loads BPF programs and makes namespaces)" >&2
	exit 1
fi
backend=dir
case "${1:-}" in
"") ;;
--backend) backend=${2:-} ;;
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: tools/demo.sh [--backend jetstream]" >&2; exit 2 ;;
esac
case $backend in
dir|jetstream) ;;
*) echo "tools/demo.sh: --backend jetstream (or nothing: a log directory), not '$backend'" >&2; exit 2 ;;
esac
records=${RECORDS:-300000}
srv=klogdemo-srv cli=klogdemo-cli vs=kdemo-s vc=kdemo-c
srv_ip=10.200.0.1 cli_ip=10.200.0.2

echo "== installing and building"
tools/deps.sh
[ -d build/meson-private ] || meson setup build >/dev/null
ninja -C build >/dev/null
klogd=build/klogd/klogd klogctl=build/klogctl/klogctl

work=$(mktemp -d /var/tmp/klog-demo-XXXXXX)
dir=$work/log
# shellcheck disable=SC2034 # the testbed_* functions use it by its name
klogd_pid=
# The demo's log is thrown away whole, pins and directory together: a clean
# stop keeps the pins, and a new empty directory is refused beside them.
pins=/sys/fs/bpf/klog/demo
nats=$work/nats
cleanup() {
	testbed_down "$srv" "$cli" klogd_pid
	[ "$backend" = dir ] || tools/nats-cluster.sh stop "$nats" >/dev/null 2>&1
	rm -rf "$work" "$pins"
}
trap cleanup EXIT

echo "== two namespaces joined by a veth pair: $srv ($srv_ip) and $cli ($cli_ip)"
testbed_down "$srv" "$cli" # what a demo killed before left behind
rm -rf "$pins"
testbed_up "$srv" "$cli" "$vs" "$vc" "$srv_ip" "$cli_ip" build/bpf/xdp_pass.bpf.o

# Where the log is, for klogd and for klogctl (which reads a stream from
# the server's namespace, where the cluster listens); bench's lag line.
store=(--dir "$dir") src=(--dir "$dir") lagsrc=(--dir "$dir") on=() where=$dir
if [ "$backend" = jetstream ]; then
	echo "== a three-node NATS JetStream cluster in $srv"
	ip netns exec "$srv" tools/nats-cluster.sh start "$nats"
	urls=$(tools/nats-cluster.sh urls "$nats")
	store=(--backend jetstream --nats "$urls" --stream klog-demo --replicas 3)
	src=(--nats "$urls" --stream klog-demo) lagsrc=() on=(ip netns exec "$srv")
	where="stream klog-demo, 3 replicas"
fi

echo "== starting klogd in $srv (log in $where)"
testbed_start_klogd klogd_pid "$srv" "$work/klogd.log" \
	"$klogd" --iface "$vs" --name demo "${store[@]}" || exit 1
grep "klogd: ready" "$work/klogd.log"

echo "== streaming $records records (75% 128 B, 25% 1024 B) from $cli"
ip netns exec "$cli" "$klogctl" bench --server "$srv_ip" --count "$records" --size mix \
	"${lagsrc[@]}" --acks "$work/acks" | tee "$work/bench.out"
last=$(tail -n 1 "$work/acks" | cut -d' ' -f1)

echo "== waiting for LSN $last to be durable, then reading every record back by LSN"
t0=$(date +%s.%N)
until "${on[@]}" "$klogctl" read "${src[@]}" "$last" >/dev/null 2>&1; do sleep 0.05; done
lag=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
"${on[@]}" "$klogctl" verify "${src[@]}" --count "$records" --size mix --acks "$work/acks" |
	tee "$work/verify.out"
sample=$((last / 2 + 1))
echo "record $sample, read by LSN: $("${on[@]}" "$klogctl" read "${src[@]}" "$sample" | wc -c) bytes" \
     "($("${on[@]}" "$klogctl" dump "${src[@]}" --from "$sample" --to "$sample"))"

echo "== reading every record back from $cli, through klogd (READ over UDP, no files)"
t0=$(date +%s.%N)
ip netns exec "$cli" "$klogctl" verify --server "$srv_ip" --count "$records" --size mix \
	--acks "$work/acks" | tee "$work/remote.out"
remote_s=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
ip netns exec "$cli" "$klogctl" info --server "$srv_ip"

echo "== stopping klogd"
testbed_stop_klogd klogd_pid || true
tail -n 2 "$work/klogd.log"

# The figures bench printed, by name: "appends N  seconds S ... p50 X p99 Y ...".
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$work/bench.out"; }
appends=$(field appends) secs=$(field seconds) rate=$(field appends/s) mbs=$(field MB/s)
p50=$(field p50) p99=$(field p99)
printf '\n%-34s %s\n' "summary" ""
printf '%-34s %s\n' "records appended and acknowledged" "$appends"
printf '%-34s %s\n' "seconds" "$secs"
printf '%-34s %s\n' "appends/s (one outstanding)" "$rate"
printf '%-34s %s\n' "MB/s" "$mbs"
printf '%-34s %s\n' "ack latency p50 / p99 (us)" "$p50 / $p99"
printf '%-34s %s\n' "last LSN durable after the stream" "${lag} s"
printf '%-34s %s\n' "records verified by LSN" "$(awk '/^verified / {print $2}' "$work/verify.out")"
printf '%-34s %s\n' "read back via klogd (range, LSN)" \
	"$(awk '/^verified / {print $2}' "$work/remote.out") records in $remote_s s"
printf '%-34s %s\n' "log id" "$(sed -n 's/.*log id \(0x[0-9a-f]*\).*/\1/p' "$work/verify.out")"
if [ "$backend" = jetstream ]; then
	printf '%-34s %s\n' "log" "$where (JetStream, on 127.0.0.1 in $srv)"
	printf '%-34s %s\n' "stream data, all three servers" "$(du -sh "$nats" | cut -f1)"
else
	printf '%-34s %s\n' "segment files" "$(find "$dir" -name '*.klog' | wc -l)"
	printf '%-34s %s\n' "log size on disk" "$(du -sh "$dir" | cut -f1)"
fi
