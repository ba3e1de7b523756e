#!/usr/bin/env bash
# run-tests.sh - the Python binding's test suite, as TAP (meson test python).
# Installs the package with pip from the source tree into a fresh virtual
# environment (Debian's python3, offline: no index, no build isolation), sets
# up two network namespaces joined by a veth pair (tools/testbed.sh, through
# tests/testbed.sh), and runs pytest (Debian's python3-pytest) inside the
# client's namespace; the tests start klogd in the server's with the real BPF
# programs.  tests/conftest.py writes one TAP line per test to fd 3.
# Usage: run-tests.sh KLOGD XDP_PASS_OBJ MAX_RECORD BLOCK_SIZE LIBKLOG_SO [PYTEST_ARG...]
# (e.g. tests/test_read.py, or -k tail: by hand)
# (needs root; pytest's own output goes to stderr)
set -u
klogd=$(realpath "$1") xdp_pass=$(realpath "$2") max=$3 block=$4 libklog=${5:+$(realpath "$5")}
shift 5
[ $# -gt 0 ] || set -- tests
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3 # Debian's, with python3-pytest; not one on PATH

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
bail() { echo "Bail out! $1"; exit 1; }

[ "$(id -u)" = 0 ] || bail "run-tests.sh needs root: klogd loads BPF programs"

tag=klogt-py$$
srv=$tag-s cli=$tag-c vs=kps$$ vc=kpc$$
srv_ip=10.98.0.1 cli_ip=10.98.0.2
work=$(mktemp -d /var/tmp/klog-py-XXXXXX)
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	"$here/tests/testbed.sh" down "$srv" "$cli"
	rm -rf "/sys/fs/bpf/klog/$tag"-* "$work"
}
trap cleanup EXIT

# A copy of the source tree, so that neither pip's build nor pytest writes
# into the checkout.
if ! mkdir "$work/src" || ! tar -C "$here" --exclude=build --exclude='*.egg-info' \
	--exclude=__pycache__ --exclude=.pytest_cache -cf - . | tar -C "$work/src" -xf -; then
	bail "cannot copy $here"
fi
if "$python" -m venv --system-site-packages "$work/venv" >"$work/venv.log" 2>&1 &&
	"$work/venv/bin/pip" install --no-build-isolation --no-index --no-cache-dir \
		"$work/src" >>"$work/venv.log" 2>&1 &&
	"$work/venv/bin/python" -c 'import klog, sys; sys.exit(not klog.__file__.startswith(sys.prefix))'; then
	ok "pip installs the klog package from the source tree into a virtual environment"
else
	sed 's/^/# /' "$work/venv.log"
	not_ok "pip installs the klog package from the source tree into a virtual environment"
	echo "1..$n"
	exit 1
fi

mtu=$((max + 100 > 1500 ? max + 100 : 1500))
if "$here/tests/testbed.sh" up "$srv" "$cli" "$vs" "$vc" "$srv_ip" "$cli_ip" "$xdp_pass" "$mtu"; then
	ok "two network namespaces joined by a veth pair (tools/testbed.sh)"
else
	not_ok "two network namespaces joined by a veth pair (tools/testbed.sh)"
	echo "1..$n"
	exit 1
fi

# nsenter --net, not ip netns exec: the tests read klogd's pinned maps in
# this host's bpffs, which ip netns exec's own /sys would hide.
: >"$work/tap"
(
	cd "$work/src" &&
	nsenter --net=/var/run/netns/"$cli" env \
		KLOG_TEST_SERVER="$srv_ip" KLOG_TEST_SRV_NS="$srv" KLOG_TEST_CLI_NS="$cli" \
		KLOG_TEST_SRV_IF="$vs" KLOG_TEST_CLI_IF="$vc" KLOG_TEST_KLOGD="$klogd" \
		KLOG_TEST_HELPER="$here/tests/testbed.sh" KLOG_TEST_WORK="$work" \
		KLOG_TEST_TAG="$tag" KLOG_TEST_MAX_RECORD="$max" KLOG_TEST_BLOCK_SIZE="$block" \
		KLOG_TEST_LIBKLOG="$libklog" KLOG_TEST_ABI="$here/../../include/klog/klog_abi.h" \
		KLOG_TAP_FD=3 KLOG_TAP_START="$n" KLOG_TAP_FILE="$work/tap" \
		PYTHONDONTWRITEBYTECODE=1 \
		"$work/venv/bin/python" -m pytest -p no:cacheprovider -rA -v "$@" 3>&1 1>&2
)
rc=$?
n=$((n + $(wc -l <"$work/tap")))
grep -q '^not ok' "$work/tap" && failed=1
if [ "$rc" = 0 ] && [ "$(wc -l <"$work/tap")" -gt 0 ]; then
	ok "pytest exits 0"
else
	not_ok "pytest exits 0 (status $rc)"
fi
echo "1..$n"
exit $failed
