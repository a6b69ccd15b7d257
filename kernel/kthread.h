/* Kernel threads for guest threads, kept for reuse.
 *
 * Every guest thread is served by a kernel pthread of its own. Creating
 * one costs a host clone, its stacks (and the fault handler's signal
 * stack), and its exit an munmap in a large multithreaded process (TLB
 * shootdowns): a thread storm pays that per thread. So a kernel thread
 * whose guest thread ended waits a while (KTHREAD_IDLE_SECONDS) for the
 * next one instead of exiting.
 *
 * Locking: the pool's lock is a leaf. */
#ifndef COCOON_KTHREAD_H
#define COCOON_KTHREAD_H

/* Run fn(arg) on an idle kernel thread, or on a new one (detached, with a
 * 1 MiB stack). fn must leave the thread as it found it (`current`
 * NULL). 0, or -EAGAIN when no thread could be made. */
int kthread_run(void *(*fn)(void *), void *arg);

#endif
