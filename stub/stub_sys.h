/* Raw system calls and atomics for the stub (no libc in guest processes).
 * Everything is always_inline so no code lands outside the stub section. */
#ifndef COCOON_STUB_SYS_H
#define COCOON_STUB_SYS_H

#include <stdint.h>

/* References between stub objects must be PC-relative, never via a GOT. */
#pragma GCC visibility push(hidden)

#define STUB_FN __attribute__((section("cocoon_stub"), used))
#define STUB_INLINE static inline __attribute__((always_inline))

STUB_INLINE long stub_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define stub_syscall(nr, a, b, c, d, e, f) \
	stub_syscall6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

STUB_INLINE uint32_t stub_load(const volatile uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
STUB_INLINE uint32_t stub_xchg(volatile uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
STUB_INLINE int stub_cas(volatile uint32_t *p, uint32_t old, uint32_t v)
{
	return __atomic_compare_exchange_n(p, &old, v, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

#endif
