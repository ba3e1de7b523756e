#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - every benchmark of klog in one command: builds what they need,
# runs the comparisons one after another in the same run (in-kernel append
# cost, end to end over veth, kernel memory per record, the durable path
# beside fio, commit latency, replication into NATS JetStream, remote reads
# beside local ones and beside appends), each with its
# variants side by side in rounds, then writes doc/benchmarks.md (tables,
# goals met or not, gnuplot plots in doc/benchmarks/, the hand-written notes
# of bench/report/*.md) and
# doc/benchmarks.json with bench/report.py.  The parts' JSON goes to
# doc/benchmarks/data/.  Nothing is written unless every part succeeded: a
# failing part stops the run, named, exit status 1.  Run as root:
#
#     bench/run.sh --quick    # under 5 minutes
#     bench/run.sh            # about 15-20 minutes
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: bench/run.sh [--quick] [--rounds N] [--dir PARENT] [--build DIR]
  --quick        fewer and smaller runs: under 5 minutes (3 rounds of the
                 append cost, durable and commit parts; bench/e2e.sh --quick)
  --rounds N     rounds of every part (default: each part's own)
  --dir PARENT   file system for the disk benchmarks (durable.sh, commit.sh,
                 jetstream.sh, reads.sh):
                 their work files go under PARENT (default /var/tmp)
  --build DIR    meson build directory, set up when missing (default: build/
                 of this checkout)
Writes doc/benchmarks.md, doc/benchmarks.json and doc/benchmarks/ (plots,
data).  To re-render after editing bench/report/*.md, without measuring:
bench/report.py.
EOF
}

bench_options "" "$@"
[ -z "$json" ] || { usage >&2; exit 2; }
[ -d "$parent" ] || { echo "run.sh: --dir $parent: no such directory" >&2; exit 2; }
bench_need_root "BPF programs, namespaces, apt-get"
cd "$here"
invocation="bench/run.sh${*:+ $*}"

# What is measured: the commit, "-dirty" when tracked files differ from it
# (the generated report itself aside).
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] &&
	! git diff --quiet HEAD -- . ':(exclude)doc/benchmarks*' ':(exclude)bench/report/*.md'; then
	commit+=-dirty
fi
date=$(date -u '+%Y-%m-%d %H:%M UTC')

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
data=$stage/doc/benchmarks/data
mkdir -p "$data"
: >"$stage/commands"

# part NAME JSON CMD...: runs CMD and records it, as shown in the report, with
# its seconds.  JSON is the file the part writes (its stdout when no argument
# of CMD names it; "-" for none), which must hold a JSON object.  A failure
# ends run.sh, naming the part.
part() {
	local name=$1 out=$2 a shown=() text t0 rc=0 to_stdout=1
	shift 2
	for a; do
		[ "$a" != "$out" ] || to_stdout=0
		a=${a//"$data"/\$RESULTS}
		shown+=("${a#"$here"/}")
	done
	text=${shown[*]}
	[ "$out" = - ] || [ "$to_stdout" = 0 ] || text+=" > \$RESULTS/${out##*/}"
	echo "run.sh: == $name: $text" >&2
	if ! command -v "$1" >/dev/null; then
		echo "run.sh: FAILED: $name: $1 does not exist (not built?)" >&2
		exit 1
	fi
	t0=$(date +%s)
	if [ "$out" != - ] && [ "$to_stdout" = 1 ]; then
		"$@" >"$out" || rc=$?
	else
		"$@" >&2 || rc=$?
	fi
	[ "$rc" = 0 ] || { echo "run.sh: FAILED: $name (exit status $rc): $text" >&2; exit 1; }
	if [ "$out" != - ] && ! jq -e 'type == "object"' "$out" >/dev/null 2>&1; then
		echo "run.sh: FAILED: $name wrote no JSON object to ${out##*/}: $text" >&2
		exit 1
	fi
	echo "$text  # $name, $(($(date +%s) - t0)) s" >>"$stage/commands"
}

