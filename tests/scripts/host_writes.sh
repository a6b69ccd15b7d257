#!/bin/sh
# Changes files under the directory $1 (create, write, append, rename,
# delete, mkdir, rmdir, chmod, symlink) and prints what it sees after. The
# runner runs it natively on one copy and under cocoon on another, and
# checks that cocoon's copy is unchanged on the host afterwards.
cd "$1" || exit 2
echo new > created
echo more >> canary
mv renamed-from renamed-to
rm deleted
mkdir newdir && echo x > newdir/f
rmdir emptydir
chmod 600 modebits
ln -s canary newlink
ls -A | sort
cat canary
stat -c '%a %n' modebits
cat newlink
[ -e deleted ] && echo "deleted still there" || echo "deleted is gone"
