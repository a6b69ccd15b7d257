/* The hand-off policy (platform/handoff.h): local sleep or remote spin.
 *
 * Why both: on these VMs a switch between two threads on one CPU costs
 * ~1.3 µs each way, so a local round trip is ~2.5 µs on top of the trap;
 * two threads spinning on two CPUs hand over in ~0.2 µs. But a wake-up
 * of a CPU that went idle can cost tens of µs, and a spinner takes a CPU
 * from whatever else wants it. So a kernel thread spins on another CPU
 * only while its guest thread traps often, only on a CPU no guest runs
 * on, and goes back to its guest's CPU before it sleeps (unless such
 * sleeps are rare in its stretch: stay_remote_asleep), so that the next
 * wake-up is the cheap local one again. */
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "platform/handoff.h"
#include "platform/hostload.h"

#define MAX_CPUS 64
#define REMOTE_SPIN_TRAP_US 100 /* the kernel thread spins this long for a trap */
#define REMOTE_FIRST_TRAP_US 300 /* ... for the first trap after going remote */
#define REMOTE_SPIN_REPLY_US 50 /* the stub spins this long for a reply */
#define CLOSE_GAP_US 20         /* a trap this soon after the resume is "close" */
/* Go remote when this many of the last 64 traps were close (and none of
 * those slept): most of them, not all in a row, as a linker's calls
 * come between short computations. */
#define CLOSE_TRAPS 48
/* A remote kernel thread whose spin for a trap timed out sleeps there,
 * still remote, if it served this many traps per such sleep so far. */
#define REMOTE_SLEEP_TRAPS 16
#define PREEMPTED_GAP_US 200    /* a hole this long in a spin: preempted (interrupts and VM exits are shorter) */
#define QUIET_US 20000          /* after a preemption, no remote spin this long */
/* A remote stretch that served fewer traps than this did not pay for
 * its two moves between CPUs: no remote spin for a while, each time
 * twice as long (up to MAX_QUIET_US), until one pays again. */
#define PAYING_TRAPS 256
#define MIN_QUIET_US 10000
#define MAX_QUIET_US 1000000
/* Where guest threads are not bound to one CPU (no rdtscp), the old
 * fixed budgets: both sides spin briefly wherever the host put them. */
#define UNPLACED_SPIN_REPLY_US 50
#define UNPLACED_SPIN_TRAP_US 100

static struct {
	cpu_set_t cpus;
	bool placed;
	atomic_int spin; /* enum handoff_spin (cocoon run --spin) */
	/* In TSC ticks. */
	uint64_t remote_trap, remote_first_trap, remote_reply, close_gap, preempted_gap, quiet, min_quiet, max_quiet;
	uint64_t unplaced_trap, unplaced_reply;
	uint64_t tsc_per_us;
} ho;

static struct {
	atomic_int running; /* guest threads running guest code here */
	atomic_int spinner; /* 1: a kernel thread spins here for a trap */
} __attribute__((aligned(64))) per_cpu[MAX_CPUS];

/* The calling kernel thread's state. */
static __thread struct {
	struct stub_mailbox *mb; /* the guest thread it serves (kernel threads are reused) */
	int bound;          /* the CPU it is bound to, -1: none */
	int guest_cpu;      /* its guest thread's at the last trap, -1: none */
	bool remote;        /* bound away from its guest, spinning */
	uint64_t close;     /* the last 64 traps, newest in bit 0: 1 if close, not slept */
	unsigned seen;      /* traps counted in close (up to 64) */
	bool slept;         /* it slept while serving the last trap */
	unsigned served;    /* traps served in this remote stretch */
	unsigned remote_sleeps; /* ... and sleeps for a trap in it (stay_remote_asleep) */
	uint64_t penalty;   /* the next quiet time after an unpaid stretch */
	uint64_t resumed;   /* TSC at the last resume */
	uint64_t quiet_until;
	uint64_t spun;      /* TSC ticks spent spinning for the guest */
	int64_t spun_ns;    /* ... in ns (handoff_spin_ns: read after every trap) */
} me = { .bound = -1, .guest_cpu = -1 };

static inline uint64_t tsc(void)
{
	return __builtin_ia32_rdtsc();
}