# The build: Debian's packages, the tools the parts and the report use.
part "packages" - tools/deps.sh
bench_install gnuplot:gnuplot-nox jq fio python3
[ -d "$build/meson-private" ] || part "meson setup" - meson setup "$build"
part "build" - ninja -C "$build"

# The parts' options.  --quick: 3 rounds where a round takes seconds; e2e.sh
# has its own --quick.
q=() r=() r3=() own=()
[ "$quick" = 0 ] || q=(--quick)
[ -z "$rounds" ] || r=(--rounds "$rounds")
r3=("${r[@]}")
[ "$quick" = 0 ] || [ -n "$rounds" ] || r3=(--rounds 3)
[ "$build" = "$here/build" ] || own=(--build "$build")
disk=(--dir "$parent" --build "$build")
bench_fs "$parent"

start=$(date +%s)
repeat=()
[ "$quick" = 0 ] || repeat=(--repeat 100000)
part "append cost" "$data/append_cost.json" \
	"$build/bench/append_cost" --json "${r3[@]}" "${repeat[@]}"
part "end to end" "$data/e2e.json" \
	bench/e2e.sh "${q[@]}" "${r[@]}" "${own[@]}" --json "$data/e2e.json"
part "kernel memory" "$data/mem_cost.json" "$build/bench/mem_cost" --json
part "durable path" "$data/durable.json" \
	bench/durable.sh "${q[@]}" "${r3[@]}" "${disk[@]}" --json "$data/durable.json"
part "commit latency" "$data/commit.json" \
	bench/commit.sh "${q[@]}" "${r3[@]}" "${disk[@]}" --json "$data/commit.json"
part "jetstream" "$data/jetstream.json" \
	bench/jetstream.sh "${q[@]}" "${r3[@]}" "${disk[@]}" --json "$data/jetstream.json"
part "remote reads" "$data/reads.json" \
	bench/reads.sh "${q[@]}" "${r3[@]}" "${disk[@]}" --json "$data/reads.json"

if [ -n "$rounds" ]; then
	mode="$rounds rounds of every part"
elif [ "$quick" = 1 ]; then
	mode="3 rounds (e2e.sh: its --quick default)"
else
	mode="each part's default rounds"
fi
if [ "$quick" = 1 ]; then mode="--quick, $mode"; else mode="full, $mode"; fi
toolchain="$(clang --version | head -1), gcc $(gcc -dumpfullversion), libbpf $(pkg-config \
	--modversion libbpf), liburing $(pkg-config --modversion liburing), $(fio --version), \
$(gnuplot --version)"
{ echo "$invocation  # all, $(($(date +%s) - start)) s of measuring"; cat "$stage/commands"; } |
	jq -R . | jq -s --arg commit "$commit" --arg date "$date" \
		--arg cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
		--argjson vcpus "$(nproc)" \
		--arg memory "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
		--arg kernel "$(uname -srm)" --arg tools "$toolchain" \
		--arg dir "$parent ($fstype on $dev)" --arg mode "$mode" \
		'{ commit: $commit, date: $date, cpu: $cpu, vcpus: $vcpus, memory: $memory,
		   kernel: $kernel, tools: $tools, dir: $dir, mode: $mode, commands: . }' \
		>"$data/meta.json"

# Render in the stage, then put it in place.
python3 bench/report.py --doc "$stage/doc" ||
	{ echo "run.sh: FAILED: the report (bench/report.py)" >&2; exit 1; }
rm -rf doc/benchmarks
cp -r "$stage/doc/benchmarks" doc/benchmarks
cp "$stage/doc/benchmarks.md" "$stage/doc/benchmarks.json" doc/
echo "run.sh: wrote doc/benchmarks.md, doc/benchmarks.json and doc/benchmarks/ ($commit)" >&2
jq -r '.ratios + { reads_by_lsn_per_s } | to_entries[] | "  \(.key) \(.value)"' \
	doc/benchmarks.json >&2
