#!/bin/sh
# REQUIRES: /usr/bin/tar /usr/bin/gzip
# tar create and extract inside /tmp (in the sandbox under cocoon).
set -e
d=$(mktemp -d /tmp/cocoon-tar.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
mkdir -p src/sub src/empty
printf 'hello\n' > src/a.txt
seq 1 20000 > src/sub/numbers
ln -s a.txt src/link
chmod 640 src/a.txt
tar cf plain.tar src
tar czf packed.tgz src
tar tf plain.tar | sort
rm -rf src
tar xf plain.tar
cat src/a.txt
wc -l < src/sub/numbers
readlink src/link
stat -c '%a %n' src/a.txt src/sub
mkdir out
tar xzf packed.tgz -C out
diff -r src out/src && echo "gzip round trip identical"
tar cf - src | (cd out && rm -rf src && tar xf -) && echo "through a pipe"
cmp src/sub/numbers out/src/sub/numbers && echo "numbers identical"
