#!/bin/bash
# tests/run.sh BUILD_DIR -- run every test of cocoon (`make test` calls it).
#
#  1. unit tests: every executable in BUILD_DIR/tests/unit/; each "ok -"
#     line is a pass, each "not ok -" line a failure; a binary that crashes
#     or exits non-zero without a "not ok" line counts as one failure.
#  2. guest tests: each tests/guest/X.c (built as X.glibc-static and
#     X.musl-static and X.glibc-dynamic; COCOON_TEST_DYNAMIC=0 skips dynamic) runs
#     natively and under BUILD_DIR/cocoon; stdout and exit status must be
#     equal (stderr is ignored). A `// RUN: ARGS` line in X.c asks for one
#     run with those (shell-quoted) arguments; several lines, several runs.
#     A `// COCOON: OPTIONS` line gives cocoon run options (e.g. --net=host).
#     A native run that prints a "NO:" line (a failed expect()) fails too:
#     the host does not behave as the test assumes.
#  3. busybox (static) applets, compared the same way.
#  4. the command line of cocoon: errors, --help.
#  5. security: tests/guest/escape_*.c run only under cocoon with --root;
#     the runner checks that a canary file's content never shows up, that
#     a victim process lives and that the guest said "contained".
#  6. as root with setpriv: a few guest tests again as uid/gid 65534.
#  7. shell workloads: each tests/scripts/X.sh (dash, bash, coreutils,
#     python3, tar, make) run as the program, natively and under cocoon,
#     compared like guest tests, and the native run must exit 0; a
#     `# REQUIRES: PATH...` line skips it when
#     a path is missing, a `# COCOON: OPTIONS` line gives cocoon run
#     options. Then a guest changes files (host_writes.sh) and writes
#     under /, and the host must be unchanged; a host client talks to a
#     guest server (--net=host); vfs_cache changes copies of a tree
#     through the overlay and through binds.
# The last line is "N passed, N failed"; the exit status is 1 if any failed.
#
# Pending features: a case whose name (spaces removed) starts with a word
# of COCOON_PENDING (default empty: nothing is pending now) and
# fails only under cocoon is reported XFAIL and counted apart ("N expected
# failures"), not as failed. A native run that fails its own checks is
# still a failure; a pending case that passes says so.
#
# Environment: COCOON_TEST_JOBS (parallel jobs, default nproc),
# COCOON_TEST_TIMEOUT (seconds per run, default 60; 180 for a sanitizer
# build), COCOON_TEST_FILTER
# (extended regex: only cases whose name matches), COCOON_TEST_DYNAMIC=1,
# COCOON_ESCAPE_SITES (stub syscall sites to jump to, default 16),
# COCOON_TEST_KEEP=1 (keep the work directory), COCOON_TEST_TMPDIR (where
# the work directory goes, default /var/tmp), COCOON_PENDING (above).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: tests/run.sh BUILD_DIR" >&2
	exit 2
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd)
COCOON=$BUILD/cocoon
JOBS=${COCOON_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
# Per run of a case. go_static.sh (the go tool building a program in
# the sandbox) takes 20-30 s under cocoon alone and was seen near 60 s on
# a 2-CPU machine busy with other tests.
T=${COCOON_TEST_TIMEOUT:-120}
FILTER=${COCOON_TEST_FILTER:-}
PENDING=${COCOON_PENDING-}
ESCAPE_SITES=${COCOON_ESCAPE_SITES:-16}

umask 022
ulimit -c 0 2>/dev/null
ulimit -s 8192 2>/dev/null

# Not under /tmp: guests get a tmpfs of their own there, and must see the
# fixture at its host path.
WORK=$(mktemp -d "${COCOON_TEST_TMPDIR:-/var/tmp}/cocoon-test.XXXXXX") || exit 2
chmod 755 "$WORK"
mkdir -p "$WORK/res" "$WORK/cases"
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${COCOON_TEST_KEEP:-0}" = 1 ]; then
		echo "work directory kept: $WORK" >&2
	else
		chmod -R u+rwX "$WORK" 2>/dev/null
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# A checkout under a directory the sandbox mounts its own file system on
# (/tmp, /dev/shm) is invisible to guests: then every `cocoon run` of the
# runner gets the checkout bound at its own path, read-only.
RUNOPTS=()
case "$SRC/" in
/tmp/* | /dev/shm/*) RUNOPTS=(--ro-bind "$SRC:$SRC") ;;
esac
trap 'exit 130' INT TERM

# ---- fixture: files with known shapes for the guest tests -------------------
# Guests see it at $COCOON_FIXTURE (host path; the sandbox root is "/").
FIX=$WORK/fixture
make_fixture() {
	mkdir -p "$FIX/dir/sub" "$FIX/many"
	: > "$FIX/empty"
	printf 'hello, fixture\n' > "$FIX/small"
	head -c 4096 /dev/zero | tr '\0' 'p' > "$FIX/page"
	head -c 4097 /dev/zero | tr '\0' 'q' > "$FIX/pageplus"
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "line %d of the big fixture file\n", i }' > "$FIX/big"
	printf 'f1\n' > "$FIX/dir/f1"
	printf 'f2\n' > "$FIX/dir/f2"
	printf 'x\n' > "$FIX/dir/sub/x"
	: > "$FIX/dir/.hidden"
	ln -s /etc/passwd "$FIX/abs"
	ln -s nonexistent "$FIX/dangling"
	ln -s loop "$FIX/loop"
	ln -s pong "$FIX/ping"
	ln -s ping "$FIX/pong"
	ln -s .. "$FIX/updir"
	ln -s dir/sub "$FIX/dirlink"
	ln -s / "$FIX/rootlink"
	# s0 -> s1 -> ... -> s40 -> small: s1 takes 40 links (the limit), s0 41.
	local i
	for i in $(seq 0 39); do ln -s "s$((i + 1))" "$FIX/s$i"; done
	ln -s small "$FIX/s40"
	printf 'secret\n' > "$FIX/noperm"
	chmod 000 "$FIX/noperm"
	printf '#!/bin/sh\n' > "$FIX/exec"
	chmod 755 "$FIX/exec"
	for i in $(seq 1 1000); do
		: > "$FIX/many/file-$i-$(printf '%*s' $((i % 200)) '' | tr ' ' 'n')"
	done
	# The tree tests/guest/vfs_cache.c changes (a fresh copy per run).
	local c=$FIX/cache-tree
	mkdir -p "$c/sub" "$c/inc1" "$c/inc2"
	printf 'lower a\n' > "$c/a"
	printf 'lower b\n' > "$c/b"
	printf 'lower x\n' > "$c/sub/x"
	printf 'lower y\n' > "$c/sub/y"
	touch -d @1000000000 "$c/sub/y" # older than the clock's tick: a write moves it
	ln -s a "$c/link"
	ln -s sub "$c/dirlink"
	printf 'int h;\n' > "$c/inc2/h.h"
}
make_fixture

GENV=(env -i PATH=/usr/bin:/bin HOME=/ LC_ALL=C TZ=UTC
	"COCOON_TEST_VAR=hello world" COCOON_TEST_EMPTY= "COCOON_FIXTURE=$FIX"
	"COCOON_TESTDATA=$SRC/tests/guest/data")
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!v:-}" ] && GENV+=("$v=${!v}")
done
# A sanitizer build of the kernel runs several times slower: the few
# latency checks of the guest tests (the issues' speed bars, for the
# real build) scale their limits by this.
case $(basename "$BUILD") in
*san*)
	GENV+=(COCOON_TEST_SLOWDOWN=5)
	# Whole workloads (go_static.sh builds a Go program in the sandbox)
	# took over 60 s under the sanitizers on a loaded 2-CPU machine.
	T=${COCOON_TEST_TIMEOUT:-180}
	;;
esac

# ---- the job queue ----------------------------------------------------------
# submit NAME FUNC ARGS...: runs FUNC in the background; its stdout is the
# report. The first line starts with PASS, FAIL, XFAIL, SKIP or NOTE; a
# line "#COUNT P F" overrides the count (unit tests). Reports are printed
# in submission order as soon as they are complete.
NSUB=0
NEXT=0
PASSED=0
FAILED=0
XFAILED=0
submit() {
	local name=$1
	shift
	if [ -n "$FILTER" ] && ! [[ $name =~ $FILTER ]]; then
		return
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n 2>/dev/null
		flush
	done
	local id=$NSUB
	NSUB=$((NSUB + 1))
	mkdir -p "$WORK/cases/$id"
	( CASE=$WORK/cases/$id; "$@" > "$WORK/res/$id.tmp" 2>&1; mv "$WORK/res/$id.tmp" "$WORK/res/$id" ) &
}
flush() {
	local f line p f_
	while [ -e "$WORK/res/$NEXT" ]; do
		f=$WORK/res/$NEXT
		p=
		while IFS= read -r line; do
			case $line in
			"#COUNT "*) set -- $line; PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3)); p=x ;;
			*) printf '%s\n' "$line" ;;
			esac
		done < "$f"
		if [ -z "$p" ]; then
			case $(grep -m 1 -E '^(PASS|FAIL|XFAIL|SKIP|NOTE)' "$f") in
			PASS*) PASSED=$((PASSED + 1)) ;;
			FAIL*) FAILED=$((FAILED + 1)) ;;
			XFAIL*) XFAILED=$((XFAILED + 1)) ;;
			esac
		fi
		NEXT=$((NEXT + 1))
	done
}
note() { submit "note" echo "NOTE $*"; }

# ---- helpers used inside cases ----------------------------------------------
# run_native OUT ERR CMD...: run CMD with the guest environment; prints the
# exit status (124 on timeout).
run_native() {
	local out=$1 err=$2
	shift 2
	{ (cd / && ${RUNAS:-} "${GENV[@]}" timeout -k 5 "$T" "$@" < "${STDIN:-/dev/null}" > "$out" 2> "$err"); } 2> /dev/null
	echo $?
}
run_cocoon() {
	local out=$1 err=$2
	shift 2
	{ (cd / && ${RUNAS:-} "${GENV[@]}" timeout -k 5 "$T" "${COCOON_BIN:-$COCOON}" run "${RUNOPTS[@]}" -- "$@" \
		< "${STDIN:-/dev/null}" > "$out" 2> "$err"); } 2> /dev/null
	echo $?
}
have_cocoon() {
	[ -x "${COCOON_BIN:-$COCOON}" ]
}
status_text() {
	case $1 in
	124) echo "124 (timed out after ${T}s)" ;;
	*) if [ "$1" -gt 128 ]; then echo "$1 (signal $(($1 - 128)))"; else echo "$1"; fi ;;
	esac
}
# cocoon's own crash reports (sanitizers, its Oops) fail a case even when
# the guest's output matched.
cocoon_crashed() {
	grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|Oops' "$1"
}

# is_pending LABEL: does the case wait for a feature (COCOON_PENDING)?
is_pending() {
	local w
	for w in $PENDING; do
		[[ ${1// /} == "$w"* ]] && return 0 # labels compared without spaces
	done
	return 1
}
# verdict LABEL NATIVE_OK REASON...: the first line of a case's report
# and the reasons. NATIVE_OK=0 (the native run is wrong, or the failure is
# one no pending feature excuses) rules out XFAIL. Returns 0 when the case
# passed, 2 for XFAIL, 1 for FAIL.
verdict() {
	local label=$1 native_ok=$2
	shift 2
	if [ $# -eq 0 ]; then
		if is_pending "$label"; then
			echo "PASS $label (pending in COCOON_PENDING, but it passes now)"
		else
			echo "PASS $label"
		fi
		return 0
	fi
	local w st=1
	if [ "$native_ok" = 1 ] && is_pending "$label"; then
		echo "XFAIL $label (pending: fails under cocoon)"
		st=2
	else
		echo "FAIL $label"
	fi
	for w in "$@"; do echo "    $w"; done
	return $st
}

# pair LABEL CMD...: run natively and under cocoon, compare stdout + status.
pair() {
	local label=$1
	shift
	local d=$CASE
	local ns cs
	ns=$(run_native "$d/n.out" "$d/n.err" "$@")
	if ! have_cocoon; then
		echo "FAIL $label"
		echo "    ${COCOON_BIN:-$COCOON} does not exist or is not executable"
		return
	fi
	cs=$(run_cocoon "$d/c.out" "$d/c.err" "$@")
	local why=() native_ok=1
	[ "$ns" = 124 ] && why+=("the native run timed out") && native_ok=0
	# A script failing natively would pass by failing the same way here.
	[ -n "${native_must_succeed:-}" ] && [ "$ns" != 0 ] && [ "$ns" != 124 ] &&
		why+=("the native run failed: $(status_text "$ns")") && native_ok=0
	[ "$ns" != "$cs" ] && why+=("exit status: native $(status_text "$ns"), cocoon $(status_text "$cs")")
	cmp -s "$d/n.out" "$d/c.out" || why+=("stdout differs")
	grep -q '^NO:' "$d/n.out" && why+=("the native run fails its own checks (NO: lines)") && native_ok=0
	cocoon_crashed "$d/c.err" && why+=("cocoon reported a crash on stderr")
	verdict "$label" "$native_ok" "${why[@]}"
	case $? in
	0) return ;;
	2)  # expected for now: the first line cocoon said about it is enough
		[ -s "$d/c.err" ] && echo "    cocoon: $(grep -v '^$' "$d/c.err" | head -n 1 | cut -c1-160)"
		return ;;
	esac
	if [ -s "$d/n.out" ] && [ ! -s "$d/c.out" ]; then
		echo "    cocoon's stdout is empty (native: $(wc -l < "$d/n.out") lines, first: $(head -n 1 "$d/n.out"))"
	elif ! cmp -s "$d/n.out" "$d/c.out"; then
		echo "    --- native stdout / +++ cocoon stdout:"
		diff -u "$d/n.out" "$d/c.out" | sed '1,2d' | head -n 40 | sed 's/^/    /'
	fi
	if grep -q '^NO:' "$d/n.out"; then
		grep '^NO:' "$d/n.out" | head -n 10 | sed 's/^/    native: /'
	fi
	if cocoon_crashed "$d/c.err"; then # the report itself, not its legend
		echo "    cocoon stderr (the crash report):"
		sed -n -E '/ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|Oops/,$p' "$d/c.err" | head -n 40 |
			sed 's/^/    | /'
	elif [ -s "$d/c.err" ]; then
		echo "    cocoon stderr (last lines):"
		tail -n 15 "$d/c.err" | sed 's/^/    | /'
	fi
}

# ---- 1. unit tests ------------------------------------------------------------
unit_case() {
	local bin=$1 name=${1##*/}
	local out=$CASE/out st
	{ (cd "$SRC" && timeout -k 5 "$T" "$bin" > "$out" 2>&1 < /dev/null); } 2> /dev/null
	st=$?
	local ok notok
	ok=$(grep -c '^ok -' "$out")
	notok=$(grep -c '^not ok -' "$out")
	if [ "$notok" -gt 0 ] || [ "$st" -ne 0 ]; then
		echo "FAIL unit/$name ($ok ok, $notok not ok, exit $(status_text "$st"))"
		grep -A 1 '^not ok -' "$out" | head -n 40 | sed 's/^/    /'
		if [ "$notok" -eq 0 ]; then
			tail -n 15 "$out" | sed 's/^/    | /'
			notok=1
		fi
	else
		echo "PASS unit/$name ($ok ok)"
	fi
	echo "#COUNT $ok $notok"
}
if [ -d "$BUILD/tests/unit" ]; then
	for b in "$BUILD"/tests/unit/*; do
		[ -f "$b" ] && [ -x "$b" ] || continue
		case $b in *.o|*.d) continue ;; esac
		submit "unit/${b##*/}" unit_case "$b"
	done
