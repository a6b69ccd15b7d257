#!/bin/bash
# bench/run.sh BUILD_DIR -- run the benchmarks (`make bench` calls it).
# Each BUILD_DIR/bench/X prints "NAME MEDIAN UNIT"; every one runs 3 times
# natively, 3 times under BUILD_DIR/cocoon and, if `runsc` (gVisor) is
# installed, 3 times under `runsc do`; the table shows the median of the 3
# medians and the ratios to native. Exit status 1 if a run failed.
# BENCH_RUNS (default 3), BENCH_FILTER (regex on benchmark names).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
if [ $# -ne 1 ] || [ ! -d "$1/bench" ]; then
	echo "usage: bench/run.sh BUILD_DIR (with BUILD_DIR/bench/ built)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
COCOON=$BUILD/cocoon
RUNS=${BENCH_RUNS:-3}
FILTER=${BENCH_FILTER:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cocoon-bench.XXXXXX") || exit 2
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
ulimit -c 0 2>/dev/null

# A 64 MiB host file for the pread benchmark (the guest sees it read-only).
head -c $((64 << 20)) /dev/zero > "$WORK/data"

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
		cocoon) out=$(cd / && timeout 300 "$COCOON" run -- "$@" 2> "$WORK/err") ;;
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
ratio() {
	case "$1$2" in *failed*|*-*) echo "-"; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "-" }'
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
	[ "$x" = pread ] && args=("$WORK/data")
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
		printf '%-22s %-10s %12s %12s %8s %12s %8s\n' "$name" "$unit" "$n" "$c" "$(ratio "$n" "$c")" \
			"$g" "$(ratio "$n" "$g")"
	else
		printf '%-22s %-10s %12s %12s %8s\n' "$name" "$unit" "$n" "$c" "$(ratio "$n" "$c")"
	fi
done
if [ ! -x "$COCOON" ]; then
	echo "note: $COCOON does not exist: cocoon column empty"
fi
if [ -s "$WORK/errors" ]; then
	echo "failures:"
	cat "$WORK/errors"
fi
exit $failed
