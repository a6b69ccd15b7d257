#!/bin/sh
# bench/gcc_compile.sh SRC.c: one `gcc -O2 -c` of SRC.c into a fresh
# directory under /tmp (bench/run.sh times it natively and under cocoon).
set -e
d=$(mktemp -d /tmp/cocoon-bench-gcc.XXXXXX)
trap 'rm -rf "$d"' EXIT
gcc -O2 -g -Wall -c -o "$d/out.o" "$1"
