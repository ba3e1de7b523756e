#!/usr/bin/env bash
# Install what klog needs to build and test, from Debian's packages.
set -euo pipefail

pkgs=(
	meson ninja-build pkg-config gcc libc6-dev
	clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	# libFuzzer, ASan and UBSan of Debian 12's clang (tools/fuzz.sh)
	libclang-rt-14-dev
	liburing-dev check python3
	python3-pytest python3-venv python3-pip python3-setuptools
	iproute2 ethtool nftables
	nats-server libnats-dev
	# klogd --metrics, sd_notify; man pages; the C++ consumer test; systemd-analyze
	libmicrohttpd-dev libsystemd-dev scdoc g++ systemd
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
