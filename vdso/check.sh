#!/bin/sh
# vdso/check.sh IMAGE -- fail unless the vDSO image is what guests and
# their libcs need: an x86-64 ELF shared object, one read+execute PT_LOAD
# and no writable one, PT_DYNAMIC and PT_GNU_EH_FRAME, hash tables of both
# styles, versioned symbols (Linux's LINUX_2.6 set), no relocations, no
# undefined symbols, no dependencies.
img=$1
fail() { echo "vdso/check.sh: $img: $*" >&2; status=1; }
status=0

readelf -hW "$img" | grep -q 'Type:[[:space:]]*DYN' || fail "not a shared object"
readelf -hW "$img" | grep -q 'Machine:[[:space:]]*Advanced Micro Devices X86-64' || fail "not x86-64"

ph=$(readelf -lW "$img")
n=$(printf '%s\n' "$ph" | grep -c '^ *LOAD ')
[ "$n" = 1 ] || fail "$n PT_LOAD segments, want 1"
printf '%s\n' "$ph" | grep '^ *LOAD ' | grep -q ' R E ' || fail "the PT_LOAD is not read+execute"
printf '%s\n' "$ph" | awk '$1 == "LOAD" && $7 ~ /W/ { exit 1 }' || fail "a writable PT_LOAD"
printf '%s\n' "$ph" | grep -q '^ *LOAD  *0x0*0 0x0*0 ' || fail "the PT_LOAD does not map the file from offset 0 at address 0"
for t in DYNAMIC GNU_EH_FRAME; do
	printf '%s\n' "$ph" | grep -q "^ *$t " || fail "no PT_$t"
done

dyn=$(readelf -dW "$img")
for t in HASH GNU_HASH SYMTAB STRTAB VERSYM VERDEF SONAME; do
	printf '%s\n' "$dyn" | grep -q "($t)" || fail "no DT_$t"
done
for t in NEEDED TEXTREL RELA REL JMPREL RELR; do
	printf '%s\n' "$dyn" | grep -q "($t)" && fail "has DT_$t"
done
readelf -rW "$img" | grep -q 'There are no relocations' || fail "has relocations"

# Writable sections other than .dynamic (which ld marks WA but which lives
# in the read-only segment) must be empty.
readelf -SW "$img" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1 != ".dynamic" && $7 ~ /W/ && $7 ~ /A/ && $5 !~ /^0+$/ { print $1; bad = 1 } END { exit bad }' >/dev/null ||
	fail "writable data in the image"

syms=$(readelf --dyn-syms -W "$img")
printf '%s\n' "$syms" | awk 'NR > 3 && $7 == "UND" && $8 != "" { exit 1 }' || fail "undefined symbols"
for s in clock_gettime gettimeofday time clock_getres getcpu; do
	printf '%s\n' "$syms" | grep -Eq "FUNC +WEAK +DEFAULT +[0-9]+ $s@@LINUX_2\.6\$" || fail "no weak $s@@LINUX_2.6"
	printf '%s\n' "$syms" | grep -Eq "FUNC +GLOBAL +DEFAULT +[0-9]+ __vdso_$s@@LINUX_2\.6\$" || fail "no __vdso_$s@@LINUX_2.6"
done
for s in __vdso_get_syscall_map __vdso_rt_sigreturn; do
	printf '%s\n' "$syms" | grep -Eq "FUNC +GLOBAL +DEFAULT +[0-9]+ $s@@COCOON_1\$" || fail "no $s@@COCOON_1"
done
exit $status
