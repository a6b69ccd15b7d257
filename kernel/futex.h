/* Futexes, like Linux's kernel/futex/.
 *
 * Waiters hang in a hash of buckets by key: a private futex (or a shared
 * one in private memory) by its address space and address, a shared
 * futex in MAP_SHARED memory by its place in the memory file, so it is
 * the same futex in every process that maps it (mm/futex_key.c). A waiter
 * (struct futex_q) lives on its kernel thread's stack and sleeps on the
 * thread's wake word (kernel/waitq.h), so signals end its sleep like any
 * other. Futex words are read and changed atomically through the
 * exception-table routines (mm/uaccess.h, guest_*32_locked).
 *
 * PI futexes keep Linux's protocol (TID in the word, FUTEX_WAITERS,
 * FUTEX_OWNER_DIED, hand-over to the first waiter on unlock and at the
 * owner's death) without priority inheritance itself: waiters are served
 * in arrival order.
 *
 * Locking: the current mm's lock (read, guest_mem_lock) is taken before
 * a bucket lock, around every access to a futex word made under one;
 * bucket locks are leaves (two at once in address order, for requeue and
 * WAKE_OP). Under them only atomics: a waiter's wake word is bumped, the
 * host wake-up comes after. tasklist_lock and process locks are taken
 * only with no futex lock held (PI owner lookups). Call these functions
 * without locks. */
#ifndef COCOON_FUTEX_H
#define COCOON_FUTEX_H

#include "kernel/kernel.h"

struct thread;

/* A thread ends (Linux's exit_mm_release): its robust list is walked
 * (the locks it holds get FUTEX_OWNER_DIED, a waiter of each is woken),
 * the PI locks it owns go to their first waiters, and if another thread
 * shares its memory, 0 is written at clear_child_tid and one waiter
 * there is woken. Runs on t's kernel thread (current == t), before its
 * memory goes. */
void futex_thread_exit(struct thread *t);
/* The same at execve, before the old image goes (exec_mm_release). */
void futex_exec_release(struct thread *t);

/* FUTEX_WAKE from the kernel: wake up to nr waiters of the futex at
 * uaddr of the current process; the number woken or -errno. */
long futex_wake_kernel(gaddr_t uaddr, bool shared, int nr);

#endif
