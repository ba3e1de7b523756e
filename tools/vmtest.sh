#!/usr/bin/env bash
# Run klog's Check test programs on another kernel (Debian 12's 6.1 by
# default) in qemu: a tiny initramfs (busybox-static, the test programs, the
# libraries and kernel modules they need) boots, runs each program, prints its
# TAP lines on the serial console and powers off; this side counts them and
# ends with "N passed, N failed".  See doc/vmtest.md.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
cd "$(dirname "$0")/.."

usage() {
	cat <<'EOF'
usage: tools/vmtest.sh [--kernel 6.1|PKG.deb|VMLINUZ] [--suite bpf|integration|all]
                       [--smp N] [--mem MB] [--build DIR] [--timeout SECONDS]
                       [--run 'PROGRAM ARGS']

As root: boot KERNEL in qemu (KVM when /dev/kvm works, TCG otherwise) with an
initramfs holding busybox-static, the suite's built test programs from DIR
(tests/test-bpf-*, tests/test-integration-*), the shared libraries they load
and the kernel modules they need, and run each program there, with bpffs,
debugfs, a tmpfs /tmp and an ext4 /var/tmp (a virtio disk: O_DIRECT).  Their
TAP lines are printed; the last line is "N passed, N failed".  Exit status 0
only if every test case passed and every program exited 0.

  --kernel K   6.1 (default): Debian 12's current 6.1 kernel package, fetched
               with apt-get download and unpacked in /var/cache/klog-vmtest
               (never installed); or a linux-image .deb; or a vmlinuz file
               (modules then come from /lib/modules/VERSION if present).
  --suite S    bpf (default), integration or all.
  --smp N      guest CPUs (default 2).
  --mem MB     guest memory (default 2048).
  --build DIR  the meson build directory (default build).
  --timeout S  give up on the guest after S seconds (default 3600): failure.
  --run CMD    run CMD (a path inside DIR, and its arguments) instead of the
               suite, printing its output (e.g. --run 'bench/mem_cost --json').
  --help       this text
EOF
}

kernel=6.1 suite=bpf smp=2 mem=2048 build=build timeout_s=3600 run=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--suite) suite=$2; shift ;;
	--smp) smp=$2; shift ;;
	--mem) mem=$2; shift ;;
	--build) build=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	--run) run=$2; shift ;;
	--help | -h) usage; exit 0 ;;
	*) echo "vmtest: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $suite in bpf | integration | all) ;; *) echo "vmtest: unknown suite '$suite'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "vmtest: must run as root (apt-get, the guest's disk)" >&2; exit 1; }
[ -d "$build/tests" ] || { echo "vmtest: $build/tests not found: build first (meson setup, ninja)" >&2; exit 1; }
build=$(cd "$build" && pwd)

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list | grep -x insmod >/dev/null || need+=(busybox-static)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || [ -x /usr/sbin/depmod ] || need+=(kmod)
if [ "${#need[@]}" -gt 0 ]; then
	echo "vmtest: installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# The kernel: vmlinuz, and the root of its modules (lib/modules/VERSION).
cache=/var/cache/klog-vmtest
mkdir -p "$cache"
unpack_deb() { # unpack_deb FILE.deb -> sets kroot
	kroot=$cache/$(basename "$1" .deb)
	if [ ! -d "$kroot/boot" ]; then
		rm -rf "$kroot.tmp" && dpkg-deb -x "$1" "$kroot.tmp" && mv "$kroot.tmp" "$kroot"
	fi
}
if [ "$kernel" = 6.1 ]; then
	# linux-image-amd64 depends on the current 6.1 ABI's image package.
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		apt-get update -q >/dev/null
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6\.1/ {print $2; exit}')
	fi
	[ -n "$pkg" ] || { echo "vmtest: no linux-image-6.1 package known to apt" >&2; exit 1; }
	deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | tail -1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q "$pkg" >/dev/null)
		deb=$(ls "$cache"/"${pkg}"_*.deb | tail -1)
	fi
	unpack_deb "$deb"
