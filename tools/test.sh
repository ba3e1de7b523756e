#!/usr/bin/env bash
# Run klog's whole test suite on this machine, as root: install the Debian
# packages it needs, build two configurations (the default, and 64-byte blocks
# with 3000-byte records), run every suite of each, run each libFuzzer target
# for 10 seconds (tools/fuzz.sh), and end with one line
# "N passed, N failed" counting test cases (TAP lines), not programs.
set -euo pipefail
cd "$(dirname "$0")/.."

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
status=0
logs=()
for c in "${configs[@]}"; do
	dir=${c%%:*}
	opts=""
	[ "$dir" != "$c" ] && opts=${c#*:}
	if [ -d "$dir/meson-private" ]; then
		# shellcheck disable=SC2086
		meson configure "$dir" $opts >/dev/null
	else
		# shellcheck disable=SC2086
		meson setup "$dir" $opts >/dev/null
	fi
	ninja -C "$dir"
	echo "== meson test ($dir ${opts:-default options})"
	meson test -C "$dir" --print-errorlogs || status=1
	logs+=("$dir/meson-logs/testlog.json")
done

# Each libFuzzer target for a few seconds (tests/fuzz, doc/fuzzing.md): a clang build of the
# fuzz targets only, in build-fuzz; its TAP lines count in the summary below.
echo "== tools/fuzz.sh --seconds 10"
tools/fuzz.sh --seconds 10 --jobs 2 --build build-fuzz | tee build/fuzz.tap || status=1
logs+=(build/fuzz.tap)

python3 - "${logs[@]}" <<'PY'
import json, re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
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
