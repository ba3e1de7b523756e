#!/bin/bash
# test-man.sh KLOGD KLOGCTL MANDIR KLOG_H VERSION - the man pages cannot drift from the
# code: every option klogd --help lists is in klogd.8.scd, every command and option of
# klogctl --help (and of each command's --help) in klogctl.1.scd, every function of
# klog.h in libklog.3.scd; and --version says VERSION on both tools.  TAP output.
set -u
# shellcheck disable=SC2034 # read as ${!tool}
klogd=$1 klogctl=$2 man=$3 klog_h=$4 version=$5
# shellcheck source=tests/unit/tap.sh
. "$(dirname "$0")/tap.sh"
work=$(mktemp -d /var/tmp/klog-test-man-XXXXXX)
trap 'rm -rf "$work"' EXIT

options() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; } # the long options a text names
# shellcheck disable=SC2317 # called through check
documented() { grep -qF -- "*$2*" "$man/$1"; } # documented PAGE TERM: in bold, as a term

for tool in klogd klogctl; do
	"${!tool}" --version >"$work/$tool.version" 2>&1
	check "$tool --version exits 0" test $? = 0
	check "$tool --version prints '$tool $version'" test "$(cat "$work/$tool.version")" = \
		"$tool $version"
	"${!tool}" --help >"$work/$tool.help"
	check "$tool --help exits 0 and names --version" grep -q -- "--version" "$work/$tool.help"
done

mapfile -t opts < <(options <"$work/klogd.help")
check "klogd --help lists options (at least 20)" test "${#opts[@]}" -ge 20
for o in "${opts[@]}"; do
	check "klogd(8) documents $o" documented klogd.8.scd "$o"
done

# Commands: the words after "klogctl" at the start of the usage lines.
mapfile -t cmds < <(sed -nE 's/^(usage:)? +klogctl ([a-z]+).*/\2/p' "$work/klogctl.help" | sort -u)
check "klogctl --help lists commands (at least 10)" test "${#cmds[@]}" -ge 10
for c in "${cmds[@]}"; do
	check "klogctl(1) documents the command $c" documented klogctl.1.scd "$c"
	# A command's own --help, where it has one, names its options.
	"$klogctl" "$c" --help >>"$work/klogctl.help" 2>/dev/null
done
# "klogd --backend jetstream", "(klogd --allow sets them ...)": klogd's options, named in passing.
mapfile -t opts < <(sed -E 's/klogd --[a-z-]+//g' "$work/klogctl.help" | options)
check "klogctl --help lists options (at least 20)" test "${#opts[@]}" -ge 20
for o in "${opts[@]}"; do
	check "klogctl(1) documents $o" documented klogctl.1.scd "$o"
done

mapfile -t funcs < <(sed -nE 's/^KLOG_API [^(]*[ *](klog_[a-z0-9_]+)\(.*/\1/p' "$klog_h" | sort -u)
check "klog.h declares functions (at least 30)" test "${#funcs[@]}" -ge 30
for f in "${funcs[@]}"; do
	check "libklog(3) documents $f()" documented libklog.3.scd "$f"
done
echo "1..$n"
exit $failed