void handoff_init(const cpu_set_t *cpus, bool placed, uint64_t tsc_per_us)
{
	ho.cpus = *cpus;
	ho.placed = placed;
	ho.tsc_per_us = tsc_per_us;
	ho.remote_trap = REMOTE_SPIN_TRAP_US * tsc_per_us;
	ho.remote_first_trap = REMOTE_FIRST_TRAP_US * tsc_per_us;
	ho.remote_reply = REMOTE_SPIN_REPLY_US * tsc_per_us;
	ho.close_gap = CLOSE_GAP_US * tsc_per_us;
	ho.preempted_gap = PREEMPTED_GAP_US * tsc_per_us;
	ho.quiet = QUIET_US * tsc_per_us;
	ho.min_quiet = MIN_QUIET_US * tsc_per_us;
	ho.max_quiet = MAX_QUIET_US * tsc_per_us;
	/* Spinning never pays on one CPU. */
	if (CPU_COUNT(cpus) > 1 && !placed) {
		ho.unplaced_trap = UNPLACED_SPIN_TRAP_US * tsc_per_us;
		ho.unplaced_reply = UNPLACED_SPIN_REPLY_US * tsc_per_us;
	}
}

void handoff_set_spin(enum handoff_spin spin)
{
	atomic_store(&ho.spin, spin);
}

static bool may_go_remote(void)
{
	return ho.placed && CPU_COUNT(&ho.cpus) > 1 && atomic_load_explicit(&ho.spin, memory_order_relaxed) == HANDOFF_SPIN_AUTO;
}

static bool bind_to(int cpu)
{
	if (cpu == me.bound)
		return true;
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &ho.cpus))
		return false;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return false;
	me.bound = cpu;
	return true;
}

int handoff_guest_cpu(void)
{
	return me.guest_cpu;
}

void handoff_guest_runs(int cpu, int delta)
{
	if (cpu >= 0 && cpu < MAX_CPUS)
		atomic_fetch_add_explicit(&per_cpu[cpu].running, delta, memory_order_relaxed);
}

int handoff_guests_running(int cpu)
{
	return cpu >= 0 && cpu < MAX_CPUS ? atomic_load_explicit(&per_cpu[cpu].running, memory_order_relaxed) : 0;
}

static void leave_remote(uint64_t now);

/* A kernel thread that starts serving another guest thread starts
 * afresh (local). */
static void serve(struct stub_mailbox *mb)
{
	if (me.mb == mb)
		return;
	if (me.remote)
		leave_remote(tsc());
	me.mb = mb;
	me.close = 0;
	me.seen = 0;
	me.penalty = 0;
}

void handoff_before_resume(struct stub_mailbox *mb)
{
	serve(mb);
	uint64_t want = !ho.placed ? ho.unplaced_reply : me.remote ? ho.remote_reply : 0;
	if (__atomic_load_n(&mb->spin_tsc, __ATOMIC_RELAXED) != want)
		__atomic_store_n(&mb->spin_tsc, want, __ATOMIC_RELAXED);
	me.resumed = tsc();
}

static void leave_remote(uint64_t now)
{
	me.remote = false;
	me.close = 0;
	me.seen = 0;
	if (me.served >= PAYING_TRAPS) {
		me.penalty = 0;
		return;
	}
	me.penalty = me.penalty ? me.penalty * 2 : ho.min_quiet;
	if (me.penalty > ho.max_quiet)
		me.penalty = ho.max_quiet;
	if (me.quiet_until < now + me.penalty)
		me.quiet_until = now + me.penalty;
}

void handoff_waits_for_control(void)
{
	if (me.remote || !ho.placed) /* (unplaced: its stub may spin where the control thread runs) */
		handoff_blocks();
}

void handoff_note_spin(uint64_t ticks)
{
	me.spun += ticks;
	/* Converted here, when it changes, not at each trap's reading. */
	me.spun_ns = ho.tsc_per_us ? (int64_t)(me.spun * 1000 / ho.tsc_per_us) : 0;
}

int64_t handoff_spin_ns(void)
{
	return me.spun_ns;
}

struct stub_mailbox *handoff_remote_mailbox(void)
{
	return me.remote ? me.mb : NULL;
}

void handoff_forget(struct stub_mailbox *mb)
{
	if (me.mb != mb)
		return;
	if (me.remote)
		leave_remote(tsc());
	me.mb = NULL;
}

