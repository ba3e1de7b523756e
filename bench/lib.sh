# shellcheck shell=bash
# lib.sh - sourced by bench/run.sh, commit.sh and durable.sh: their common
# options, the tools they install, the build, and their statistics.  Messages
# start with the script's name, as "commit.sh: ...".

me=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_options ROUNDS ARG...: the options every benchmark takes, into quick
# (0 or 1), rounds (--rounds, else 1 with --quick, else ROUNDS; with ROUNDS
# empty, empty unless --rounds), parent (--dir), build (--build) and json
# (--json FILE; empty without).  The caller defines usage(): --help prints it
# and exits 0; a bad option prints it on stderr and exits 2, as do a missing
# value and a bad --rounds.
# shellcheck disable=SC2034 # its variables are the caller's
bench_options() {
	local default=$1
	shift
	rounds=
	build=$here/build
	parent=/var/tmp
	quick=0
	json=
	while [ $# -gt 0 ]; do
		case $1 in
		--rounds|--dir|--build|--json)
			if [ $# -lt 2 ] || [ -z "$2" ]; then
				echo "$me: $1 needs a value" >&2
				exit 2
			fi ;;
		esac
		case $1 in
		--quick) quick=1 ;;
		--rounds) rounds=$2; shift ;;
		--dir) parent=$2; shift ;;
		--build) build=$2; shift ;;
		--json) json=$2; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	case $rounds in *[!0-9]*|0)
		echo "$me: --rounds must be a positive number" >&2
		exit 2 ;;
	esac
	if [ -z "$rounds" ] && [ -n "$default" ]; then
		rounds=$default
		if [ "$quick" = 1 ]; then rounds=1; fi
	fi
}

bench_need_root() { # WHY: exits 1 unless run as root, saying what needs it
	if [ "$(id -u)" != 0 ]; then
		echo "$me: run as root ($1)" >&2
		exit 1
	fi
}

# bench_install TOOL[:PACKAGE]...: apt-get installs the packages (named as
# their TOOL unless given) whose command is missing; then every TOOL must be
# there.
bench_install() {
	local missing=() tools=() t
	for t; do
		tools+=("${t%%:*}")
		command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "$me: installing ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
			{ apt-get update >&2 &&
				apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
	fi
	bench_require "${tools[@]}"
}

bench_require() { # TOOL...: exits 1 naming the first that is not on PATH
	local t
	for t; do
		command -v "$t" >/dev/null || { echo "$me: $t is missing" >&2; exit 1; }
	done
}

# bench_build WHAT TARGET...: ninja in $build.  Another file may be broken for
# a moment: when the full build fails, the TARGETs the benchmark runs alone
# (WHAT names them in the message) will do, or failing that, the TARGETs built
# before (with a warning); exits 1 when there are none.
bench_build() {
	local what=$1 t
	shift
	ninja -C "$build" >&2 && return 0
	echo "$me: full build failed; building $what alone" >&2
	ninja -C "$build" "$@" >&2 && return 0
	for t; do
		case $t in
		*.o) [ -f "$build/$t" ] || exit 1 ;;
		*) [ -x "$build/$t" ] || exit 1 ;;
		esac
	done
	echo "$me: WARNING: the build failed; using the programs built before" >&2
}

# bench_fs DIR: dev and fstype, the file system DIR lives on.  findmnt's first
# answer is the one (stat -f says "ext2/ext3").
# shellcheck disable=SC2034 # its variables are the caller's
bench_fs() {
	read -r dev fstype < <(findmnt -n -o SOURCE,FSTYPE -T "$1" | head -1) ||
		{ dev="?"; fstype=$(stat -f -c %T "$1"); }
}

# Median, then min-max, of the numbers in a file.
stat_of() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}

bench_fmt() { # FILE DECIMALS: "median (min-max)", thousands separated when DECIMALS is 0
	stat_of "$1" | awk -v d="$2" '
		function g(x,   s, i) {
			s = sprintf("%.*f", d, x)
			if (d > 0) return s
			for (i = length(s) - 3; i > 0 && substr(s, i, 1) ~ /[0-9]/; i -= 3)
				s = substr(s, 1, i) "," substr(s, i + 1)
			return s
		}
		{ printf "%s (%s–%s)", g($1), g($2), g($3) }'
}

# The same as JSON, {"median": M, "min": A, "max": B} (jq keeps every digit).
# bench_cpu_s PID...: CPU seconds (user and system) the processes have used so far.
bench_cpu_s() {
	local p
	for p; do cat "/proc/$p/stat"; done |
		awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { print s / hz + 0 }'
}

stat_json() {
	jq -s 'sort | { median: (if length % 2 == 1 then .[(length - 1) / 2]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end), min: .[0], max: .[-1] }' "$1"
}

# bench_map_sum PINS MAP FIELD: a field of the pinned klog map PINS/MAP,
# summed over CPUs (bpftool's JSON, per-CPU or not).
bench_map_sum() {
	bpftool -j map dump pinned "$1/$2" |
		jq --arg f "$3" '[.[] | (.formatted // .) | (.values // [.value])[] |
			(.value // .) | .[$f] // empty] | add // 0'
}

# bench_klog_snap PINS COUNTER...: "COUNTER VALUE" lines from PINS/klog_stats,
# to subtract a snapshot before a run from one after it.
bench_klog_snap() {
	local pins=$1 c
	shift
	for c; do echo "$c $(bench_map_sum "$pins" klog_stats "$c")"; done
}
