#!/bin/sh
# REQUIRES: /usr/bin/make /usr/bin/gcc
# make -j2 building a small C project (tests/programs/calc: six .c files)
# with gcc, two compilers at a time; the program it built is run; an
# incremental rebuild after a change; a parallel build with a broken file.
set -e
src=$(cd "$(dirname "$0")/../programs/calc" && pwd)
d=$(mktemp -d /tmp/cocoon-make-j2.XXXXXX)
trap 'rm -rf "$d"' EXIT
cp -r "$src/." "$d"
cd "$d"
export CC=gcc
make -j2 -s
echo "built: $(ls *.o | tr '\n' ' ')calc $(test -x calc && echo executable)"
make -s check
echo "fib.out:"
cat fib.out
echo "primes.out: $(wc -l < primes.out) lines, last $(tail -n 1 primes.out)"
./calc < fib.calc | tail -n 1
make -j2 -q && echo "up to date"
sleep 1 # a newer mtime than the objects, on any file system
touch lexer.c
make -j2 -q || echo "lexer.c changed: not up to date"
make -j2 2>&1
echo 'int broken(void) { return }' > broken.c
set +e
rm -f util.o
make -j2 -s OBJS="broken.o util.o" calc 2> /dev/null
echo "broken build: status $?"
rm -f util.o
make -j2 -k -s OBJS="broken.o util.o" calc 2> /dev/null
echo "broken build with -k: status $?, util.o $(test -e util.o && echo built), calc $(test broken.o -nt calc 2>/dev/null && echo relinked || echo kept)"
