#!/bin/sh
# REQUIRES: /usr/bin/make /usr/bin/cc
# make on a small Makefile written to /tmp: rules, dependencies, a C
# program compiled and run, a rebuild that does nothing, a failing rule.
set -e
d=$(mktemp -d /tmp/cocoon-make.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
cat > Makefile <<'MK'
all: hello out.txt
hello: hello.c
	cc -O0 -o hello hello.c
out.txt: hello in.txt
	./hello < in.txt > out.txt
in.txt:
	seq 1 5 > in.txt
fail:
	false
.PHONY: all fail
MK
cat > hello.c <<'C'
#include <stdio.h>
int main(void) { int n, s = 0; while (scanf("%d", &n) == 1) s += n; printf("sum %d\n", s); return 0; }
C
make
cat out.txt
make
make -j2 -B all > /dev/null && echo "rebuilt with -j2"
set +e
make fail 2>/dev/null; echo "make fail: status $?"
make -n all | head -n 3