void handoff_blocks(void)
{
	struct stub_mailbox *mb = me.mb;
	/* A thread whose calls sleep hands over to other threads (a futex
	 * or pipe ping-pong): on one CPU that is a cheap switch; from a
	 * remote CPU each is a wake-up across CPUs. */
	me.slept = true;
	if (me.remote)
		leave_remote(tsc());
	if (mb && __atomic_load_n(&mb->spin_tsc, __ATOMIC_RELAXED))
		__atomic_store_n(&mb->spin_tsc, 0, __ATOMIC_RELAXED);
}

enum spin_result {
	SPIN_CAME,      /* the trap came (or the process died) */
	SPIN_TIMED_OUT, /* the guest computes: nothing else wants our CPU */
	SPIN_GIVE_UP,   /* preempted, or a CPU is wanted */
};

/* Spin on our (remote) CPU for the trap. */
static enum spin_result spin_remote(struct stub_mailbox *mb, atomic_bool *dead, int guest_cpu)
{
	int cpu = me.bound;
	int free = 0;
	if (cpu < 0 || cpu >= MAX_CPUS ||
	    !atomic_compare_exchange_strong(&per_cpu[cpu].spinner, &free, 1))
		return SPIN_GIVE_UP;
	/* The first reply after going remote woke a stub that slept (it
	 * read spin_tsc 0): a wake-up across CPUs, slow when the guest's CPU
	 * went idle. */
	uint64_t start = tsc(), last = start, deadline = last + (me.served ? ho.remote_trap : ho.remote_first_trap);
	enum spin_result result = SPIN_GIVE_UP;
	for (;;) {
		if (__atomic_load_n(&mb->state, __ATOMIC_ACQUIRE) >= MBOX_TRAPPED || atomic_load(dead)) {
			result = SPIN_CAME;
			break;
		}
		uint64_t now = tsc();
		if (now - last > ho.preempted_gap) {
			me.quiet_until = now + ho.quiet;
			break;
		}
		if (atomic_load_explicit(&per_cpu[cpu].running, memory_order_relaxed) > 0)
			break;
		if (now > deadline) {
			result = SPIN_TIMED_OUT;
			break;
		}
		/* Another guest thread shares our guest's CPU: see
		 * handoff_after_trap. */
		if (handoff_guests_running(guest_cpu) > 1) {
			me.quiet_until = now + ho.quiet;
			break;
		}
		last = now;
		__builtin_ia32_pause();
	}
	atomic_store(&per_cpu[cpu].spinner, 0);
	handoff_note_spin(tsc() - start);
	return result;
}

/* After a spin timed out: whether to sleep here, still remote, for the
 * next trap. The trap's wake-up then crosses CPUs (~25 µs here, where a
 * local round trip costs ~9 µs and a remote one ~3 µs), so only while
 * such waits are rare in this stretch: a linker or a shell between
 * bursts of calls, not a program that computes between calls. */
static bool stay_remote_asleep(void)
{
	if (me.served < REMOTE_SLEEP_TRAPS * me.remote_sleeps)
		return false;
	me.remote_sleeps++;
	return true;
}

