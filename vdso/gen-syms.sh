#!/bin/sh
# vdso/gen-syms.sh IMAGE.dbg -- print a C header with the offset and size
# of each implementation in the vDSO image (its vdso_impl_* symbols, which
# the stripped image no longer names), for the kernel to point the
# exported names at the right ones (kernel/vdso.c).
set -e
echo "/* Generated from $1 by vdso/gen-syms.sh; do not edit. */"
nm -S --defined-only "$1" | awk '$4 ~ /^vdso_impl_/ {
	name = substr($4, 11)
	printf "#define VDSO_IMPL_%s 0x%sUL\n#define VDSO_IMPL_SIZE_%s 0x%sUL\n", name, $1, name, $2
	n++
} END { if (n == 0) exit 1 }'
