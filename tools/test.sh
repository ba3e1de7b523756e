#!/usr/bin/env bash
# Run klog's whole test suite on this machine, as root: install the Debian
# packages it needs, build two configurations (the default, and 64-byte blocks
# with 3000-byte records), run every suite of each, run each libFuzzer target
# for 5 seconds (tools/fuzz.sh), and end with one line
# "N passed, N failed" counting test cases (TAP lines), not programs.
# --sanitize adds a third configuration, built with ASan and UBSan (see usage).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	cat <<'EOF'
usage: tools/test.sh [--sanitize] [--vm]

As root: install the Debian packages the tests need (tools/deps.sh), build
build/ (defaults) and build-large/ (-Dblock_size=64 -Dmax_record=3000), run
every suite of each (build-large: the integration tests that carry records),
run each libFuzzer target for 5 s, and end with one line "N passed, N failed"
counting test cases (TAP lines), not programs.  Exit status 0 only if nothing failed.

  --sanitize  also build build-san/ with clang's AddressSanitizer,
              LeakSanitizer and UBSan (-Db_sanitize=address,undefined,
              -fno-sanitize-recover=all) and run in it the unit suite, the
              klogd and serve integration tests (klogd's drain, DURABLE
              notices and READ/INFO answers) and the packet fuzzer (libklog's
              map access under 100,000 frames), with timeouts tripled.  Every
              finding is fatal to the process that makes it, so it fails its
              test; the reports are also written to build-san/sanitizer-reports/,
              printed, and each counted as one failure in the final line.
              Not part of CI (.ci/run): it adds about 6 minutes.
  --vm        after the host suites, run the bpf suite of build/ on Debian
              12's 6.1 kernel in qemu (tools/vmtest.sh --kernel 6.1 --suite
              bpf, doc/vmtest.md) and add its counts to the final line.  Not
              part of CI (.ci/run): about 8 minutes here (TCG, 2 cores).
  --help      this text
EOF
}

sanitize=0 vm=0
for arg in "$@"; do
	case $arg in
	--sanitize) sanitize=1 ;;
	--vm) vm=1 ;;
	--help | -h) usage; exit 0 ;;
	*) echo "tools/test.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "tools/test.sh: must run as root: the tests load BPF programs" >&2
	exit 1
fi
tools/deps.sh
# Network namespaces a killed integration run or soak may have left behind.
for ns in $(ip netns list 2>/dev/null | awk '/^klog(t|soak)-/ {print $1}'); do
	ip netns del "$ns" || true
done

configs=("build" "build-large:-Dblock_size=64 -Dmax_record=3000")
# Findings are fatal, and their reports have whole stacks.
[ "$sanitize" = 1 ] && configs+=("build-san:-Db_sanitize=address,undefined -Db_lundef=false \
-Dc_args=['-fno-sanitize-recover=all','-fno-omit-frame-pointer']")
status=0
logs=()
for c in "${configs[@]}"; do
	dir=${c%%:*}
	opts=""
	[ "$dir" != "$c" ] && opts=${c#*:}
	# clang for the sanitizers: its UBSan shares ASan's runtime and so writes
	# to log_path too (GCC's libubsan writes to stderr whatever it is told).
	cc=${CC:-cc}
	[ "$dir" = build-san ] && cc=clang
	if [ -d "$dir/meson-private" ]; then
		# shellcheck disable=SC2086
		meson configure "$dir" $opts >/dev/null
	else
		# shellcheck disable=SC2086
		CC=$cc meson setup "$dir" $opts >/dev/null
	fi
	ninja -C "$dir"
	echo "== meson test ($dir ${opts:-default options})"
	if [ "$dir" != build-san ]; then
		meson test -C "$dir" --print-errorlogs || status=1
		logs+=("$dir/meson-logs/testlog.json")
		continue
	fi
	# Findings end the process that makes them (status 1, or SIGABRT), which
	# fails its test; log_path keeps the reports of daemons whose stderr a
	# test throws away.
	reports=$PWD/$dir/sanitizer-reports
	rm -rf "$reports" && mkdir -p "$reports"
	export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:log_path=$reports/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
	meson test -C "$dir" --print-errorlogs --timeout-multiplier 3 --suite unit \
		--logbase testlog-unit || status=1
	meson test -C "$dir" --print-errorlogs --timeout-multiplier 3 klogd serve pktfuzz \
		--logbase testlog-klogd || status=1
	unset ASAN_OPTIONS UBSAN_OPTIONS
	logs+=("$dir/meson-logs/testlog-unit.json" "$dir/meson-logs/testlog-klogd.json")
	for r in "$reports"/*; do
		[ -e "$r" ] || continue
		echo "== sanitizer report $r"
		cat "$r"
	done
done
# Each sanitizer report is a failure, besides the test case it failed.
findings=0
[ "$sanitize" = 1 ] && findings=$(find build-san/sanitizer-reports -type f | wc -l)

# Each libFuzzer target for a few seconds (tests/fuzz, doc/fuzzing.md): a clang build of the
# fuzz targets only, in build-fuzz; its TAP lines count in the summary below.
echo "== tools/fuzz.sh --seconds 5"
tools/fuzz.sh --seconds 5 --jobs 2 --build build-fuzz | tee build/fuzz.tap || status=1
logs+=(build/fuzz.tap)

# The bpf suite on Debian 12's kernel: its last line is "N passed, N failed".
if [ "$vm" = 1 ]; then
	echo "== tools/vmtest.sh --kernel 6.1 --suite bpf"
	tools/vmtest.sh --kernel 6.1 --suite bpf --build build | tee build/vmtest.out || status=1
	logs+=(build/vmtest.out)
fi

python3 - "$findings" "${logs[@]}" <<'PY'
import json, re, sys
passed = skipped = 0
failed = int(sys.argv[1])  # sanitizer reports
for path in sys.argv[2:]:
    if path.endswith(".out"):  # tools/vmtest.sh: its own closing count
        m = re.findall(r"^(\d+) passed, (\d+) failed", open(path).read(), re.M)
        p, f = map(int, m[-1]) if m else (0, 1)
        passed += p
        failed += f
        continue
    if path.endswith(".tap"):  # tools/fuzz.sh: one line per target; none means it failed
        oks = re.findall(r"^(not ok|ok)\b", open(path).read(), re.M)
        passed += oks.count("ok")
        failed += oks.count("not ok") or (0 if oks else 1)
        continue
    for line in open(path):
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = re.findall(r"^(not ok|ok)\b(.*)$", out, re.M)
        if not oks:
            r = t.get("result")
            if r == "OK": passed += 1
            elif r == "SKIP": skipped += 1
            else: failed += 1
            continue
        for verdict, rest in oks:
            if "# SKIP" in rest.upper(): skipped += 1
            elif verdict == "ok": passed += 1
            else: failed += 1
        if t.get("result") not in ("OK",) and not any(v == "not ok" for v, _ in oks):
            failed += 1  # crashed or timed out after its last TAP line
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
PY
rc=$?
exit $(( status | rc ))