elif [[ $kernel == *.deb ]]; then
	unpack_deb "$(realpath "$kernel")"
else
	kroot=""
	vmlinuz=$(realpath "$kernel")
fi
if [ -n "$kroot" ]; then
	vmlinuz=$(ls "$kroot"/boot/vmlinuz-* | head -1)
	kver=${vmlinuz##*/vmlinuz-}
	moddir=$kroot/lib/modules/$kver
	# The package leaves modules.dep to depmod at install time.
	[ -f "$moddir/modules.dep" ] || depmod -b "$kroot" "$kver"
else
	kver=$(file -b "$vmlinuz" | sed -n 's/.*version \([^ ]*\).*/\1/p')
	moddir=/lib/modules/$kver
fi
echo "vmtest: kernel $kver ($vmlinuz), suite $suite, $smp CPUs"

work=$(mktemp -d /tmp/klog-vmtest.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,var/tmp,t,lib/modules/"$kver"}
cp /bin/busybox "$root/bin/busybox"

# Programs: the suite's test programs, or the one --run names.
progs=()
run_guest=""
if [ -n "$run" ]; then
	progs=("$build/${run%% *}")
	run_guest=/t/$(basename "${run%% *}")
	[ "$run" != "${run%% *}" ] && run_guest+=" ${run#* }"
else
	[ "$suite" != integration ] && progs+=("$build"/tests/test-bpf-*)
	[ "$suite" != bpf ] && progs+=("$build"/tests/test-integration-*)
fi
# Only the programs (meson keeps each one's objects in a NAME.p directory).
for i in "${!progs[@]}"; do [ -d "${progs[$i]}" ] && unset "progs[$i]"; done
progs=("${progs[@]}")
for p in "${progs[@]}"; do
	[ -f "$p" ] && [ -x "$p" ] || { echo "vmtest: $p not built" >&2; exit 1; }
	cp "$p" "$root/t/"
done
# Their shared libraries (libklog from the build dir included) and the loader,
# at the paths ldd names.
for p in "${progs[@]}"; do
	ldd "$p" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}'
done | sort -u | while read -r lib; do
	dest=$lib
	# The build's own (libklog): the guest's /tmp is a tmpfs, so into the
	# loader's default directory, where it looks when RUNPATH finds nothing.
	[[ $lib == "$build"/* ]] && dest=/lib/x86_64-linux-gnu/${lib##*/}
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$lib" "$root$dest"
done
# ldd resolves the loader's path through /lib64; the programs name /lib64 too.
[ -e "$root/lib64" ] || ln -s lib "$root/lib64"

# Kernel modules, with their dependencies from modules.dep, in load order:
# the ext4 disk of /var/tmp (virtio), TC (clsact), veth for integration.
mods=(virtio_pci virtio_blk crc32c_generic ext4 sch_ingress cls_bpf veth)
modorder=$work/modorder
: >"$modorder"
add_mod() { # add_mod NAME: its dependencies first
	local rel deps d
	rel=$(awk -F: -v n="$1" '{f=$1; sub(/.*\//, "", f); sub(/\.ko(\.[a-z]+)?$/, "", f); gsub(/-/, "_", f)} f == n {print $1; exit}' "$moddir/modules.dep")
	[ -n "$rel" ] || return 0 # built in
	grep -qxF "$rel" "$modorder" && return 0
	deps=$(awk -F': *' -v r="$rel" '$1 == r {print $2; exit}' "$moddir/modules.dep")
	for d in $deps; do
		d=${d##*/} d=${d%%.ko*} d=${d//-/_}
		add_mod "$d"
	done
	grep -qxF "$rel" "$modorder" || echo "$rel" >>"$modorder"
}
if [ -f "$moddir/modules.dep" ]; then
	for m in "${mods[@]}"; do add_mod "$m"; done
	while read -r rel; do
		out=$root/lib/modules/$kver/$(basename "${rel%%.ko*}").ko
		case $rel in
		*.xz) xz -dc "$moddir/$rel" >"$out" ;;
		*.zst) zstd -qdc "$moddir/$rel" >"$out" ;;
		*) cp "$moddir/$rel" "$out" ;;
		esac
		echo "$(basename "$out")" >>"$root/lib/modules/$kver/order"
	done <"$modorder"