void handoff_wait_trap(struct stub_mailbox *mb, atomic_bool *dead, int guest_cpu)
{
	uint32_t *state = &mb->state;
	uint64_t spin = ho.placed ? 0 : ho.unplaced_trap;
	if (me.remote) {
		enum spin_result r = spin_remote(mb, dead, guest_cpu);
		if (r == SPIN_CAME)
			return;
		if (r == SPIN_GIVE_UP || !stay_remote_asleep()) {
			/* Back to local before sleeping: the stub must not spin
			 * on the CPU we are about to share with it (it reads
			 * spin_tsc after posting its trap, so after our KSLEEP
			 * below), and the wake-up it sends us must be the cheap
			 * local one. */
			leave_remote(tsc());
			__atomic_store_n(&mb->spin_tsc, 0, __ATOMIC_SEQ_CST);
			uint32_t s = MBOX_RUNNING;
			if (!__atomic_compare_exchange_n(state, &s, MBOX_RUNNING_KSLEEP, false, __ATOMIC_SEQ_CST,
							 __ATOMIC_ACQUIRE))
				return; /* it trapped meanwhile (or the guest scribbled) */
			bind_to(guest_cpu);
		} /* else sleep here, still remote: the stub spins on its own CPU */
	} else if (ho.placed && guest_cpu >= 0 && me.bound != guest_cpu) {
		/* Left remote while the kernel slept (handoff_blocks): the
		 * wake-up the stub sends must be the cheap local one. */
		bind_to(guest_cpu);
	}
	uint64_t deadline = tsc() + spin;
	for (;;) {
		uint32_t s = __atomic_load_n(state, __ATOMIC_ACQUIRE);
		/* TRAPPED, TRAPPED_GSLEEP, DEAD, or a value only a guest could
		 * have written: the caller sorts them out, we must not spin. */
		if (s >= MBOX_TRAPPED || atomic_load(dead))
			return;
		if (tsc() < deadline) {
			__builtin_ia32_pause();
			continue;
		}
		if (s == MBOX_RUNNING && !__atomic_compare_exchange_n(state, &s, MBOX_RUNNING_KSLEEP, false,
								     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		syscall(SYS_futex, state, FUTEX_WAIT, MBOX_RUNNING_KSLEEP, NULL, NULL, 0);
	}
}

/* Whether nothing but the caller and its guest thread is runnable on the
 * host (the guest thread may not be asleep yet: its wake-up of ours just
 * preempted it): our own counts cannot see other programs (another
 * sandbox, a compiler), whose CPU a spinner would take. The host's count
 * of running tasks, read at each attempt to go remote (rare: they follow
 * 64 close traps, and a refusal keeps us local for QUIET_US). */
static bool host_idle_but_us(void)
{
	int running = host_running_tasks();
	return running < 0 || running <= 2; /* cannot tell: our own counts decide */
}

int handoff_free_cpu(int guest_cpu)
{
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		if (cpu != guest_cpu && CPU_ISSET(cpu, &ho.cpus) &&
		    atomic_load_explicit(&per_cpu[cpu].running, memory_order_relaxed) == 0 &&
		    atomic_load_explicit(&per_cpu[cpu].spinner, memory_order_relaxed) == 0)
			return cpu;
	return -1;
}

void handoff_after_trap(struct stub_mailbox *mb, int guest_cpu)
{
	if (!ho.placed)
		return;
	serve(mb);
	uint64_t now = tsc();
	me.close = me.close << 1 | (now - me.resumed < ho.close_gap && !me.slept);
	if (me.seen < 64)
		me.seen++;
	me.slept = false;
	/* The CPU the stub saw the trap on (a hint: the guest may write
	 * it; a wrong one only costs the guest speed). */
	int trap_cpu = (int)__atomic_load_n(&mb->cpu, __ATOMIC_RELAXED);
	me.guest_cpu = trap_cpu;
	if (me.remote) {
		/* Another guest thread runs on our guest's CPU: it shares that
		 * CPU with our guest (and with its stub's spin for our replies)
		 * while ours idles here. */
		if (handoff_guests_running(guest_cpu) > 0) {
			leave_remote(now);
			me.quiet_until = now + ho.quiet;
		} else if (guest_cpu >= 0 && trap_cpu != me.bound && may_go_remote()) {
			me.served++;
			return;
		} else {
			leave_remote(now); /* the guest came onto our CPU, or spin was turned off */
		}
	} else if (guest_cpu >= 0 && trap_cpu == guest_cpu && me.seen == 64 &&
		   __builtin_popcountll(me.close) >= CLOSE_TRAPS && now >= me.quiet_until &&
		   may_go_remote() && handoff_guests_running(guest_cpu) == 0) {
		/* (Nothing else of cocoon's wants the guest's CPU either: its
		 * thread will spin there for our replies.) */
		int cpu = handoff_free_cpu(guest_cpu);
		if (cpu >= 0 && !host_idle_but_us()) {
			me.quiet_until = now + ho.quiet;
			cpu = -1;
		}
		if (cpu >= 0 && bind_to(cpu)) {
			me.remote = true;
			me.served = 0;
			me.remote_sleeps = 0;
			return;
		}
	}
	/* Local: follow the guest thread to the CPU it trapped on. */
	bind_to(trap_cpu);
}
