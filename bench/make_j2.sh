#!/bin/sh
# bench/make_j2.sh PROJECT_DIR: `make -j2` of a small C project (by
# default tests/programs/calc) from scratch in a copy under /tmp
# (bench/run.sh times it natively and under cocoon).
set -e
# Never a copy of / (an empty or missing argument).
[ -n "$1" ] && [ -f "$1/Makefile" ] || { echo "make_j2.sh: no project at '$1'" >&2; exit 2; }
d=$(mktemp -d /tmp/cocoon-bench-make.XXXXXX)
trap 'rm -rf "$d"' EXIT
cp -r "$1/." "$d"
make -s -j2 -C "$d" CC=gcc > /dev/null