fi

# drain's case tagged "faults" runs in the default geometry only (tests/meson.build).
exclude=""
if ! meson introspect "$build" --buildoptions 2>/dev/null | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
sys.exit(0 if str(o.get("max_record")) == "1400" and str(o.get("block_size")) == "128" else 1)'; then
	exclude=faults
fi

tmult=1
[ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null || tmult=10
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs -o size=512m tmp /tmp
for m in \$(cat /lib/modules/$kver/order 2>/dev/null); do insmod /lib/modules/$kver/\$m; done
mount -t ext4 /dev/vda /var/tmp || echo "vmtest-guest: no ext4 /var/tmp"
ip link set lo up
ulimit -l unlimited
# Check's per-case timeouts assume a real CPU; TCG is several times slower.
export CK_TIMEOUT_MULTIPLIER=$tmult
echo "vmtest-guest: \$(uname -r), \$(nproc) CPUs, BTF \$(ls /sys/kernel/btf/vmlinux)"
cd /t
if [ -n "$run_guest" ]; then
	$run_guest
	echo "vmtest-exit run \$?"
else
	for t in /t/test-*; do
		echo "vmtest-start \${t##*/}"
		if [ "\${t##*/}" = test-bpf-drain ] && [ -n "$exclude" ]; then export CK_EXCLUDE_TAGS=$exclude; fi
		CK_TAP_LOG_FILE_NAME=- CK_VERBOSITY=silent "\$t" 2>&1
		echo "vmtest-exit \${t##*/} \$?"
		unset CK_EXCLUDE_TAGS
	done
fi
echo vmtest-done
sync
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd"

# /var/tmp: ext4, for the tests that write with O_DIRECT (tmpfs has none on 6.1).
truncate -s 2G "$work/disk"
mkfs.ext4 -q -F "$work/disk"

# KVM when /dev/kvm opens read-write (it may exist and still be unusable).
accel=tcg
if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then accel=kvm; fi
cpu=max
echo "vmtest: booting ($accel)"
log=$work/console
start=$(date +%s)
set +e
timeout "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp "$smp" -m "$mem" \
	-kernel "$vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4" \
	-drive "file=$work/disk,format=raw,if=virtio" \
	-nographic -no-reboot -nic none </dev/null | sed -u 's/\r$//' | tee "$log"
set -e
echo "vmtest: guest ran $(( $(date +%s) - start )) s"

python3 - "$log" "$run" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
passed = failed = skipped = 0
for verdict, rest in re.findall(r"^(not ok|ok)\b(.*)$", text, re.M):
    if "# SKIP" in rest.upper(): skipped += 1
    elif verdict == "ok": passed += 1
    else: failed += 1
# A program that exits non-zero with no failed case of its own (a crash, a
# setup failure) is one failure more; one that never ends, too.
for m in re.finditer(r"^vmtest-start (\S+)$(.*?)(?:^vmtest-exit \S+ (\d+)$|\Z)", text, re.M | re.S):
    name, body, rc = m.groups()
    if rc is None:
        print(f"vmtest: {name} never finished"); failed += 1
    elif rc != "0" and not re.search(r"^not ok", body, re.M):
        print(f"vmtest: {name} exited {rc} with no failed case"); failed += 1
if "vmtest-done" not in text:
    print("vmtest: the guest never reported the end (crash or timeout)"); failed += 1
if sys.argv[2]:
    sys.exit(0 if re.search(r"^vmtest-exit .* 0$", text, re.M) else 1)
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
PY
