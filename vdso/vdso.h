/* What the vDSO's code shares. It is compiled freestanding into an image
 * that runs in guest processes: no libc, no relocations, no writable data.
 *
 * Each exported function has several implementations, one per way of
 * reading the CPU (vdso_impl_NAME_VARIANT, local symbols). The exported
 * names start out pointing at the system-call one; at start-up the kernel
 * points them at the one that suits the CPU by patching st_value in its
 * copy of the image (kernel/vdso.c), using the offsets that
 * vdso/gen-syms.sh extracts at build time. */
#ifndef COCOON_VDSO_VDSO_H
#define COCOON_VDSO_VDSO_H

#include <stdint.h>
#include "vdso/vvar.h"

/* x86-64 system-call numbers the fallbacks use. */
#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define NR_clock_getres 229
#define NR_getcpu 309

/* The kernel's layouts (the vDSO is called with them, not libc's). */
struct vdso_timespec { int64_t tv_sec, tv_nsec; };
struct vdso_timeval { int64_t tv_sec, tv_usec; };
struct vdso_timezone { int32_t tz_minuteswest, tz_dsttime; };

/* The page the kernel publishes, one page before the image (its address is
 * PC-relative, fixed at link time: no relocation). */
extern const volatile struct vvar_page vvar_page __attribute__((visibility("hidden")));

#define vdso_barrier() __asm__ volatile("" ::: "memory")

/* A real system call, which traps into cocoon's kernel. */
static inline __attribute__((always_inline)) long vdso_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Export impl as __vdso_NAME (global) and NAME (weak), like Linux. */
#define VDSO_EXPORT(name, impl) \
	extern __typeof__(impl) __vdso_##name __attribute__((alias(#impl), visibility("default"))); \
	extern __typeof__(impl) name __attribute__((weak, alias(#impl), visibility("default")))

#endif
