/* The kernel's own fault handling: the exception table lookup and the Oops
 * report for faults that are kernel bugs. */
#ifndef COCOON_FAULT_H
#define COCOON_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/* Sort the exception table; install SIGSEGV/SIGBUS/SIGFPE/SIGILL handlers
 * for the kernel process. Call once at start-up before any thread. */
void fault_init(void);
/* Give the calling kernel thread an alternate signal stack (so stack
 * overflows still produce an Oops). Call at the start of each thread. */
void fault_thread_init(void);
/* Look up a faulting instruction address; the fixup address or 0. */
uintptr_t extable_search(uintptr_t insn);
/* Called once before the kernel dies of an Oops, to kill guests. */
extern void (*oops_hook)(void);

#endif