fi

# ---- 2. guest tests -------------------------------------------------------------
VARIANTS="glibc-static musl-static"
if [ "${COCOON_TEST_DYNAMIC:-1}" = 1 ]; then
	VARIANTS="$VARIANTS glibc-dynamic"
else
	note "glibc-dynamic guests skipped (COCOON_TEST_DYNAMIC=0)"
fi
missing_case() { echo "FAIL $1"; echo "    $2 was not built (make test-programs)"; }
eval_pair() {   # LABEL BIN ARGSTRING [COCOON_OPTIONS]
	local label=$1 bin=$2 RUNOPTS=("${RUNOPTS[@]}")
	eval "RUNOPTS+=(${4:-})"
	eval "set -- $3"
	pair "$label" "$bin" "$@"
}
# The `COCOON:` options of a test source (comment marker $2).
cocoon_opts() { sed -n "s|^$2 COCOON:[[:space:]]*||p" "$1" | tr '\n' ' '; }
for src in "$SRC"/tests/guest/*.c; do
	x=$(basename "$src" .c)
	case $x in escape_*) continue ;; esac
	mapfile -t runs < <(sed -n 's|^// RUN:[[:space:]]*||p' "$src")
	[ ${#runs[@]} -eq 0 ] && runs=("")
	copts=$(cocoon_opts "$src" //)
	for v in $VARIANTS; do
		bin=$BUILD/tests/guest/$x.$v
		for ((k = 0; k < ${#runs[@]}; k++)); do
			label=$x.$v
			if [ ${#runs[@]} -gt 1 ]; then label="$label [${runs[$k]:0:40}]"; fi
			if [ ! -x "$bin" ]; then
				submit "$label" missing_case "$label" "$bin"
			else
				submit "$label" eval_pair "$label" "$bin" "${runs[$k]}" "$copts"
			fi
		done
	done
done

# ---- 3. busybox -------------------------------------------------------------------
BB=$(command -v busybox 2>/dev/null || true)
[ -x /bin/busybox ] && BB=/bin/busybox
bb_static=1
if [ -n "$BB" ] && command -v readelf > /dev/null && readelf -l "$BB" 2>/dev/null | grep -q INTERP; then
	bb_static=0
fi
bb() {   # LABEL-SUFFIX [<STDIN] ARGS...
	local label="busybox $1"
	shift
	local stdin=
	case ${1:-} in "<"*) stdin=${1#<}; shift ;; esac
	submit "$label" env_pair "$stdin" "$label" "$BB" "$@"
}
env_pair() {  # STDIN LABEL CMD...
	local stdin=$1
	shift
	STDIN=${stdin:-/dev/null} pair "$@"
}
if [ -z "$BB" ]; then
	note "busybox not found: busybox tests skipped (apt-get install busybox-static)"
elif [ $bb_static = 0 ] && [ "${COCOON_TEST_DYNAMIC:-1}" != 1 ]; then
	note "$BB is dynamically linked: busybox tests skipped (install busybox-static)"
else
	bb "echo hello" echo hello
	bb "echo args" echo -n "a  b" "" c
	bb "cat /etc/passwd" cat /etc/passwd
	bb "cat missing file" cat /nonexistent
	bb "md5sum" md5sum "$BB" /etc/passwd
	bb "sha256sum big" sha256sum "$FIX/big"
	bb "ls -l /etc" ls -l /etc
	bb "ls -la fixture/dir" ls -la "$FIX/dir"
	bb "ls -lR fixture" ls -lR "$FIX/dir" "$FIX/abs" "$FIX/dirlink"
	bb "ls -1 /usr/bin" ls -1 /usr/bin
	bb "wc /etc/passwd" wc /etc/passwd
	bb "wc -l stdin" "</etc/passwd" wc -l
	bb "head -3 /etc/passwd" head -3 /etc/passwd
	bb "head -3 stdin" "</etc/passwd" head -3
	bb "tail -n 2" tail -n 2 /etc/passwd
	bb "tail -c 100 big" tail -c 100 "$FIX/big"
	bb "sort -r" sort -r /etc/passwd
	bb "grep -c root" grep -c root /etc/passwd
	bb "grep no match" grep nosuchthingatall /etc/passwd
	bb "true" true
	bb "false" false
	bb "sh -c" sh -c 'echo $((6 * 7)); cd /usr/bin && pwd && cd .. && pwd; for i in 1 2 3; do echo "i=$i"; done; exit 5'
	bb "stat -c" stat -c '%n %s %a %F %h %u %g' /etc/passwd /bin /etc "$FIX/small" "$FIX/abs"
	bb "readlink" readlink /bin
	bb "readlink -f" readlink -f /bin/busybox "$FIX/s1" "$FIX/dirlink/.."
	bb "realpath" realpath /bin/../etc/passwd
	bb "uname -sm" uname -s -m
	bb "od" od -A x -t x1z -N 64 "$BB"
	bb "dd" dd if=/etc/passwd bs=7 count=3 skip=2
	bb "cmp same" cmp "$BB" "$BB"
	bb "cmp differ" cmp /etc/passwd "$FIX/big"
	bb "find -name" find "$FIX/dir" -name f1
	bb "test -d" test -d /etc
	bb "test -f dir" test -f /etc
	bb "printf" printf '%s-%d-%x\n' a 5 255
	bb "seq" seq 1 5
	bb "env" env
	bb "id" id
	bb "pwd" pwd
	bb "sleep" sleep 0.05
fi

# ---- 4. command line -----------------------------------------------------------------
cli_case() {  # LABEL WANT_STATUS STDERR_RULE ARGS...
	# STDERR_RULE: "oneline", "=TEXT" (exactly), "any", "stats" (trap counts)
	local label="cli: $1" want=$2 rule=$3
	shift 3
	if ! have_cocoon; then
		echo "FAIL $label"
		echo "    $COCOON does not exist or is not executable"
		return
	fi
	local st
	local args=("$@")
	[ "${1:-}" = run ] && args=(run "${RUNOPTS[@]}" "${@:2}")
	{ (cd / && "${GENV[@]}" timeout -k 5 20 "$COCOON" "${args[@]}" < /dev/null > "$CASE/out" 2> "$CASE/err"); } 2> /dev/null
	st=$?
	local why=()
	[ "$st" != "$want" ] && why+=("exit status $(status_text "$st"), want $want")
	local lines
	lines=$(wc -l < "$CASE/err")
	case $rule in
	oneline) [ "$lines" -eq 1 ] || why+=("stderr has $lines lines, want exactly 1") ;;
	=*) [ "$(cat "$CASE/err")" = "${rule#=}" ] && [ "$lines" -eq 1 ] ||
		why+=("stderr is not exactly: ${rule#=}") ;;
	stdout=*) [ "$(cat "$CASE/out")" = "${rule#stdout=}" ] || why+=("stdout is not: ${rule#stdout=}") ;;
	nonempty) [ -s "$CASE/out" ] || why+=("nothing on stdout") ;;
	stats) grep -q "stats: .* system-call traps" "$CASE/err" && grep -q "stats:   write " "$CASE/err" ||
		why+=("no trap counts on stderr") ;;
	esac
	cocoon_crashed "$CASE/err" && why+=("cocoon reported a crash on stderr")
	if [ ${#why[@]} -eq 0 ]; then
		echo "PASS $label"
		return
	fi
	echo "FAIL $label"
	local w
	for w in "${why[@]}"; do echo "    $w"; done
	echo "    command: cocoon $*"
	head -n 5 "$CASE/err" | sed 's/^/    stderr| /'
	head -n 5 "$CASE/out" | sed 's/^/    stdout| /'
}
HELLO=$BUILD/tests/guest/hello.glibc-static
submit "cli: unknown option" cli_case "unknown option" 2 oneline --definitely-not-an-option
submit "cli: no arguments" cli_case "no arguments" 2 oneline
submit "cli: run without program" cli_case "run without program" 2 oneline run
submit "cli: run -- without program" cli_case "run -- without program" 2 oneline run --
submit "cli: run unknown option" cli_case "run unknown option" 2 oneline run --bogus-option -- "$HELLO"
submit "cli: missing program" cli_case "missing program" 2 "=cocoon: /nonexistent: No such file or directory" run -- /nonexistent
submit "cli: non-ELF program" cli_case "non-ELF program" 2 oneline run -- /etc/passwd
submit "cli: directory as program" cli_case "directory as program" 2 oneline run -- /etc
submit "cli: missing --root" cli_case "missing --root" 2 oneline run --root /nonexistent-cocoon-root -- /hello
submit "cli: --help" cli_case "--help" 0 nonempty --help
submit "cli: run --debug" cli_case "run --debug" 0 "stdout=hello, world" run --debug -- "$HELLO"
submit "cli: run --trace" cli_case "run --trace" 0 "stdout=hello, world" run --trace -- "$HELLO"
submit "cli: run --stats" cli_case "run --stats" 0 stats run --stats -- "$HELLO"
submit "cli: run --root" cli_case "run --root" 0 "stdout=hello, world" run --root "$BUILD/tests/guest" -- /hello.glibc-static
submit "cli: run --vdso=syscall" cli_case "run --vdso=syscall" 0 "stdout=hello, world" run --vdso=syscall -- "$HELLO"
submit "cli: run --spin=off" cli_case "run --spin=off" 0 "stdout=hello, world" run --spin=off -- "$HELLO"
submit "cli: run --spin=bogus" cli_case "run --spin=bogus" 2 oneline run --spin=bogus -- "$HELLO"
submit "cli: run --vdso=bogus" cli_case "run --vdso=bogus" 2 oneline run --vdso=bogus -- "$HELLO"
submit "cli: run --net=host" cli_case "run --net=host" 0 "stdout=hello, world" run --net=host -- "$HELLO"
submit "cli: run --net=bogus" cli_case "run --net=bogus" 2 oneline run --net=bogus -- "$HELLO"
submit "cli: run --time-offset=x" cli_case "run --time-offset=x" 2 oneline run --time-offset=x -- "$HELLO"
submit "cli: run --time without @" cli_case "run --time without @" 2 oneline run --time=1000 -- "$HELLO"
submit "cli: run --time-offset before 1970" cli_case "run --time-offset before 1970" 2 oneline run --time-offset=-9000000000 -- "$HELLO"
if [ -n "$BB" ]; then
	submit "cli: run --time=@EPOCH" cli_case "run --time=@EPOCH" 0 "stdout=1000000000" run --time=@1000000000 -- "$BB" date -u +%s
	# The sandbox's own node name (root inside holds CAP_SYS_ADMIN).
	submit "cli: sethostname in the sandbox" cli_case "sethostname in the sandbox" 0 \
		"stdout=$(printf 'sandbox-x\nsandbox-x')" run -- "$BB" sh -c \
		'hostname sandbox-x && hostname && cat /proc/sys/kernel/hostname'
fi

# The compatibility table in the docs is generated from the syscall table.
syscall_doc_case() {
	if "$COCOON" syscalls | cmp -s - docs/SYSCALLS.md; then
		echo "PASS docs: SYSCALLS.md matches the syscall table"
	else
		echo "FAIL docs: SYSCALLS.md matches the syscall table"
		echo "    docs/SYSCALLS.md is stale: run 'make docs/SYSCALLS.md'"
	fi
}
submit "docs: syscall table" syscall_doc_case

# A write to a pipe nobody reads kills the writer with SIGPIPE, as natively.
sigpipe_case() {
	local native cocoon
	busybox cat /bin/busybox 2>/dev/null | head -c 4 > /dev/null; native=${PIPESTATUS[0]}
	"$COCOON" run "${RUNOPTS[@]}" -- /bin/busybox cat /bin/busybox 2>/dev/null | head -c 4 > /dev/null; cocoon=${PIPESTATUS[0]}
	if [ "$native" = "$cocoon" ]; then
		echo "PASS sigpipe: writer to a closed pipe"
	else
		echo "FAIL sigpipe: writer to a closed pipe"
		echo "    exit status: native $native, cocoon $cocoon"
	fi
}
submit "sigpipe" sigpipe_case

# What a guest host-process holds, seen from the host: nothing of cocoon
# (only memory-file mappings, the vsyscall page and read-only private
# mappings of the file the guest runs, static busybox: host file
# images), exactly one fd (the memory file), every thread under seccomp,
# guest threads under both filters. Checked on every host process cocoon has (the guest's, the
# zygote that forks them and the spares made ahead).
isolation_case() {
	local k c cs bad=() n guest=
	"$COCOON" run "${RUNOPTS[@]}" -- /bin/busybox sleep 2 & k=$!
	for n in 1 2 3 4 5 6 7 8 9 10; do
		for c in $(pgrep -P "$k"); do
			[ "$(ls "/proc/$c/task" 2>/dev/null | wc -l)" -ge 2 ] && guest=$c
		done
		[ -n "$guest" ] && break
		sleep 0.1
	done
	if [ -z "$guest" ]; then
		bad+=("no guest host-process found")
	else
		sleep 0.2
		cs=$(pgrep -P "$k")
	fi
	for c in $cs; do
		n=$(grep -v -e '/memfd:cocoon-memory' -e '\[vsyscall\]' -e '^[0-9a-f-]* r-[-x]p .* /usr/bin/busybox$' \
			"/proc/$c/maps" | wc -l)
		[ "$n" = 0 ] || bad+=("$c: $n foreign mappings: $(grep -v -e memfd -e vsyscall "/proc/$c/maps" | head -n 3 | tr '\n' ';')")
		n=$(ls "/proc/$c/fd" | wc -l)
		[ "$n" = 1 ] || bad+=("$c: $n fds: $(ls -l "/proc/$c/fd" | tail -n +2 | awk '{print $NF}' | tr '\n' ' ')")
		readlink "/proc/$c/fd/0" | grep -q '^/memfd:cocoon-memory' || bad+=("$c: fd 0 is not the memory file")
		for t in /proc/$c/task/*; do
			grep -q '^NoNewPrivs:[[:space:]]*1' "$t/status" || bad+=("$t without no_new_privs")
			grep -q '^Seccomp:[[:space:]]*2' "$t/status" || bad+=("$t not under seccomp")
		done
		n=$(grep -h '^Seccomp_filters' /proc/$c/task/*/status | awk '{print $2}' | sort | tr '\n' ' ')
		case "$n" in "1 " | "1 2 ") ;; *) bad+=("$c: filters per thread: $n (want control 1, guest 2)") ;; esac
	done
	wait "$k"
	if [ ${#bad[@]} = 0 ]; then
		echo "PASS isolation: guest host-process holds nothing of cocoon"
	else
		echo "FAIL isolation: guest host-process holds nothing of cocoon"
		for b in "${bad[@]}"; do echo "    $b"; done
	fi
}
submit "isolation" isolation_case

# cocoon's own fd table is grown before any thread starts (cli/main.c):
# the host grows a threaded process's table only after an RCU grace
# period, 10-20 ms here, and every kernel thread opening a file waits.
fdtable_case() {
	local k n lim want
	"$COCOON" run "${RUNOPTS[@]}" -- /bin/busybox sleep 1 & k=$!
	sleep 0.3
	n=$(awk '/^FDSize:/ { print $2 }' "/proc/$k/status" 2> /dev/null)
	lim=$(awk '/^Max open files/ { print $4 }' "/proc/$k/limits" 2> /dev/null)
	want=16384
	[ -n "$lim" ] && [ "$lim" -lt "$want" ] && want=$lim
	wait "$k"
	if [ -n "$n" ] && [ "$n" -ge "$want" ]; then
		echo "PASS fd table: cocoon's own is grown before its threads"
	else
		echo "FAIL fd table: cocoon's own is grown before its threads"
		echo "    FDSize ${n:-unknown}, want at least $want"
	fi
}
submit "fd table" fdtable_case

# The vDSO's clocks do not trap: vdso_notrap makes 300000 clock reads
# through libc; under --trace none may appear as a system call.
vdso_notrap_case() {  # VARIANT
	local bin=$BUILD/tests/guest/vdso_notrap.$1 n
	if [ ! -x "$bin" ]; then missing_case "vdso: no clock traps ($1)" "$bin"; return; fi
	(cd / && "${GENV[@]}" timeout -k 5 "$T" "$COCOON" run "${RUNOPTS[@]}" --trace -- "$bin" > "$CASE/out" 2> "$CASE/err")
	n=$(grep -cE '\] (clock_gettime|gettimeofday|time|getcpu)\(' "$CASE/err")
	if [ "$n" = 0 ] && [ "$(cat "$CASE/out")" = done ]; then
		echo "PASS vdso: no clock traps ($1)"
	else
		echo "FAIL vdso: no clock traps ($1)"
		echo "    $n clock system calls traced; stdout: $(head -c 200 "$CASE/out")"
	fi
}
for v in $VARIANTS; do
	submit "vdso notrap $v" vdso_notrap_case "$v"
done

# ---- 5. security ---------------------------------------------------------------------
# Each escape case gets its own directory: root/ (the sandbox root, with
# the binary and some links), canary (outside root), and a victim process.
escape_setup() {  # BIN -> sets E_ROOT E_CANARY E_SECRET E_VICTIM E_SUM
	local d=$CASE
	E_ROOT=$d/root
	E_CANARY=$d/canary
	E_SECRET="cocoon-canary-$RANDOM$RANDOM$RANDOM"
	mkdir -p "$E_ROOT/sub"
	cp "$1" "$E_ROOT/"
	printf '%s\n' "$E_SECRET" > "$E_CANARY"
	ln -s "$E_CANARY" "$E_ROOT/abslink"
	ln -s ../canary "$E_ROOT/rellink"
	ln -s ../../../../../../../.. "$E_ROOT/uplink"
	ln -s / "$E_ROOT/rootlink"
	E_SUM=$(cksum < "$E_CANARY")
}
# A fresh victim per run. Not a child of this shell: no job notices.
start_victim() {
	E_VICTIM=$(sleep 300 < /dev/null > /dev/null 2>&1 & echo $!)
}
victim_alive() {   # a zombie counts as dead (its reaper may be slow)
	local st=
	[ -r "/proc/$1/stat" ] && read -r _ _ st _ < "/proc/$1/stat" 2>/dev/null
	if [ -n "$st" ]; then [ "$st" != Z ] && [ "$st" != X ]; else kill -0 "$1" 2>/dev/null; fi
}
stop_victim() {
	kill "$E_VICTIM" 2>/dev/null
}
# escape_run NAME MODE MAY_DIE MAY_HANG -> prints one verdict line, and
# details; sets E_FAILED=1 on failure.
escape_run() {
	local name=$1 mode=$2 may_die=$3 may_hang=$4 tag=${5:-$RANDOM}
	local out=$CASE/out.$tag err=$CASE/err.$tag st
	start_victim
	{ (cd / && "${GENV[@]}" timeout -k 5 "${E_T:-$T}" "$COCOON" run "${RUNOPTS[@]}" --root "$E_ROOT" -- "/$name" \
		"$E_CANARY" "$E_VICTIM" "$mode" < /dev/null > "$out" 2> "$err" 9< "$E_CANARY"); } 2> /dev/null
	st=$?
	local why=() how=
	if grep -qF "$E_SECRET" "$out" "$err"; then why+=("the canary's content leaked"); fi
	if grep -q ESCAPED "$out"; then why+=("the guest reports: $(grep ESCAPED "$out" | head -n 1)"); fi
	if ! victim_alive "$E_VICTIM"; then why+=("the victim process was killed"); fi
	if [ "$(cksum < "$E_CANARY")" != "$E_SUM" ]; then why+=("the canary file changed"); fi
	cocoon_crashed "$err" && why+=("cocoon reported a crash on stderr")
	stop_victim
	if [ ${#why[@]} -eq 0 ]; then
		if grep -q '^contained' "$out"; then
			how="contained"
		elif [ "$st" = 124 ] || [ "$st" = 137 ] && [ "$may_hang" = 1 ]; then
			how="hung (killed after the timeout): counted as contained"
		elif [ "$st" = 2 ] && [ ! -s "$out" ]; then
			why+=("cocoon could not start it (exit 2)")
		elif [ "$st" -gt 128 ] && [ "$may_die" = 1 ]; then
			how="guest killed by signal $((st - 128))"
		else
			why+=("no 'contained' line; exit $(status_text "$st")")
		fi
	fi
	if [ ${#why[@]} -eq 0 ]; then
		echo "    ok: $mode: $how"
		return
	fi
	E_FAILED=1
	echo "    FAILED: $mode:"
	local w
	for w in "${why[@]}"; do echo "      $w"; done
	head -n 20 "$out" | sed 's/^/      stdout| /'
	tail -n 8 "$err" | sed 's/^/      stderr| /'
}
escape_case() {  # NAME (file in BUILD/tests/guest), modes from the source
	local x=$1 name=$1.glibc-static
	local bin=$BUILD/tests/guest/$name
	if [ ! -x "$bin" ]; then missing_case "security: $x" "$bin"; return; fi
	if ! have_cocoon; then
		echo "FAIL security: $x"
		echo "    $COCOON does not exist or is not executable"
		return
	fi
	escape_setup "$bin"
	E_FAILED=0
	local lines=() line mode flags
	mapfile -t lines < <(sed -n 's|^// ESCAPE-RUN:[[:space:]]*||p' "$SRC/tests/guest/$x.c")
	local report=$CASE/report
	: > "$report"
	for line in "${lines[@]}"; do
		set -- $line
		mode=$1
		flags=" ${*:2} "
		escape_run "$name" "$mode" "$([[ $flags == *" may-die "* ]] && echo 1 || echo 0)" 0 >> "$report"
	done
	if [ $E_FAILED = 0 ]; then echo "PASS security: $x"; else echo "FAIL security: $x"; fi
	cat "$report"
}
stubjump_case() {
	local name=escape_stubjump.glibc-static
	local bin=$BUILD/tests/guest/$name
	if [ ! -x "$bin" ]; then missing_case "security: escape_stubjump" "$bin"; return; fi
	if ! have_cocoon; then
		echo "FAIL security: escape_stubjump"
		echo "    $COCOON does not exist or is not executable"
		return
	fi
	escape_setup "$bin"
	E_FAILED=0
	local report=$CASE/report
	: > "$report"
	local n st
	start_victim
	{ (cd / && "${GENV[@]}" timeout -k 5 20 "$COCOON" run "${RUNOPTS[@]}" --root "$E_ROOT" -- "/$name" \
		"$E_CANARY" "$E_VICTIM" count < /dev/null > "$CASE/count.out" 2> "$CASE/count.err"); } 2> /dev/null
	st=$?
	stop_victim
	n=$(sed -n 's/^sites: //p' "$CASE/count.out")
	if [ -z "$n" ]; then
		if grep -q "reading the stub" "$CASE/count.out" && [ "$st" -gt 128 ]; then
			echo "    ok: the stub's code is not readable by the guest (signal $((st - 128))); no sites to try" >> "$report"
			n=0
		else
			E_FAILED=1
			echo "    FAILED: count run: exit $(status_text "$st")" >> "$report"
			tail -n 8 "$CASE/count.err" | sed 's/^/      stderr| /' >> "$report"
			n=0
		fi
	else
		echo "    $n syscall byte pairs in the stub's code; trying $((n < ESCAPE_SITES ? n : ESCAPE_SITES))" >> "$report"
	fi
	[ "$n" -gt "$ESCAPE_SITES" ] && n=$ESCAPE_SITES
	local s k
	{
		E_T=5
		for mode in direct write_code write_orders; do
			escape_run "$name" "$mode" 1 0
		done
	} >> "$report"
	# The jumps run JOBS at a time (a jump may hang until its timeout).
	local i=0
	for ((s = 0; s < n; s++)); do
		for k in open kill mmap mprotect; do
			while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n 2>/dev/null; done
			E_T=5 escape_run "$name" "$s:$k" 1 1 "j$i" > "$CASE/jump.$i" &
			i=$((i + 1))
		done
	done
	wait
	# Failures in full; the outcomes of the others counted.
	for ((s = 0; s < i; s++)); do
		grep -q '^    ok:' "$CASE/jump.$s" || cat "$CASE/jump.$s" >> "$report"
	done
	if [ $i -gt 0 ]; then
		cat "$CASE"/jump.* | sed -n -E 's/^    ok: [0-9]+:[a-z]+: //p' | sort | uniq -c |
			awk '{ n = $1; $1 = ""; printf "    jumps (site:kind):%s: %d\n", $0, n }' >> "$report"
	fi
	if grep -q FAILED "$report"; then E_FAILED=1; fi
	if [ $E_FAILED = 0 ]; then echo "PASS security: escape_stubjump"; else echo "FAIL security: escape_stubjump"; fi
	cat "$report"
}
# The probes themselves must detect an escape when there is no sandbox:
# run a few natively (never the stub jumps into a real stub) and expect
# the canary to leak.
probe_case() {  # NAME MODE
	local x=$1 mode=$2 name=$1.glibc-static
	local bin=$BUILD/tests/guest/$name
	if [ ! -x "$bin" ]; then missing_case "security probe: $x $mode" "$bin"; return; fi
	escape_setup "$bin"
	start_victim
	{ (cd / && "${GENV[@]}" timeout -k 5 20 "$bin" "$E_CANARY" "$E_VICTIM" "$mode" \
		< /dev/null > "$CASE/out" 2> "$CASE/err"); } 2> /dev/null
	local leaked=0 w
	grep -qF "$E_SECRET" "$CASE/out" && leaked=1
	# SIGKILL takes effect when the victim next runs: on a loaded machine
	# it can still look alive for a moment, so give it up to 2 s to die.
	for w in $(seq 20); do
		victim_alive "$E_VICTIM" || { leaked=1; break; }
		grep -q "kill through the stub: ok" "$CASE/out" || break
		sleep 0.1
	done
	stop_victim
	if [ $leaked = 1 ] && grep -q ESCAPED "$CASE/out"; then
		echo "PASS security probe: $x $mode detects an escape natively"
	else
		echo "FAIL security probe: $x $mode did not detect the (native, unconfined) escape"
		head -n 20 "$CASE/out" | sed 's/^/    | /'
	fi
}
for src in "$SRC"/tests/guest/escape_*.c; do
	[ -e "$src" ] || continue
	x=$(basename "$src" .c)
	if [ "$x" = escape_stubjump ]; then
		submit "security: $x" stubjump_case
	else
		submit "security: $x" escape_case "$x"
	fi
done
submit "security probe: escape_syscall" probe_case escape_syscall syscall
submit "security probe: escape_root" probe_case escape_root paths
submit "security probe: escape_stubjump open" probe_case escape_stubjump fake:0:open
submit "security probe: escape_stubjump kill" probe_case escape_stubjump fake:0:kill

# ---- 6. without privileges --------------------------------------------------------------
unpriv_setup() {
	local u=$WORK/unpriv
	mkdir -p "$u"
	cp "$COCOON" "$u/cocoon" 2>/dev/null
	local x
	for x in hello files stat paths mm errno system sysv_shm sysv_sem sysv_msg sysv_limits; do
		cp "$BUILD/tests/guest/$x.glibc-static" "$BUILD/tests/guest/$x.musl-static" "$u/" 2>/dev/null
	done
	chmod -R a+rX "$u"
}
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
unpriv_pair() {
	local RUNOPTS=() # its programs are copies under $WORK, outside the checkout
	RUNAS="${NOBODY[*]}" COCOON_BIN="$WORK/unpriv/cocoon" pair "$@"
}
if [ "$(id -u)" != 0 ]; then
	note "not root: the unprivileged reruns are skipped (cocoon already ran without root)"
elif ! command -v setpriv > /dev/null; then
	note "setpriv not found: unprivileged reruns skipped (apt-get install util-linux)"
else
	unpriv_setup
	if ! "${NOBODY[@]}" test -r "$WORK/unpriv/hello.glibc-static"; then
		note "uid 65534 cannot reach $WORK: unprivileged reruns skipped"
	else
		for x in hello files stat paths mm errno system sysv_shm sysv_sem sysv_msg sysv_limits; do
			for v in glibc-static musl-static; do
				[ -x "$WORK/unpriv/$x.$v" ] || continue
				submit "unprivileged $x.$v" unpriv_pair "as uid 65534: $x.$v" "$WORK/unpriv/$x.$v"
			done
		done
	fi
fi

# ---- 7. shell workloads ----------------------------------------------------------------
shell_case() {  # SCRIPT
	local src=$1 label="shell: ${1##*/}" req missing= RUNOPTS=("${RUNOPTS[@]}")
	local native_must_succeed=1 # (seen by pair)
	eval "RUNOPTS+=($(cocoon_opts "$src" '#'))"
	for req in $(sed -n 's|^# REQUIRES:||p' "$src"); do
		[ -e "$req" ] || missing="$missing $req"
	done
	if [ -n "$missing" ]; then
		echo "SKIP $label (not installed:$missing)"
		return
	fi
	pair "$label" "$src"
}
for src in "$SRC"/tests/scripts/*.sh; do
	[ -e "$src" ] || continue
	case ${src##*/} in host_writes.sh) continue ;; esac
	submit "shell: ${src##*/}" shell_case "$src"
done

# A guest creates, changes, renames and deletes files in a host directory
# (host_writes.sh) and writes a file at the root; the guest must see its
# changes (the same output as a native run on a copy) and the host must
# see none. The directory is outside /tmp (the guests' own tmpfs).
hw_make() {  # DIR: the starting state
	mkdir -p "$1/emptydir"
	printf 'canary line\n' > "$1/canary"
	printf 'to rename\n' > "$1/renamed-from"
	printf 'to delete\n' > "$1/deleted"
	printf 'mode\n' > "$1/modebits"
	chmod 644 "$1/modebits"
	chmod 755 "$1"
}
hw_snapshot() {  # DIR -> every entry's type, mode, size, link target and sum
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec cksum {} + | sort)
}
host_writes_case() {
	local label="shell: host unchanged after guest writes"
	local src=$SRC/tests/scripts/host_writes.sh d why=() native_ok=1 ns cs
	if ! have_cocoon; then verdict "$label" 1 "$COCOON does not exist"; return; fi
	d=$(mktemp -d "${COCOON_TEST_TMPDIR:-/var/tmp}/cocoon-hostwrites.XXXXXX") || return
	chmod 755 "$d"
	hw_make "$d/native"
	hw_make "$d/guest"
	hw_snapshot "$d/guest" > "$CASE/before"
	ns=$(run_native "$CASE/n.out" "$CASE/n.err" "$src" "$d/native")
	cs=$(run_cocoon "$CASE/c.out" "$CASE/c.err" "$src" "$d/guest")
	hw_snapshot "$d/guest" > "$CASE/after"
	[ "$ns" = 0 ] || { why+=("the native run failed: $(status_text "$ns")"); native_ok=0; }
	[ "$ns" != "$cs" ] && why+=("exit status: native $(status_text "$ns"), cocoon $(status_text "$cs")")
	cmp -s "$CASE/n.out" "$CASE/c.out" || why+=("what the guest saw differs from the native run")
	if ! cmp -s "$CASE/before" "$CASE/after"; then
		why+=("THE HOST DIRECTORY CHANGED: $(diff "$CASE/before" "$CASE/after" | grep '^[<>]' | head -n 5 | tr '\n' ';')")
		native_ok=0   # never an expected failure
	fi
	# And a file written at the root of the sandbox.
	local name=cocoon-host-write-$RANDOM$RANDOM
	cs=$(run_cocoon "$CASE/r.out" "$CASE/r.err" /bin/sh -c "echo guest > /$name && cat /$name")
	[ "$cs" = 0 ] && [ "$(cat "$CASE/r.out")" = guest ] ||
		why+=("writing /$name in the guest: exit $(status_text "$cs"), stdout $(head -c 80 "$CASE/r.out")")
	if [ -e "/$name" ]; then
		why+=("THE GUEST'S /$name APPEARED ON THE HOST")
		native_ok=0
		rm -f "/$name"
	fi
	cocoon_crashed "$CASE/c.err" && why+=("cocoon reported a crash on stderr")
	rm -rf "$d"
	verdict "$label" "$native_ok" "${why[@]}"
	[ $? = 1 ] && [ -s "$CASE/c.err" ] && tail -n 5 "$CASE/c.err" | sed 's/^/    | /'
	return 0
}
submit "shell: host unchanged" host_writes_case

# --net=host: a guest server that a client on the host reaches, and what a
# guest may not have of the host's network (raw, packet and netlink
# sockets, binding to a device, host fd numbers).
HOSTNET_SERVER='
import errno, os, socket
def refused(f):
    try: f(); return "allowed"
    except OSError as e: return errno.errorcode[e.errno]
print("raw socket:", refused(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)))
print("packet socket refused:", refused(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)) != "allowed")
print("netlink socket refused:", refused(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)) != "allowed")
s = socket.socket()
print("SO_BINDTODEVICE:", refused(lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")))
s.bind(("127.0.0.1", 0)); s.listen(1)
print("fd is a sandbox socket:", os.readlink("/proc/self/fd/%d" % s.fileno()).startswith("socket:["))
print("port", s.getsockname()[1], flush=True)
c, peer = s.accept()
data = b""
while True:
    x = c.recv(100)
    if not x: break
    data += x
c.sendall(data[::-1]); c.close()
print("peer", peer[0], "sent", data.decode())
'
hostnet_client_case() {
	local label="shell: a host client of a guest server (--net=host)" why=() port= i st got
	if [ ! -x /usr/bin/python3 ]; then echo "SKIP $label (not installed: /usr/bin/python3)"; return; fi
	if ! have_cocoon; then verdict "$label" 1 "$COCOON does not exist"; return; fi
	(cd / && "${GENV[@]}" timeout -k 5 "$T" "$COCOON" run "${RUNOPTS[@]}" --net=host -- /usr/bin/python3 -c "$HOSTNET_SERVER" \
		< /dev/null > "$CASE/out" 2> "$CASE/err") &
	local pid=$!
	for ((i = 0; i < 400; i++)); do
		port=$(sed -n 's/^port //p' "$CASE/out" 2> /dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
	got=$(timeout 20 /usr/bin/python3 -c 'import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"from the host"); c.shutdown(socket.SHUT_WR); print(c.recv(100).decode())' "${port:-0}" 2>&1)
	wait $pid
	st=$?
	[ "$st" = 0 ] || why+=("cocoon exit status $(status_text "$st")")
	[ "$got" = "tsoh eht morf" ] || why+=("the host client got: $(echo "$got" | tail -n 1)")
	sed '/^port /d' "$CASE/out" > "$CASE/seen"
	printf '%s\n' "raw socket: EPERM" "packet socket refused: True" "netlink socket refused: True" \
		"SO_BINDTODEVICE: EPERM" "fd is a sandbox socket: True" "peer 127.0.0.1 sent from the host" > "$CASE/want"
	cmp -s "$CASE/want" "$CASE/seen" ||
		why+=("the guest said: $(tr '\n' ';' < "$CASE/seen" | cut -c1-200)")
	cocoon_crashed "$CASE/err" && why+=("cocoon reported a crash on stderr")
	verdict "$label" 1 "${why[@]}"
	[ $? = 1 ] && [ -s "$CASE/err" ] && tail -n 5 "$CASE/err" | sed 's/^/    | /'
	return 0
}
submit "shell: a host client of a guest server (--net=host)" hostnet_client_case

# Writable shared mappings of host files (tests/guest/mm_shared_host.c)
# in a scratch directory bound read-write (--bind): the output and the
# file left on the host must equal a native run's in a directory of its own.
bind_shared_case() {  # VARIANT
	local label="bind: mm_shared_host.$1" bin=$BUILD/tests/guest/mm_shared_host.$1 d ns cs why=()
	if ! have_cocoon; then verdict "$label" 1 "$COCOON does not exist"; return; fi
	d=$(mktemp -d "${COCOON_TEST_TMPDIR:-/var/tmp}/cocoon-bind.XXXXXX") || return
	mkdir -p "$d/native" "$d/guest"
	chmod -R 755 "$d"
	ns=$(run_native "$CASE/n.out" "$CASE/n.err" "$bin" "$d/native")
	local RUNOPTS=("${RUNOPTS[@]}" --bind "$d/guest:$d/guest") # seen by run_cocoon
	cs=$(run_cocoon "$CASE/c.out" "$CASE/c.err" "$bin" "$d/guest")
	[ "$ns" != "$cs" ] && why+=("exit status: native $(status_text "$ns"), cocoon $(status_text "$cs")")
	cmp -s "$CASE/n.out" "$CASE/c.out" || why+=("stdout differs: $(diff "$CASE/n.out" "$CASE/c.out" | grep '^[<>]' | head -n 4 | tr '\n' ';')")
	cmp -s "$d/native/shared-map" "$d/guest/shared-map" || why+=("the host file differs from the native run's")
	cocoon_crashed "$CASE/c.err" && why+=("cocoon reported a crash on stderr")
	rm -rf "$d"
	verdict "$label" 1 "${why[@]}"
	return 0
}
for v in $VARIANTS; do
	[ -x "$BUILD/tests/guest/mm_shared_host.$v" ] && submit "bind: mm_shared_host.$v" bind_shared_case "$v"
done

# What cocoon caches of read-only host layers (tests/guest/vfs_cache.c):
# the program changes a fresh copy of the fixture's cache-tree and asks
# about it, natively and under cocoon, where the copy is MODE: `lower`
# (the overlay's lower layer: changes go to the overlay), `rw-alias`
# (asked through the lower layer, changed through a read-write --bind of
# the same host directory), `ro-alias` (asked through a --ro-bind of it,
# changed through a --bind), `ro-above` and `ro-below` (the same with the
# --ro-bind one directory above, or below, the --bind's). Output and
# status must be the native run's.
vfs_cache_case() {  # VARIANT MODE
	local label="vfs_cache.$1 [$2]" bin=$BUILD/tests/guest/vfs_cache.$1 d ns cs why=() args
	if ! have_cocoon; then verdict "$label" 1 "$COCOON does not exist"; return; fi
	d=$(mktemp -d "${COCOON_TEST_TMPDIR:-/var/tmp}/cocoon-cache.XXXXXX") || return
	chmod 755 "$d"
	cp -a "$FIX/cache-tree" "$d/native"
	cp -a "$FIX/cache-tree" "$d/guest"
	case $2 in
	lower) ns=$(run_native "$CASE/n.out" "$CASE/n.err" "$bin" "$d/native") ;;
	*) ns=$(run_native "$CASE/n.out" "$CASE/n.err" "$bin" "$d/native" "$d/native") ;;
	esac
	local RUNOPTS=("${RUNOPTS[@]}") # seen by run_cocoon
	case $2 in
	lower) args=("$d/guest") ;;
	rw-alias) RUNOPTS+=(--bind "$d/guest:/cocoon-rw"); args=("$d/guest" /cocoon-rw) ;;
	ro-alias) RUNOPTS+=(--ro-bind "$d/guest:/cocoon-ro" --bind "$d/guest:/cocoon-rw")
		args=(/cocoon-ro /cocoon-rw) ;;
	ro-above) RUNOPTS+=(--ro-bind "$d:/cocoon-ro" --bind "$d/guest:/cocoon-rw")
		args=(/cocoon-ro/guest /cocoon-rw) ;;
	ro-below) RUNOPTS+=(--bind "$d:/cocoon-rw" --ro-bind "$d/guest:/cocoon-ro")
		args=(/cocoon-ro /cocoon-rw/guest) ;;
	esac
	cs=$(run_cocoon "$CASE/c.out" "$CASE/c.err" "$bin" "${args[@]}")
	[ "$ns" != "$cs" ] && why+=("exit status: native $(status_text "$ns"), cocoon $(status_text "$cs")")
	cmp -s "$CASE/n.out" "$CASE/c.out" ||
		why+=("stdout differs: $(diff "$CASE/n.out" "$CASE/c.out" | grep '^[<>]' | head -n 6 | tr '\n' ';')")
	grep -q '^NO:' "$CASE/n.out" && why+=("the native run fails its own checks (NO: lines)")
	# The host copy is never changed through the overlay.
	[ "$2" = lower ] && ! diff -r "$FIX/cache-tree" "$d/guest" > /dev/null 2>&1 &&
		why+=("the host copy changed")
	cocoon_crashed "$CASE/c.err" && why+=("cocoon reported a crash on stderr")
	chmod -R u+rwX "$d" 2>/dev/null
	rm -rf "$d"
	verdict "$label" 1 "${why[@]}"
	return 0
}
for v in $VARIANTS; do
	for m in lower rw-alias ro-alias ro-above ro-below; do
		[ -x "$BUILD/tests/guest/vfs_cache.$v" ] && submit "vfs_cache.$v [$m]" vfs_cache_case "$v" "$m"
	done
