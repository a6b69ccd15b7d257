#!/bin/bash
# bench/run.sh BUILD_DIR -- run the benchmarks (`make bench` calls it).
# Each BUILD_DIR/bench/X prints "NAME MEDIAN UNIT"; every one runs 3 times
# natively, 3 times under BUILD_DIR/cocoon and, if `runsc` (gVisor) is
# installed, 3 times under `runsc do`; the table shows the median of the 3
# medians and the ratios to native (how many times slower: cocoon/native
# for times, native/cocoon for rates, units ending in "/s").
# Then whole workloads, timed from outside (so cocoon's start-up counts):
# a /bin/sh loop running /bin/true 1000 times, `python3 -c pass`, one
# `gcc -O2 -c` (bench/gcc_compile.sh) and `make -j2` of a small C project
# (bench/make_j2.sh on tests/programs/calc).
# Exit status 1 if a run failed.
# BENCH_RUNS (default 3), BENCH_FILTER (regex on benchmark names),
# BENCH_TMPDIR (where the work directory goes, default /var/tmp: guests
# get a tmpfs of their own at /tmp), COCOON_RUN_OPTS (options for
# `cocoon run`, e.g. --spin=off).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
if [ $# -ne 1 ] || [ ! -d "$1/bench" ]; then
	echo "usage: bench/run.sh BUILD_DIR (with BUILD_DIR/bench/ built)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
COCOON=$BUILD/cocoon
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-3}
RUN_OPTS=${COCOON_RUN_OPTS:-}
FILTER=${BENCH_FILTER:-}
WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/cocoon-bench.XXXXXX") || exit 2
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
ulimit -c 0 2>/dev/null

# A 64 MiB host file for the pread benchmark (the guest sees it read-only),
# a 100-byte one for open_read_close, and the smallest static program
# (it only exits) for fork_exec_wait.
head -c $((64 << 20)) /dev/zero > "$WORK/data"
head -c 100 /dev/zero | tr '\0' s > "$WORK/small"
printf '%s\n' 'void _start(void) { __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }' > "$WORK/tiny.c"
gcc -O2 -static -nostdlib -o "$WORK/tiny" "$WORK/tiny.c" 2> /dev/null || rm -f "$WORK/tiny"

RUNSC=
if command -v runsc > /dev/null 2>&1; then RUNSC=$(command -v runsc); fi

failed=0
# one MODE BIN ARGS... -> prints the median value of RUNS runs, or "failed"
one() {
	local mode=$1
	shift
	local vals=() i out st
	for ((i = 0; i < RUNS; i++)); do
		case $mode in
		native) out=$(cd / && timeout 300 "$@" 2> "$WORK/err") ;;
		cocoon) out=$(cd / && timeout 300 "$COCOON" run $RUN_OPTS -- "$@" 2> "$WORK/err") ;;
		runsc) out=$(cd / && timeout 300 "$RUNSC" --network=none do "$@" 2> "$WORK/err") ;;
		esac
		st=$?
		local v
		v=$(printf '%s\n' "$out" | awk 'NF >= 3 && $2 ~ /^[0-9.]+$/ { print $2; exit }')
		if [ $st -ne 0 ] || [ -z "$v" ]; then
			echo "failed"
			{
				echo "  $mode run of $*: exit $st"
				tail -n 5 "$WORK/err" | sed 's/^/    | /'
			} >> "$WORK/errors"
			return 1
		fi
		vals+=("$v")
	done
	printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() {  # NATIVE OTHER UNIT
	case "$1$2" in *failed*|*-*) echo "-"; return ;; esac
	case $3 in
	*/s) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }' ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "-" }' ;;
	esac
}

: > "$WORK/errors"
if [ -n "$RUNSC" ]; then
	printf '%-22s %-10s %12s %12s %8s %12s %8s\n' benchmark unit native cocoon ratio gvisor ratio
else
	printf '%-22s %-10s %12s %12s %8s\n' benchmark unit native cocoon ratio
