/* The kernel's own fault handling: the exception table lookup and the Oops
 * report for faults that are kernel bugs. */
#ifndef COCOON_FAULT_H
#define COCOON_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An exception-table entry as mm/copy_x86_64.S emits it into the section
 * cocoon_extable: offsets relative to each field's own address. */
struct extable_entry {
	int32_t insn, fixup;
};
/* The table after fault_init(): absolute addresses, sorted by insn. */
struct extable_abs {
	uintptr_t insn, fixup;
};

/* Sort the exception table; install SIGSEGV/SIGBUS/SIGFPE/SIGILL handlers
 * for the kernel process. Call once at start-up before any thread. Kernel
 * threads must never block those signals (a fault would then kill the
 * process without a fixup or a report). */
void fault_init(void);
/* Give the calling kernel thread an alternate signal stack (so stack
 * overflows still produce an Oops). Call at the start of each thread;
 * fault_init() does it for its caller. Keeps a stack already installed
 * (e.g. by ASan); frees its own when the thread exits. */
void fault_thread_init(void);
/* Look up a faulting instruction address; the fixup address or 0. */
uintptr_t extable_search(uintptr_t insn);
/* The sorted table (for tests): its length, *tab set to its first entry. */
size_t extable_sorted(const struct extable_abs **tab);
/* An Oops without a fault (kpanic): "cocoon: Oops: msg, in thread N", a
 * backtrace, oops_hook, then _exit(70). Async-signal-safe. */
_Noreturn void oops(const char *msg);
/* Called once before the kernel dies of an Oops, to kill guests. It runs
 * in a signal handler: async-signal-safe calls only. */
extern void (*oops_hook)(void);

#endif