done

# 200 guest processes, once they have exited, leave nothing behind on the
# host: while the guest (a shell that spawned and reaped them, then
# exec'd sleep) lives on, cocoon has as many host processes and fds and
# about as much memory-file space as when no children were spawned.
leftovers_probe() {  # OUT SCRIPT: run it, measure when it prints "done"
	local out=$1 k i c mem
	(cd / && "${GENV[@]}" timeout -k 5 "$T" "$COCOON" run "${RUNOPTS[@]}" -- /bin/sh -c "$2" > "$out.stdout" 2> "$out.err") &
	k=$!
	for ((i = 0; i < 200; i++)); do
		grep -q '^done' "$out.stdout" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	c=$(pgrep -P "$(pgrep -P "$k" -x timeout || echo "$k")" -x cocoon 2>/dev/null | head -n 1)
	# The exec of sleep takes a spare, which cocoon makes again in the
	# background (late on a busy machine, or under the sanitizers): wait
	# until two looks 0.2 s apart agree (2 s at most, within the sleep).
	local now prev=
	for ((i = 0; i < 10; i++)); do
		[ -n "$c" ] || break
		now="$(pgrep -c -P "$c") $(ls /proc/$c/fd 2>/dev/null | wc -l)"
		[ "$now" = "$prev" ] && break
		prev=$now
		sleep 0.2
	done
	if grep -q '^done' "$out.stdout" 2>/dev/null && [ -n "$c" ]; then
		mem=$(for f in /proc/$c/fd/*; do
			case $(readlink "$f") in *memfd:cocoon-memory*) stat -L -c %b "$f" ;; esac
		done | head -n 1)
		echo "procs $(pgrep -c -P "$c") fds $(ls /proc/$c/fd | wc -l) kib $(( ${mem:-0} / 2 ))" > "$out"
	else
		echo "failed" > "$out"
	fi
	wait "$k"
}
leftovers_case() {
	local label="proc_leftovers: 200 guest processes leave nothing behind" why=() a b
	if ! have_cocoon; then verdict "$label" 1 "$COCOON does not exist"; return; fi
	# The base run looks up the same paths (the VFS keeps a bounded cache
	# of host directory fds), so only what children leave behind differs.
	leftovers_probe "$CASE/base" '/bin/true & wait; echo done; exec sleep 3'
	leftovers_probe "$CASE/many" 'i=0; while [ $i -lt 200 ]; do /bin/true & i=$((i + 1)); done; wait; echo done; exec sleep 3'
	read -r _ pa _ fa _ ma < "$CASE/base"
	read -r _ pb _ fb _ mb < "$CASE/many"
	if [ "$(cat "$CASE/base")" = failed ] || [ "$(cat "$CASE/many")" = failed ]; then
		why+=("a guest did not run: $(head -c 100 "$CASE/many.stdout") $(tail -n 1 "$CASE/many.err")")
	else
		[ "$pa" = "$pb" ] || why+=("host processes under cocoon: $pb after 200 children, $pa without")
		[ "$fa" = "$fb" ] || why+=("cocoon's fds: $fb after 200 children, $fa without")
		[ "$mb" -le $((ma + 32768)) ] || why+=("memory file: $mb KiB after 200 children, $ma KiB without")
	fi
	verdict "$label" 1 "${why[@]}"
	return 0
}
submit "proc_leftovers" leftovers_case

wait
for ((i = NEXT; i < NSUB; i++)); do
	[ -e "$WORK/res/$i" ] || echo "FAIL (runner) case $i left no report" > "$WORK/res/$i"
done
flush
[ "$XFAILED" -gt 0 ] && echo "$XFAILED expected failures (COCOON_PENDING=\"$PENDING\")"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
