#!/bin/bash
# test-install.sh BUILD VERSION PREFIX LIBDIR MANDIR SBINDIR UNITDIR CONSUMER - what an
# operator installs: meson install into a DESTDIR, then, against the installed headers and
# libraries only (pkg-config with the prefix moved into the DESTDIR), the consumer program
# (tests/lib/consumer.c) built with g++ as C++ and linked with libklog.so, and with cc
# linked with libklog.a (libc dynamic: Debian has no static libnats, so a fully -static
# program cannot be made; the consumer pulls no NATS code in); both run.  The man pages
# and klogd@.service installed, the unit checked by systemd-analyze verify with ExecStart
# pointing at the installed klogd (no running systemd needed).  TAP output.
set -u
build=$1 version=$2 prefix=$3 libdir=$4 mandir=$5 sbindir=$6 unitdir=$7 consumer=$8
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"
dest=$(mktemp -d /var/tmp/klog-test-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
root=$dest$prefix

# shellcheck disable=SC2317 # these run through check
{
comment() { sed 's/^/# /' "$@"; }
fails() { ! "$@"; }
logged() { # logged NAME COMMAND...: its output as comments only if it fails
	"${@:2}" >"$dest/$1.log" 2>&1 || { comment "$dest/$1.log"; return 1; }
}
run_consumer() { # run_consumer NAME [ENV ARGS...]: its TAP as comments, and its status
	env "${@:2}" "$dest/$1" "$version" >"$dest/$1.out" 2>&1
	local rc=$?
	comment "$dest/$1.out"
	[ "$rc" = 0 ] && grep -q '^1\.\.[1-9]' "$dest/$1.out"
}
needs() { readelf -d "$1" | grep -q "NEEDED.*\[$2"; } # needs PROGRAM LIB: a DT_NEEDED entry
defines() { nm "$1" | grep -q " T $2$"; }           # defines PROGRAM FUNCTION
verify() { # verify UNIT: systemd-analyze verify, with the installed man pages; its messages in $dest/verify.out
	MANPATH=$root/$mandir systemd-analyze verify "$1" >"$dest/verify.out" 2>&1
}
clean_verify() { verify "$1"; local rc=$?; comment "$dest/verify.out"; [ "$rc" = 0 ] && ! [ -s "$dest/verify.out" ]; }
}

check "meson install --destdir" logged install meson install -C "$build" --destdir "$dest" \
	--no-rebuild --quiet
for f in include/klog/klog.h include/klog/klog_abi.h include/klog/klog_config.h \
	"$libdir/libklog.a" "$libdir/libklog.so" "$libdir/pkgconfig/libklog.pc" "$sbindir/klogd" \
	bin/klogctl "$mandir/man8/klogd.8" "$mandir/man1/klogctl.1" "$mandir/man3/libklog.3"; do
	check "installed: $f" test -s "$root/$f"
done
check "nothing installed in the old places (klog_config.h at the top, klog.bpf.o)" \
	test ! -e "$root/include/klog_config.h" -a ! -e "$root/$libdir/klog"

# The man pages: each a page of its section, of this version.
for p in man8/klogd.8 man1/klogctl.1 man3/libklog.3; do
	page=${p#*/}
	check "$page: .TH ${page%.*} ${page#*.} with 'klog $version'" grep -qE \
		"^\.TH \"${page%.*}\" \"${page#*.}\" \"[0-9-]+\" \"klog $version\"" "$root/$mandir/$p"
done

pc() { PKG_CONFIG_PATH=$root/$libdir/pkgconfig pkg-config --define-variable=prefix="$root" "$@"; }
check "pkg-config libklog: version $version" test "$(pc --modversion libklog)" = "$version"
check "pkg-config --cflags points into the DESTDIR" test "$(pc --cflags libklog | xargs)" = \
	"-I$root/include"

# shellcheck disable=SC2046 # pkg-config's words
check "g++ builds the consumer as C++11 against the installed headers, with libklog.so" \
	logged cxx-build g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -x c++ "$consumer" -x none \
	$(pc --cflags --libs libklog) -o "$dest/cxx"
check "the C++ consumer runs with the installed libklog.so" \
	run_consumer cxx LD_LIBRARY_PATH="$root/$libdir"
check "it is linked with libklog.so" needs "$dest/cxx" libklog.so

# The recipe of libklog(3) and the README.
# shellcheck disable=SC2046
check "cc builds the consumer with libklog.a (pkg-config --static)" \
	logged static-build cc -Wall -Werror "$consumer" $(pc --cflags --libs-only-L libklog) \
	-Wl,-Bstatic -lklog -Wl,-Bdynamic -Wl,--as-needed $(pc --static --libs libklog) \
	-o "$dest/static"
check "the static consumer runs without libklog.so" run_consumer static -u LD_LIBRARY_PATH
check "it has libklog inside" defines "$dest/static" klog_version
check "and does not need libklog.so" fails needs "$dest/static" libklog

# The unit: installed, for the installed klogd, and clean for systemd-analyze verify.  Its
# ExecStart is made the DESTDIR's klogd (verify checks the program is there), and the
# installed man pages are where man looks (verify checks Documentation=man:klogd(8)).
unit=$dest$unitdir/klogd@.service
check "klogd@.service installed in $unitdir" test -s "$unit"
check "its ExecStart is the installed klogd with --name %i" \
	grep -qxF "ExecStart=$prefix/$sbindir/klogd --name %i \$KLOGD_OPTS" "$unit"
mkdir -p "$dest/verify"
sed "s|^ExecStart=$prefix/|ExecStart=$root/|" "$unit" >"$dest/verify/klogd@.service"
check "systemd-analyze verify klogd@.service: no error and no warning" \
	clean_verify "$dest/verify/klogd@.service"
# The check itself: a unit with an unknown setting, or a program that is not there, fails it.
sed 's/^ProtectHome=yes/ProtectHomme=yes/' "$dest/verify/klogd@.service" >"$dest/verify/bad@.service"
verify "$dest/verify/bad@.service"
check "systemd-analyze verify reports an unknown setting" grep -q ProtectHomme "$dest/verify.out"
sed "s|^ExecStart=$root/|ExecStart=/nonexistent/|" "$dest/verify/klogd@.service" \
	>"$dest/verify/bad@.service"
check "systemd-analyze verify fails on a missing klogd" fails verify "$dest/verify/bad@.service"
finish
