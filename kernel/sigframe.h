/* Signal frames on the guest stack: the personality's part of delivery
 * (arch/x86_64/sigframe.c). */
#ifndef COCOON_SIGFRAME_H
#define COCOON_SIGFRAME_H

#include <signal.h>
#include <stdint.h>

struct thread;
struct ksigaction;

/* Build the frame for a handler of sig on t's stack (or alternate stack)
 * and point t's registers at the handler; oldmask is the mask the frame
 * saves (restored by rt_sigreturn). 0, or -EFAULT if the frame cannot be
 * written (the caller then kills with SIGSEGV). */
int sigframe_setup(struct thread *t, int sig, const struct ksigaction *ka, const siginfo_t *info,
		   uint64_t oldmask);

#endif
