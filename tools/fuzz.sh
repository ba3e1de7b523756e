#!/usr/bin/env bash
# Run klog's libFuzzer targets (tests/fuzz, doc/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	cat <<'USAGE'
usage: tools/fuzz.sh [--seconds N] [--jobs N] [--build DIR] [--keep DIR] [TARGET...]

Build the fuzz targets with clang, libFuzzer, ASan and UBSan (a meson build
directory configured with -Dfuzz=enabled, set up if missing), then run each
TARGET (default: every tests/fuzz/fuzz_*.c: client export parse remote segdir
wire) for N seconds over a scratch copy of its seed corpus
(tests/fuzz/corpus/TARGET).
Prints one line per target, TAP-like:
  ok 1 - fuzz segdir: 412345 execs in 60 s, cov 612 ft 1893, corpus 35 -> 180
  not ok 2 - fuzz export: crash, input saved as DIR/fuzz-findings/export/crash-...
and exits 1 if any target found something (a crash, a sanitizer report, a
leak, a timeout of 10 s on one input), 0 otherwise.

  --seconds N   run each target N seconds (default 60)
  --jobs N      run N targets at a time (default 1)
  --build DIR   the clang build directory (default build-fuzz)
  --keep DIR    keep each target's grown corpus in DIR/TARGET (default: thrown away)
  -h, --help    this text

A finding's input reruns alone with BUILD/tests/fuzz/fuzz-TARGET FILE; commit
it under tests/fuzz/regress/TARGET/ so that the gcc build's test suite `fuzz`
runs it from then on.
USAGE
}

seconds=60 jobs=1 build=build-fuzz keep=""
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
	--jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--keep) keep=${2:?--keep needs a directory}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "tools/fuzz.sh: unknown option $1 (--help)" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
case "$seconds$jobs" in
*[!0-9]*) echo "tools/fuzz.sh: --seconds and --jobs take whole numbers" >&2; exit 2 ;;
esac
[ "$jobs" -ge 1 ] || jobs=1
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=${f#tests/fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
		echo "tools/fuzz.sh: no target $t (tests/fuzz/fuzz_$t.c)" >&2
		exit 2
	fi
done

if ! command -v clang >/dev/null; then
	echo "tools/fuzz.sh: needs clang and its libFuzzer (tools/deps.sh installs them)" >&2
	exit 2
fi
if [ ! -d "$build/meson-private" ]; then
	CC=clang meson setup "$build" -Dfuzz=enabled -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz-}" >/dev/null

work=$(mktemp -d /tmp/klog-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
findings="$build/fuzz-findings"

# Run target $1 for $seconds over a copy of its corpus; its log in $work/$1.log.
run() {
	local t=$1 dict=() rc=0
	mkdir -p "$work/$t.corpus" "$findings/$t"
	cp tests/fuzz/corpus/"$t"/* "$work/$t.corpus/"
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	# ASan's leak check runs at exit; UBSan aborts (-fno-sanitize-recover).
	"$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$findings/$t/" "${dict[@]}" \
		"$work/$t.corpus" >"$work/$t.log" 2>&1 || rc=$?
	echo $rc >"$work/$t.rc"
}

running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	run "$t" &
	running=$((running + 1))
done
wait

status=0 i=0
echo "1..${#targets[@]}"
for t in "${targets[@]}"; do
	i=$((i + 1))
	log=$work/$t.log rc=$(cat "$work/$t.rc")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	line=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
	seeds=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
	grown=$(find "$work/$t.corpus" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		echo "ok $i - fuzz $t: ${execs:-?} execs in $seconds s, cov ${cov:-?} ft ${ft:-?}," \
			"corpus $seeds -> $grown"
	else
		status=1
		what=$(grep -m1 -E 'FUZZ FINDING|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" || true)
		saved=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		echo "not ok $i - fuzz $t: ${what:-exit $rc}; input saved as ${saved:-none}"
		cp "$log" "$findings/$t/last.log"
		echo "# log: $findings/$t/last.log"
	fi
	if [ -n "$keep" ]; then
		mkdir -p "$keep/$t"
		cp "$work/$t.corpus"/* "$keep/$t/"
	fi
done
exit $status
