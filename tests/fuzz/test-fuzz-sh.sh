#!/usr/bin/env bash
# test-fuzz-sh.sh FUZZ_SH - tools/fuzz.sh's command line, without clang: --help, and
# the errors that come before any build (TAP).
fuzz=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../unit/tap.sh"

"$fuzz" --help >"$work/help" 2>&1
check "--help: exit 0, the usage and every option" sh -c "test $? = 0 &&
	grep -q '^usage: tools/fuzz.sh' '$work/help' && grep -q -- '--seconds N' '$work/help' &&
	grep -q -- '--jobs N' '$work/help' && grep -q -- '--build DIR' '$work/help' &&
	grep -q -- '--keep DIR' '$work/help'"
"$fuzz" --bogus >"$work/bogus" 2>&1
check "an unknown option: exit 2, named" sh -c "test $? = 2 && grep -q 'unknown option --bogus' '$work/bogus'"
"$fuzz" nosuch >"$work/nosuch" 2>&1
check "an unknown target: exit 2, named" sh -c "test $? = 2 && grep -q 'no target nosuch' '$work/nosuch'"
"$fuzz" --seconds ten >"$work/ten" 2>&1
check "--seconds not a number: exit 2" sh -c "test $? = 2 && grep -q 'whole numbers' '$work/ten'"
echo "1..$n"
exit $failed
