#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# durable.sh - klog's durable path beside what the disk can do: fio's
# sequential O_DIRECT writes and klogd's drain loop (bench/drain_rate) on the
# same file system, per backend (io_uring, psync), side by side in
# alternating rounds; then the reader's cost (bench/read_cost).  Prints one
# table of medians (min-max) to stdout.  Run as root:
#
#     bench/durable.sh            # about 2 minutes
#     bench/durable.sh --quick    # under a minute, fewer and smaller runs
#     bench/durable.sh --json F   # the same figures also as JSON, into F
#
# Installs fio (and jq) with apt-get when missing, and builds with ninja first.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: bench/durable.sh [--quick] [--rounds N] [--dir PARENT] [--build DIR] [--json FILE]
  --quick        smaller files and logs, 1 round unless --rounds (under a minute)
  --rounds N     rounds of every variant (default 5)
  --dir PARENT   file system to measure: work files go to a directory made
                 under PARENT (default /var/tmp)
  --build DIR    meson build directory (default: build/ of this checkout)
  --json FILE    also write the figures to FILE as JSON: every median with
                 its min and max, per backend, and the reader's
EOF
}

bench_options 5 "$@"
records=200000
fio_size=1G
read_rounds=3
if [ "$quick" = 1 ]; then
	records=100000
	fio_size=256M
	read_rounds=2
fi
bench_need_root "BPF programs, apt-get"

# Tools.
bench_install fio jq
bench_require ninja
bench_build "the benchmarks" bench/drain_rate bench/read_cost
drain_rate=$build/bench/drain_rate
read_cost=$build/bench/read_cost

work=$(mktemp -d "$parent/klog-durable.XXXXXX")
results=$(mktemp -d)
trap 'rm -rf "$work" "$results"' EXIT

bench_fs "$work"

# fio NAME ENGINE BS [extra options]: one sequential write of a fresh file;
# appends its MB/s (10^6 B) to $results/NAME.
fio_run() {
	local name=$1 engine=$2 bs=$3
	shift 3
	rm -f "$work/fio.dat"
	fio --name=klog-durable --filename="$work/fio.dat" --rw=write --direct=1 --bs="$bs" \
		--size="$fio_size" --ioengine="$engine" --unlink=1 --output-format=json "$@" \
		>"$results/fio.json"
	jq -r '.jobs[0].write.bw_bytes / 1e6' "$results/fio.json" >>"$results/$name"
	sync
}

# drain BACKEND: one round of bench/drain_rate; appends MB/s, records/s and
# CPU us per record.
drain() {
	local b=$1
	"$drain_rate" --backend "$b" --rounds 1 --records "$records" --dir "$work" --json \
		>"$results/drain.json"
	jq -r '.backends[0].median_mb_per_s' "$results/drain.json" >>"$results/drain-$b"
	jq -r '.backends[0].median_records_per_s' "$results/drain.json" >>"$results/rps-$b"
	jq -r '.backends[0].median_cpu_us_per_record' "$results/drain.json" >>"$results/cpu-$b"
	jq -r '.backends[0].median_ns_per_record' "$results/drain.json" >>"$results/ns-$b"
	jq -r '.backends[0].median_kern_read_ns_per_record' "$results/drain.json" \
		>>"$results/kread-$b"
	jq -r '.backends[0].commits' "$results/drain.json" >"$results/commits"
}

fmt() { # FILE DECIMALS: "median (min-max)"
	stat_of "$1" | awk -v d="$2" '{ printf "%.*f (%.*f-%.*f)", d, $1, d, $2, d, $3 }'
}

median() { stat_of "$1" | awk '{ print $1 }'; }

engine_of() { [ "$1" = uring ] && echo io_uring || echo psync; }

start=$(date +%s)
echo "durable.sh: $rounds rounds on $work ($fstype on $dev)" >&2
for ((r = 0; r < rounds; r++)); do
	# Alternate which backend goes first.
	if ((r % 2)); then order="psync uring"; else order="uring psync"; fi
	for b in $order; do
		e=$(engine_of "$b")
		fio_run "stream-$b" "$e" 1M
		drain "$b"
	done
	for b in $order; do
		e=$(engine_of "$b")
		fio_run "sync64k-$b" "$e" 64k --fdatasync=1
		# klog's shape: 4096 records of 400 B on disk on average, 1600 KiB, then a datasync.
		fio_run "syncbatch-$b" "$e" 1600k --fdatasync=1
	done
	# The reader's figures move between processes more than within one: one run a round.
	"$read_cost" --records "$records" --rounds "$read_rounds" --dir "$work" --json \
		>"$results/read.json"
	jq -r '.median_read_ns' "$results/read.json" >>"$results/read-ns"
	jq -r '.median_reads_per_s' "$results/read.json" >>"$results/read-rps"
	jq -r '.median_iterate_mb_per_s' "$results/read.json" >>"$results/iter-mbps"
	jq -r '.median_iterate_records_per_s' "$results/read.json" >>"$results/iter-rps"
	echo "durable.sh: round $((r + 1)) of $rounds done ($(($(date +%s) - start)) s)" >&2
done

payload=$(jq -r '.payload_bytes' "$results/drain.json")
disk=$(jq -r '.disk_bytes' "$results/drain.json")
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN { printf "%.2f", a / b }'; }

printf 'klog durable path beside fio: %s (%s on %s), %d rounds, medians (min-max)\n' \
	"$parent" "$fstype" "$dev" "$rounds"