fi
for bin in "$BUILD"/bench/*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	x=${bin##*/}
	if [ -n "$FILTER" ] && ! [[ $x =~ $FILTER ]]; then continue; fi
	args=()
	case $x in
	pread) args=("$WORK/data") ;;
	open_read_close) args=("$WORK/small") ;;
	fork_exec_wait) [ -x "$WORK/tiny" ] && args=("$WORK/tiny") ;;
	esac
	first=$("$bin" "${args[@]}" 2>/dev/null | head -n 1)
	name=$(echo "$first" | awk '{ print $1 }')
	unit=$(echo "$first" | awk '{ print $3 }')
	[ -z "$name" ] && name=$x
	n=$(one native "$bin" "${args[@]}") || failed=1
	if [ -x "$COCOON" ]; then
		c=$(one cocoon "$bin" "${args[@]}") || failed=1
	else
		c=failed
		failed=1
	fi
	if [ -n "$RUNSC" ]; then
		g=$(one runsc "$bin" "${args[@]}") || g=failed
		printf '%-22s %-10s %12s %12s %8s %12s %8s\n' "$name" "$unit" "$n" "$c" "$(ratio "$n" "$c" "$unit")" \
			"$g" "$(ratio "$n" "$g" "$unit")"
	else
		printf '%-22s %-10s %12s %12s %8s\n' "$name" "$unit" "$n" "$c" "$(ratio "$n" "$c" "$unit")"
	fi
done

# ---- whole workloads --------------------------------------------------------
# wl_one MODE REPS CMD... -> the median over RUNS of (wall time of REPS
# runs of CMD one after the other) / REPS, in ms; or "failed".
wl_one() {
	local mode=$1 reps=$2
	shift 2
	local vals=() i k t0 t1 pre=()
	case $mode in
	cocoon) pre=("$COCOON" run $RUN_OPTS --) ;;
	runsc) pre=("$RUNSC" --network=none do) ;;
	esac
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME
		for ((k = 0; k < reps; k++)); do
			if ! (cd / && timeout 300 "${pre[@]}" "$@" > /dev/null 2> "$WORK/err"); then
				echo "failed"
				{
					echo "  $mode run of $*: failed"
					tail -n 5 "$WORK/err" | sed 's/^/    | /'
				} >> "$WORK/errors"
				return 1
			fi
		done
		t1=$EPOCHREALTIME
		vals+=("$(awk -v a="$t0" -v b="$t1" -v n="$reps" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }')")
	done
	printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
workload() {  # NAME UNIT REPS CMD...
	local name=$1 unit=$2 reps=$3 n c g
	shift 3
	if [ -n "$FILTER" ] && ! [[ $name =~ $FILTER ]]; then return; fi
	n=$(wl_one native "$reps" "$@") || failed=1
	if [ -x "$COCOON" ]; then
		c=$(wl_one cocoon "$reps" "$@") || failed=1
	else
		c=failed
		failed=1
	fi
	if [ -n "$RUNSC" ]; then
		g=$(wl_one runsc "$reps" "$@") || g=failed
		printf '%-22s %-10s %12s %12s %8s %12s %8s\n' "$name" "$unit" "$n" "$c" "$(ratio "$n" "$c" "$unit")" \
			"$g" "$(ratio "$n" "$g" "$unit")"
	else
		printf '%-22s %-10s %12s %12s %8s\n' "$name" "$unit" "$n" "$c" "$(ratio "$n" "$c" "$unit")"
	fi
}
workload sh_1000_true ms 1 /bin/sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i + 1)); done'
if [ -x /usr/bin/python3 ]; then
	workload python3_pass ms/run 5 /usr/bin/python3 -c pass
else
	echo "python3_pass: skipped (/usr/bin/python3 not installed)"
fi
if [ -x /usr/bin/gcc ] && [ -x /usr/bin/make ]; then
	workload gcc_compile ms/run 3 /bin/sh "$SRC/bench/gcc_compile.sh" "$SRC/tests/programs/calc/parser.c"
	workload make_j2 ms/run 1 /bin/sh "$SRC/bench/make_j2.sh" "$SRC/tests/programs/calc"
else
	echo "gcc_compile, make_j2: skipped (gcc or make not installed)"
fi
if [ ! -x "$COCOON" ]; then
	echo "note: $COCOON does not exist: cocoon column empty"
fi
if [ -s "$WORK/errors" ]; then
	echo "failures:"
	cat "$WORK/errors"
fi
exit $failed
