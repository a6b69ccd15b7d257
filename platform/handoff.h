/* The hand-off policy: where a kernel thread waits for its guest thread's
 * next trap, and whether either side spins.
 *
 * Two ways, chosen per kernel thread as the guest's trap rate and the
 * machine's idle CPUs allow (docs/ARCHITECTURE.md, "The hand-off"):
 * - local: the kernel thread runs on the guest thread's CPU and both
 *   sleep on the mailbox futex; a hand-off is a switch on one CPU.
 * - remote: the kernel thread runs on another CPU that nothing else of
 *   cocoon uses and spins for the next trap, while the guest thread spins
 *   for the reply; a hand-off is a cache-line transfer, no switch, no
 *   wake-up. Only while traps come close together, only on a CPU no guest
 *   runs on and no other kernel thread spins on, and not again for a
 *   while once the spinner was preempted (the CPU is wanted elsewhere).
 *   Orders for the control thread keep it remote (the stub sleeps on
 *   orders->done meanwhile), and so does a rare wait for a trap that
 *   outlasts its spin: it sleeps there.
 *
 * Every function here is called by the kernel thread serving the
 * mailbox's guest thread; the per-CPU counts are shared. */
#ifndef COCOON_PLATFORM_HANDOFF_H
#define COCOON_PLATFORM_HANDOFF_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "stub/stub_abi.h"

enum handoff_spin { HANDOFF_SPIN_AUTO, HANDOFF_SPIN_OFF };

/* cpus: where cocoon may run; placed: guest threads are bound to one CPU
 * each and report it (rdtscp), which the policy needs. */
void handoff_init(const cpu_set_t *cpus, bool placed, uint64_t tsc_per_us);
/* Any time (before or after handoff_init); AUTO until set. */
void handoff_set_spin(enum handoff_spin spin);

/* Before resuming the guest thread (the reply): how long its stub may
 * spin for the next reply. */
void handoff_before_resume(struct stub_mailbox *mb);

/* The calling kernel thread will sleep before it replies to the guest
 * thread it serves (a blocking call, an order for the control thread on
 * the guest's CPU): that guest thread should stop spinning. */
void handoff_blocks(void);

/* The calling kernel thread waits (sleeping) for a control thread,
 * which runs on its guest's CPU: a remote kernel thread's stub must stop
 * spinning there (as for handoff_blocks). A local one's run of traps
 * close together goes on: the wait is the kernel's, not a guest call
 * that sleeps (ld's brk and mmap calls would otherwise keep it local). */
void handoff_waits_for_control(void);

/* The mailbox of the guest thread the calling kernel thread serves from
 * another CPU (remote), its stub spinning for the replies; NULL when
 * local. Orders for that guest's control thread, which runs on the
 * guest's CPU, are then carried out while the stub yields that CPU
 * (mailbox yield_cpu), and the kernel thread stays remote, spinning. */
struct stub_mailbox *handoff_remote_mailbox(void);

/* Time the calling kernel thread spent spinning for its guests (remote:
 * for traps, and for the control thread in their place), in ns since it
 * started. Waiting, not work: the CPU time charged to a guest thread as
 * system time leaves it out, as a local kernel thread sleeps instead.
 * handoff_note_spin adds such a spin of the platform's, in TSC ticks. */
int64_t handoff_spin_ns(void);
void handoff_note_spin(uint64_t ticks);

/* The mailbox's guest thread is gone (its memory returns to the memory
 * file, to be reused as guest memory): the calling kernel thread must
 * never touch it again. Called wherever a platform thread is released
 * or freed; a no-op on kernel threads that do not serve it. */
void handoff_forget(struct stub_mailbox *mb);

/* Wait until the guest thread traps (mailbox state TRAPPED or beyond) or
 * *dead. guest_cpu: the CPU the guest thread is bound to, -1 if none. */
void handoff_wait_trap(struct stub_mailbox *mb, atomic_bool *dead, int guest_cpu);

/* After a trap: choose where to wait for the next one (may move the
 * calling thread to another CPU). */
void handoff_after_trap(struct stub_mailbox *mb, int guest_cpu);

/* The CPU the calling kernel thread's guest thread last trapped on, -1
 * if none: a fork child starts there when CPUs are equally busy. */
int handoff_guest_cpu(void);

/* Guest threads running guest code per CPU (placement of new processes
 * reads it; the spinner stays off a CPU where a guest runs). */
void handoff_guest_runs(int cpu, int delta);
int handoff_guests_running(int cpu);
/* A CPU other than guest_cpu where no guest thread runs and no kernel
 * thread spins, -1 if none. */
int handoff_free_cpu(int guest_cpu);

#endif