printf 'fio: %s per run, fresh file, iodepth 1; klog: %d records (75%% 128 B / 25%% 1024 B, %s MB payload, %s MB on disk), batch 4096 (%s commits), 4 MiB buffer\n\n' \
	"$fio_size" "$records" "$(awk -v p="$payload" 'BEGIN { printf "%.1f", p / 1e6 }')" \
	"$(awk -v p="$disk" 'BEGIN { printf "%.1f", p / 1e6 }')" "$(cat "$results/commits")"
printf '| %-44s | %-24s | %-24s |\n' "MB/s (10^6 B/s)" "io_uring / uring" "psync"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..26})" \
	"$(printf -- '-%.0s' {1..26})"
row() { printf '| %-44s | %24s | %24s |\n' "$1" "$2" "$3"; }
row "fio write 1M O_DIRECT" "$(fmt "$results/stream-uring" 0)" "$(fmt "$results/stream-psync" 0)"
row "fio write 1600k O_DIRECT + fdatasync each" "$(fmt "$results/syncbatch-uring" 0)" \
	"$(fmt "$results/syncbatch-psync" 0)"
row "fio write 64k O_DIRECT + fdatasync each" "$(fmt "$results/sync64k-uring" 0)" \
	"$(fmt "$results/sync64k-psync" 0)"
row "klog drain, payload" "$(fmt "$results/drain-uring" 0)" "$(fmt "$results/drain-psync" 0)"
row "klog drain / fio 1M" "$(ratio "$results/drain-uring" "$results/stream-uring")" \
	"$(ratio "$results/drain-psync" "$results/stream-psync")"
row "klog drain / fio 1600k + fdatasync" \
	"$(ratio "$results/drain-uring" "$results/syncbatch-uring")" \
	"$(ratio "$results/drain-psync" "$results/syncbatch-psync")"
row "klog drain, records/s" "$(fmt "$results/rps-uring" 0)" "$(fmt "$results/rps-psync" 0)"
row "klog drain, ns per record" "$(fmt "$results/ns-uring" 0)" "$(fmt "$results/ns-psync" 0)"
row "klog drain, CPU us per record" "$(fmt "$results/cpu-uring" 2)" "$(fmt "$results/cpu-psync" 2)"
row "klog_kern_read alone, ns per record" "$(fmt "$results/kread-uring" 0)" \
	"$(fmt "$results/kread-psync" 0)"
echo
printf 'klog reader (bench/read_cost), warm page cache, %d records: one run a round, each the median of %d passes; median (min-max) of the %d runs\n\n' \
	"$records" "$read_rounds" "$rounds"
printf '| %-44s | %-24s |\n' "reader" "median (min-max)"
printf '|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..26})"
printf '| %-44s | %24s |\n' "klog_read of random LSNs, ns per read" "$(fmt "$results/read-ns" 0)"
printf '| %-44s | %24s |\n' "klog_read of random LSNs, reads/s" "$(fmt "$results/read-rps" 0)"
printf '| %-44s | %24s |\n' "klog_iterate over the log, MB/s payload" "$(fmt "$results/iter-mbps" 0)"
printf '| %-44s | %24s |\n' "klog_iterate over the log, records/s" "$(fmt "$results/iter-rps" 0)"

# backend_json B: one backend's figures, each {"median", "min", "max"}.
backend_json() {
	local b=$1
	jq -n --arg engine "$(engine_of "$b")" \
		--argjson fio_1m "$(stat_json "$results/stream-$b")" \
		--argjson fio_1600k "$(stat_json "$results/syncbatch-$b")" \
		--argjson fio_64k "$(stat_json "$results/sync64k-$b")" \
		--argjson mbps "$(stat_json "$results/drain-$b")" \
		--argjson rps "$(stat_json "$results/rps-$b")" \
		--argjson ns "$(stat_json "$results/ns-$b")" \
		--argjson cpu "$(stat_json "$results/cpu-$b")" \
		--argjson kread "$(stat_json "$results/kread-$b")" \
		'{ fio_engine: $engine, fio_1m_mb_per_s: $fio_1m,
		   fio_1600k_fdatasync_mb_per_s: $fio_1600k, fio_64k_fdatasync_mb_per_s: $fio_64k,
		   drain_mb_per_s: $mbps, drain_records_per_s: $rps, drain_ns_per_record: $ns,
		   drain_cpu_us_per_record: $cpu, kern_read_ns_per_record: $kread }'
}

if [ -n "$json" ]; then
	jq -n --arg dir "$parent" --arg fstype "$fstype" --arg dev "$dev" \
		--argjson rounds "$rounds" --argjson records "$records" --arg fio_size "$fio_size" \
		--argjson payload "$payload" --argjson disk "$disk" \
		--argjson commits "$(cat "$results/commits")" --argjson read_rounds "$read_rounds" \
		--argjson uring "$(backend_json uring)" --argjson psync "$(backend_json psync)" \
		--argjson read_ns "$(stat_json "$results/read-ns")" \
		--argjson read_rps "$(stat_json "$results/read-rps")" \
		--argjson iter_mbps "$(stat_json "$results/iter-mbps")" \
		--argjson iter_rps "$(stat_json "$results/iter-rps")" \
		'{ dir: $dir, fstype: $fstype, dev: $dev, rounds: $rounds, records: $records,
		   fio_size: $fio_size, payload_bytes: $payload, disk_bytes: $disk, commits: $commits,
		   backends: { uring: $uring, psync: $psync },
		   reader: { passes_per_run: $read_rounds, read_ns: $read_ns, reads_per_s: $read_rps,
			     iterate_mb_per_s: $iter_mbps, iterate_records_per_s: $iter_rps } }' \
		>"$json"
fi
echo "durable.sh: done in $(($(date +%s) - start)) s" >&2
