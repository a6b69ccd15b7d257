/* The trap platform: guest host-processes under seccomp RET_TRAP, with the
 * stub's signal handler handing each trap to the kernel thread through a
 * mailbox in the memory file (see stub/ and docs/ARCHITECTURE.md). */
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <cpuid.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "platform/platform.h"
#include "platform/handoff.h"
#include "platform/hostcpu.h"
#include "platform/seccomp_filter.h"
#include "mm/memfile.h"
#include "stub/stub_abi.h"
#include "kernel/fault.h"
#include "kernel/ktime.h"

_Static_assert(offsetof(struct stub_orders, seq) == ORDERS_SEQ, "orders layout");
_Static_assert(offsetof(struct stub_orders, count) == ORDERS_COUNT, "orders layout");
_Static_assert(offsetof(struct stub_orders, memfd) == ORDERS_MEMFD, "orders layout");
_Static_assert(offsetof(struct stub_orders, kernel_pid) == ORDERS_KERNEL_PID, "orders layout");
_Static_assert(offsetof(struct stub_orders, done) == ORDERS_DONE, "orders layout");
_Static_assert(offsetof(struct stub_orders, done_off) == ORDERS_DONE_OFF, "orders layout");
_Static_assert(offsetof(struct stub_orders, cpu_mask) == ORDERS_CPU_MASK, "orders layout");
_Static_assert(offsetof(struct stub_orders, seq_failed) == ORDERS_SEQ_FAILED, "orders layout");
_Static_assert(offsetof(struct stub_orders, guest_prog) == ORDERS_GUEST_PROG, "orders layout");
_Static_assert(offsetof(struct stub_orders, ops) == ORDERS_OPS, "orders layout");
_Static_assert(offsetof(struct stub_orders, file_paths) == ORDERS_FILE_PATHS, "orders layout");
_Static_assert(sizeof(struct stub_orders) <= STUB_ORDERS_SIZE, "orders page");
_Static_assert(STUB_FILE_PATH_LEN == 32, "control.S scales path indexes by 32");
_Static_assert(offsetof(struct stub_mailbox, host_tid) == MBOX_HOST_TID, "mailbox layout");
_Static_assert(offsetof(struct stub_orders, ctrl_spin_tsc) == ORDERS_CTRL_SPIN, "orders layout");
_Static_assert(sizeof(struct stub_order) == ORDER_SIZE, "order size");
_Static_assert(sizeof(struct stub_orders) <= STUB_ORDERS_SIZE, "orders size");
_Static_assert(offsetof(struct stub_ack, fork_pid) == ACK_FORK_PID, "ack layout");
_Static_assert(offsetof(struct stub_ack, ctrl_sleeping) == ACK_CTRL_SLEEPING, "ack layout");
_Static_assert(offsetof(struct stub_ack, first_error) == ACK_FIRST_ERROR, "ack layout");
_Static_assert(offsetof(struct stub_thread_const, empty_mask) == CONST_EMPTY_MASK, "const layout");
_Static_assert(offsetof(struct stub_thread_const, cpu_mask) == CONST_CPU_MASK, "const layout");
_Static_assert(offsetof(struct stub_thread_const, pid) == CONST_PID, "const layout");
_Static_assert(offsetof(struct stub_thread_const, tid) == CONST_TID, "const layout");
_Static_assert(sizeof(struct stub_mailbox) <= 0x1000, "mailbox size");

extern char __start_cocoon_stub[], __stop_cocoon_stub[];
void stub_setup(void);
extern char stub_thread_birth[];
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

#define STUB_ADDR(sym) (STUB_BASE + (uint64_t)((char *)(sym) - __start_cocoon_stub))

struct platform_as {
	pid_t pid;
	int pidfd;                   /* signals go here: the pid may be reused */
	uint64_t cpu_mask;           /* its threads' CPU (0: any) */
	uint32_t seq, count;         /* ours: the shared page's copies are not trusted */
	uint64_t proc_off;           /* memory-file offset of the per-process pages */
	struct stub_orders *orders;  /* kernel view */
	struct stub_ack *ack;
	pthread_mutex_t orders_lock;
	atomic_bool dead;
	int host_status;
	struct platform_as *next;    /* all live processes, for the reaper */
	unsigned nthreads;
	struct platform_thread *parked; /* released threads kept for reuse */
	struct platform_thread *threads[STUB_MAX_THREADS];
	uint32_t nclones;            /* ORDER_CLONE_THREADs queued (orders_lock) */
	uint32_t npaths;             /* file_paths used by this batch (orders_lock) */
	int path_fds[STUB_MAX_FILE_PATHS]; /* the kernel fd each names */
};

struct platform_thread {
	struct platform_as *as;
	unsigned slot;
	uint64_t area_off;
	char *area;                  /* kernel view of the thread area */
	struct stub_mailbox *mb;
	bool mb_ready;               /* mb is set up (for wake_all) */
	bool born;
	int host_tid;                /* the host thread (read at birth), 0 if unknown */
	ucontext_t *uc;              /* kernel view of the trapped frame */
	struct platform_thread *next_parked;
	enum { FPU_KEEP, FPU_RESET, FPU_COPY } fpu_next; /* at the next resume */
	void *fpu_copy;              /* FPU_COPY: the state to load */
	size_t fpu_len;
	struct hostcpu *cpu;         /* its host CPU time (platform/hostcpu.h) */
	bool cpu_used;               /* ran guest code since its CPU time's zero */
	unsigned crowded;            /* traps in a row that found another guest on its CPU */
	unsigned crowded_skip;       /* crowded traps not to look at (its process has other threads) */
	bool guest_bound;            /* the guest chose its CPUs (sched_setaffinity) */
};

static struct {
	uint64_t code_off;
	uint32_t code_len;
	/* Spin budgets in TSC ticks (0 on one CPU: spinning never pays);
	 * the guest/kernel hand-off's are platform/handoff.c's. */
	uint64_t spin_ack;      /* kernel waiting for the control thread */
	uint64_t spin_ack_remote; /* ... from another CPU than the guest's (handoff_remote_mailbox) */
	uint64_t spin_ctrl;     /* control thread waiting for orders */
	bool fsgsbase;
	bool rdtscp;            /* stubs report the CPU of each trap */
	cpu_set_t cpus;         /* where cocoon may run */
	/* The guest threads' seccomp program, built once. */
	struct stub_sock_filter guest_filter[STUB_MAX_FILTER];
	uint16_t guest_filter_len;
	pthread_mutex_t lock;   /* the list below and slot allocation */
	pthread_cond_t changed; /* a process was created or died */
	struct platform_as *list;
	/* Host processes being created whose pid is not in the list yet:
	 * the reaper leaves unknown dead children alone meanwhile. */
	unsigned creating;
} plat = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static long futex(void *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void *reaper(void *arg);
static void *spawner_main(void *arg);

#ifndef SPIN_ACK_US
#define SPIN_ACK_US 20
#endif
#ifndef SPIN_ACK_REMOTE_US
#define SPIN_ACK_REMOTE_US 300
#endif
#ifndef SPIN_CTRL_US
#define SPIN_CTRL_US 0
#endif

/* The clock's calibration (kernel/ktime.c), else a 2 ms measurement. */
static uint64_t tsc_per_us(void)
{
	uint64_t calibrated = ktime_tsc_per_us();
	if (calibrated)
		return calibrated;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = __builtin_ia32_rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 2000000);
	uint64_t t1 = __builtin_ia32_rdtsc();
	long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
	return MAX(1, (t1 - t0) * 1000 / (uint64_t)ns);
}
static void kill_all_guests(void);

int64_t platform_spin_ns(void)
{
	return handoff_spin_ns();
}

void platform_kernel_sleeps(void)
{
	handoff_blocks();
}

void platform_allow_spin(bool allow)
{
	handoff_set_spin(allow ? HANDOFF_SPIN_AUTO : HANDOFF_SPIN_OFF);
}

int platform_init(void)
{
	size_t len = (size_t)(__stop_cocoon_stub - __start_cocoon_stub);
	if (len > STUB_CODE_MAX)
		kpanic("stub code is %zu bytes, more than %lu", len, STUB_CODE_MAX);
	int64_t off = memfile_alloc(STUB_CODE_MAX);
	if (off < 0)
		return (int)off;
	memcpy(memfile_ptr((uint64_t)off), __start_cocoon_stub, len);
	plat.code_off = (uint64_t)off;
	plat.code_len = (uint32_t)len;
	plat.fsgsbase = getauxval(AT_HWCAP2) & 2;
	unsigned a, b, c, d;
	plat.rdtscp = __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27));
	if (sched_getaffinity(0, sizeof(plat.cpus), &plat.cpus) < 0)
		plat.rdtscp = false;
	plat.guest_filter_len = (uint16_t)seccomp_filter_build(FILTER_GUEST, plat.code_len, plat.guest_filter);
	/* Spinning pays only while another CPU can run the other side, and
	 * only briefly: the figures are from bench/ on 2-CPU machines. Not
	 * at all when the kernel thread and the control thread share one CPU
	 * (below: whenever the stub can report its CPU): the spinner would
	 * only keep the other side from running. */
	uint64_t per_us = tsc_per_us();
	handoff_init(&plat.cpus, plat.rdtscp, per_us);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1 && !plat.rdtscp) {
		plat.spin_ack = SPIN_ACK_US * per_us;
		plat.spin_ctrl = SPIN_CTRL_US * per_us;
	}
	plat.spin_ack_remote = SPIN_ACK_REMOTE_US * per_us; /* (remote needs rdtscp: handoff) */
	oops_hook = kill_all_guests;
	pthread_t t;
	if (pthread_create(&t, NULL, reaper, NULL))
		return -EAGAIN;
	pthread_detach(t);
	if (pthread_create(&t, NULL, spawner_main, NULL))
		return -EAGAIN;
	pthread_detach(t);
	return 0;
}

/* ---- the host process ------------------------------------------------ */

static inline long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

extern __attribute__((weak)) const ptrdiff_t __rseq_offset;
extern __attribute__((weak)) const unsigned int __rseq_size;

/* Runs in the freshly forked child, still inside a copy of cocoon: only raw
 * system calls, no libc, no locks. Maps the stub and jumps into it; the
 * stub then drops everything else. */
__attribute__((noreturn, noinline, no_sanitize("address", "undefined")))
static void child_start(int memfd, uint64_t code_off, uint64_t proc_off, void *rseq_area, uint32_t rseq_len)
{
	/* The memory file becomes fd 0 (via a high number, whatever fd it
	 * had); the stub closes the rest. */
	long a = raw6(SYS_fcntl, memfd, F_DUPFD, 10, 0, 0, 0);
	if (a < 0 || raw6(SYS_dup2, a, STUB_MEMFD, 0, 0, 0, 0) < 0)
		raw6(SYS_exit_group, 3, 0, 0, 0, 0, 0);
	memfd = STUB_MEMFD;
	/* The host would write the inherited rseq area on every preemption,
	 * and it is about to disappear. */
	if (rseq_area) {
		raw6(SYS_rseq, (long)rseq_area, 32, 1 /* UNREGISTER */, 0x53053053, 0, 0);
		raw6(SYS_rseq, (long)rseq_area, rseq_len, 1, 0x53053053, 0, 0);
	}
	if (raw6(SYS_mmap, STUB_BASE, STUB_CODE_MAX, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, memfd,
		 (long)code_off) < 0 ||
	    raw6(SYS_mmap, STUB_ORDERS, STUB_ORDERS_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, memfd,
		 (long)proc_off) < 0 ||
	    raw6(SYS_mmap, STUB_ACK, STUB_PROC_SIZE - STUB_ORDERS_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, memfd, (long)(proc_off + STUB_ORDERS_SIZE)) < 0)
		raw6(SYS_exit_group, 3, 0, 0, 0, 0, 0);
	__asm__ volatile("mov %0, %%rsp\n\tjmp *%1" ::"r"(STUB_SETUP_STACK + 0x4000 - 8),
			 "r"(STUB_ADDR(stub_setup)));
	__builtin_unreachable();
}

/* The zygote is forked by one long-lived thread: its PDEATHSIG, and that
 * of its forks (CLONE_PARENT makes them this thread's children too),
 * fires when the thread that forked it ends, which must be cocoon's end,
 * not the end of some guest's kernel thread. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool busy, requested, done;
	int pidfd;
	uint64_t proc_off;
	long pid;
	void *rseq_area;
	uint32_t rseq_len;
} spawner = { .lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *spawner_main(void *arg)
{
	if (&__rseq_size && __rseq_size) {
		spawner.rseq_area = (char *)__builtin_thread_pointer() + __rseq_offset;
		spawner.rseq_len = __rseq_size;
	}
	pthread_mutex_lock(&spawner.lock);
	for (;;) {
		while (!spawner.requested)
			pthread_cond_wait(&spawner.cv, &spawner.lock);
		spawner.requested = false;
		/* CLONE_PIDFD: a handle that can never name a recycled pid. */
		spawner.pidfd = -1;
		spawner.pid = raw6(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (long)&spawner.pidfd, 0, 0, 0);
		if (spawner.pid == 0)
			child_start(memfile.fd, plat.code_off, spawner.proc_off, spawner.rseq_area,
				    spawner.rseq_len);
		spawner.done = true;
		pthread_cond_broadcast(&spawner.cv);
	}
	return NULL;
}

/* Fork cocoon through the spawner: the child's pid or -errno. */
static long spawn(uint64_t proc_off, int *pidfd)
{
	pthread_mutex_lock(&spawner.lock);
	while (spawner.busy)
		pthread_cond_wait(&spawner.cv, &spawner.lock);
	spawner.busy = true;
	spawner.proc_off = proc_off;
	spawner.done = false;
	spawner.requested = true;
	pthread_cond_broadcast(&spawner.cv);
	while (!spawner.done)
		pthread_cond_wait(&spawner.cv, &spawner.lock);
	long pid = spawner.pid;
	*pidfd = spawner.pidfd;
	spawner.busy = false;
	pthread_cond_broadcast(&spawner.cv);
	pthread_mutex_unlock(&spawner.lock);
	return pid;
}

/* A host process's bookkeeping and per-process pages, not started. */
static struct platform_as *as_alloc(void)
{
	struct platform_as *as = calloc(1, sizeof(*as));
	if (!as)
		return NULL;
	/* Cleared here: the guest can read its orders and ack pages. */
	int64_t off = memfile_alloc_dirty(STUB_PROC_SIZE);
	if (off < 0) {
		free(as);
		return NULL;
	}
	memset(memfile_ptr((uint64_t)off), 0, STUB_PROC_SIZE);
	as->proc_off = (uint64_t)off;
	as->orders = memfile_ptr(as->proc_off);
	as->ack = memfile_ptr(as->proc_off + STUB_ORDERS_SIZE);
	as->pidfd = -1;
	pthread_mutex_init(&as->orders_lock, NULL);

	struct stub_orders *o = as->orders;
	o->memfd = STUB_MEMFD;
	o->kernel_pid = (uint32_t)getpid();
	o->done_off = as->proc_off + offsetof(struct stub_orders, done);
	o->all_mask = ~0ULL;
	o->ctrl_spin_tsc = plat.spin_ctrl;
	o->guest_prog.len = plat.guest_filter_len;
	o->guest_prog.filter = STUB_ORDERS + offsetof(struct stub_orders, guest_filter);
	memcpy(o->guest_filter, plat.guest_filter, sizeof(o->guest_filter));
	return as;
}

static void as_free(struct platform_as *as)
{
	memfile_free(as->proc_off, STUB_PROC_SIZE);
	if (as->pidfd >= 0)
		close(as->pidfd);
	pthread_mutex_destroy(&as->orders_lock);
	free(as);
}

/* Enter a started host process in the list (the reaper's) and end its
 * creation. */
static void as_enter(struct platform_as *as)
{
	pthread_mutex_lock(&plat.lock);
	as->next = plat.list;
	plat.list = as;
	plat.creating--;
	pthread_cond_broadcast(&plat.changed);
	pthread_mutex_unlock(&plat.lock);
}

static void creation_begin(void)
{
	pthread_mutex_lock(&plat.lock);
	plat.creating++;
	pthread_mutex_unlock(&plat.lock);
}

static void creation_abandon(void)
{
	pthread_mutex_lock(&plat.lock);
	plat.creating--;
	pthread_cond_broadcast(&plat.changed);
	pthread_mutex_unlock(&plat.lock);
}

/* Where spares are made: away from the first CPU, where guests start
 * (the last of cocoon's CPUs; all of them if it has one). */
static void background_cpus(cpu_set_t *set)
{
	*set = plat.cpus;
	if (!plat.rdtscp || CPU_COUNT(set) < 2)
		return;
	int last = -1;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set))
			last = cpu;
	CPU_ZERO(set);
	CPU_SET(last, set);
}

/* The zygote: a pristine stub process (no guest ever runs in it) that
 * forks itself on ORDER_FORK. Every guest host-process is such a fork,
 * which costs far less than forking cocoon (large, multithreaded) and
 * inherits the stub's set-up and the control filter. zygote.lock
 * serialises forks; a zygote that died or failed is replaced. */
static struct {
	pthread_mutex_t lock;
	struct platform_as *as;
} zygote = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int zygote_start(void)
{
	struct platform_as *as = as_alloc();
	if (!as)
		return -ENOMEM;
	struct stub_orders *o = as->orders;
	o->ctrl_prog.len = (uint16_t)seccomp_filter_build(FILTER_CONTROL, plat.code_len, o->ctrl_filter);
	o->ctrl_prog.filter = STUB_ORDERS + offsetof(struct stub_orders, ctrl_filter);
	creation_begin();
	int pidfd = -1;
	long pid = spawn(as->proc_off, &pidfd);
	if (pid < 0) {
		creation_abandon();
		as_free(as);
		return (int)pid;
	}
	as->pidfd = pidfd;
	as->pid = (pid_t)pid;
	/* With the spares; its forks start there too, until bound to their
	 * CPU. Before as_enter: the pid cannot be reaped meanwhile. */
	cpu_set_t bg;
	background_cpus(&bg);
	sched_setaffinity(as->pid, sizeof(bg), &bg);
	as_enter(as);

	/* Wait until the stub is set up (or died trying). */
	while (!__atomic_load_n(&as->ack->ready, __ATOMIC_ACQUIRE) && !as->dead) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		futex(&as->ack->ready, FUTEX_WAIT, 0, &ts);
	}
	if (as->dead) {
		klog("the zygote host-process failed to start (status 0x%x)", as->host_status);
		platform_as_destroy(as);
		return -EAGAIN;
	}
	zygote.as = as;
	return 0;
}

static int wait_done(struct platform_as *as, uint32_t seq, uint64_t spin, bool remote);

/* Fork the zygote into a new host process serving as's orders. */
static int zygote_fork(struct platform_as *as)
{
	pthread_mutex_lock(&zygote.lock);
	int err = 0;
	if (zygote.as && zygote.as->dead) {
		platform_as_destroy(zygote.as);
		zygote.as = NULL;
	}
	if (!zygote.as && (err = zygote_start())) {
		pthread_mutex_unlock(&zygote.lock);
		return err;
	}
	/* Until the child is in the list, the reaper must not reap it: its
	 * pid would be free for reuse before pidfd_open. */
	creation_begin();
	struct platform_as *z = zygote.as;
	struct stub_orders *o = z->orders;
	o->ops[0] = (struct stub_order){ .kind = ORDER_FORK, .off = as->proc_off };
	o->count = 1;
	uint32_t seq = ++z->seq & 0x7fffffff;
	o->seq_failed = seq | 0x80000000u;
	__atomic_store_n(&o->seq, seq, __ATOMIC_SEQ_CST);
	futex(&o->seq, FUTEX_WAKE, 1, NULL);
	int done = wait_done(z, seq, plat.spin_ack, false);
	pid_t pid = __atomic_load_n(&z->ack->fork_pid, __ATOMIC_RELAXED);
	int pidfd = done == 1 && pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pidfd < 0) {
		klog("the zygote failed to fork (%s)", done == 1 ? strerror(errno) : "dead or refused");
		creation_abandon();
		/* A child it may have made is unknown to us: leak its pages
		 * rather than hand them out again under it. */
		as->proc_off = 0;
		platform_as_destroy(z);
		zygote.as = NULL;
		pthread_mutex_unlock(&zygote.lock);
		return -EAGAIN;
	}
	as->pid = pid;
	as->pidfd = pidfd;
	as_enter(as);
	pthread_mutex_unlock(&zygote.lock);
	return 0;
}

/* A new host process from the zygote; its threads on the CPUs of mask
 * (0: any). */
static int as_fork(struct platform_as **out, uint64_t mask)
{
	struct platform_as *as = as_alloc();
	if (!as)
		return -ENOMEM;
	as->cpu_mask = as->orders->cpu_mask = mask;
	int err = zygote_fork(as);
	if (err) {
		if (as->proc_off)
			as_free(as);
		else
			free(as);
		return err;
	}
	*out = as;
	return 0;
}

static bool take_birth(struct platform_thread *pt);
static void cpu_rebase(struct platform_thread *pt);
static int spare_cpu_rebase(struct platform_thread *pt);

/* Spare host processes, forked ahead by a background thread with their
 * first thread born and parked in the stub: fork and exec then find one
 * ready instead of waiting for the zygote, the new thread's set-up and
 * its seccomp filter's compilation. They are made on the spare maker's
 * CPU, then bound (still by the spare maker) to the CPU the last fork
 * or exec took one for, where the next one is likely wanted: a process
 * that forks again and again forks onto its own CPU. One bound elsewhere
 * is bound again when taken. */
#define SPARES 2
static struct {
	pthread_mutex_t lock;
	pthread_cond_t want;
	struct platform_as *v[SPARES];
	unsigned n;
	bool started;
	uint64_t next_mask; /* the CPUs of the next spare: the last one taken's */
} spares = { .lock = PTHREAD_MUTEX_INITIALIZER, .want = PTHREAD_COND_INITIALIZER };

static int queue(struct platform_as *as, uint32_t kind, gaddr_t addr, size_t len, int prot, uint64_t off);

static uint64_t next_cpu_mask(void);

static int bind_spare(struct platform_as *as, uint64_t mask);

static int spare_make(struct platform_as **out, uint64_t mask)
{
	struct platform_as *as;
	struct platform_thread *pt;
	int err = as_fork(&as, 0);
	if (err)
		return err;
	if ((err = platform_thread_create(as, &pt)) || (err = platform_as_flush(as)) || !take_birth(pt)) {
		platform_as_destroy(as);
		return err ? err : -EAGAIN;
	}
	platform_thread_release(pt);
	/* Both here, not on the fork that takes the spare. */
	if (spare_cpu_rebase(pt) || bind_spare(as, mask) || platform_as_flush(as)) {
		platform_as_destroy(as);
		return -EAGAIN;
	}
	*out = as;
	return 0;
}

static void *spare_maker(void *arg)
{
	cpu_set_t bg;
	background_cpus(&bg);
	sched_setaffinity(0, sizeof(bg), &bg);
	pthread_mutex_lock(&spares.lock);
	for (;;) {
		while (spares.n == SPARES)
			pthread_cond_wait(&spares.want, &spares.lock);
		uint64_t mask = spares.next_mask;
		pthread_mutex_unlock(&spares.lock);
		struct platform_as *as;
		int err = spare_make(&as, mask);
		pthread_mutex_lock(&spares.lock);
		if (err) { /* try again later, without spinning */
			pthread_mutex_unlock(&spares.lock);
			usleep(100000);
			pthread_mutex_lock(&spares.lock);
			continue;
		}
		spares.v[spares.n++] = as;
	}
	return NULL;
}

static void mask_to_set(uint64_t mask, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (unsigned cpu = 0; cpu < 64; cpu++)
		if (mask & (1ULL << cpu))
			CPU_SET(cpu, set);
}

/* Bind a spare to mask. Its control thread and its parked thread sleep,
 * so cocoon sets their masks itself and the host wakes them on that CPU
 * at once; ORDER_BIND (and the stub's set_cpu for the parked thread)
 * would wake each on its old CPU first and then migrate it, a cross-CPU
 * wake-up and a migration each (~150 us of a fork+exit+wait). Both ids
 * are trusted: the zygote reported the pid, the thread's came at its
 * birth, before any guest code ran in the process (and tgkill checks it
 * is a thread of that process). Under plat.lock, checked alive: the
 * reaper cannot reap the process and free its ids meanwhile. If the
 * host refuses, ORDER_BIND and set_cpu do it. */
static int bind_spare(struct platform_as *as, uint64_t mask)
{
	as->cpu_mask = as->orders->cpu_mask = mask;
	if (!mask)
		return 0;
	cpu_set_t set;
	mask_to_set(mask, &set);
	pthread_mutex_lock(&plat.lock);
	bool bound = !as->dead && sched_setaffinity(as->pid, sizeof(set), &set) == 0;
	struct platform_thread *pt = as->parked;
	if (bound && pt && pt->born && pt->host_tid > 0 && syscall(SYS_tgkill, as->pid, pt->host_tid, 0) == 0 &&
	    sched_setaffinity(pt->host_tid, sizeof(set), &set) == 0)
		((struct stub_thread_const *)(pt->area + AREA_CONST_OFF))->cpu_mask = mask;
	pthread_mutex_unlock(&plat.lock);
	return bound ? 0 : queue(as, ORDER_BIND, 0, 0, 0, 0);
}

int platform_as_create(struct platform_as **out)
{
	uint64_t mask = next_cpu_mask();
	pthread_mutex_lock(&spares.lock);
	if (!spares.started) {
		pthread_t t;
		spares.started = pthread_create(&t, NULL, spare_maker, NULL) == 0;
		if (spares.started)
			pthread_detach(t);
	}
	spares.next_mask = mask;
	while (spares.n) {
		/* One bound to these CPUs already if there is one. */
		unsigned pick = spares.n - 1;
		for (unsigned i = 0; i < spares.n; i++)
			if (spares.v[i]->cpu_mask == mask)
				pick = i;
		struct platform_as *as = spares.v[pick];
		spares.v[pick] = spares.v[--spares.n];
		pthread_cond_signal(&spares.want);
		pthread_mutex_unlock(&spares.lock);
		if (as->dead || (as->cpu_mask != mask && bind_spare(as, mask))) { /* killed from outside meanwhile */
			platform_as_destroy(as);
			pthread_mutex_lock(&spares.lock);
			continue;
		}
		*out = as;
		return 0;
	}
	pthread_cond_signal(&spares.want);
	pthread_mutex_unlock(&spares.lock);
	return as_fork(out, mask);
}

static void wake_all(struct platform_as *as)
{
	for (unsigned i = 0; i < STUB_MAX_THREADS; i++) {
		struct platform_thread *pt = as->threads[i];
		if (!pt || !__atomic_load_n(&pt->mb_ready, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&pt->mb->state, MBOX_DEAD, __ATOMIC_RELEASE);
		futex(&pt->mb->state, FUTEX_WAKE, INT32_MAX, NULL);
	}
	futex(&as->ack->ready, FUTEX_WAKE, INT32_MAX, NULL);
	futex(&as->orders->done, FUTEX_WAKE, INT32_MAX, NULL);
}

static struct platform_as *find_pid(pid_t pid)
{
	for (struct platform_as *as = plat.list; as; as = as->next)
		if (as->pid == pid)
			return as;
	return NULL;
}

/* Reaps every guest host-process and wakes whoever waits on it. A dead
 * child is looked at first (WNOWAIT) and reaped only once it is known, so
 * its pid cannot be reused under a creation that has not opened its
 * pidfd yet. */
static void *reaper(void *arg)
{
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL) < 0) {
			int e = errno;
			if (e != ECHILD && e != EINTR)
				kpanic("reaper: waitid: %s", strerror(e));
			pthread_mutex_lock(&plat.lock);
			if (e == ECHILD && !plat.list)
				pthread_cond_wait(&plat.changed, &plat.lock);
			pthread_mutex_unlock(&plat.lock);
			continue;
		}
		pid_t pid = si.si_pid;
		pthread_mutex_lock(&plat.lock);
		struct platform_as *as;
		while (!(as = find_pid(pid)) && plat.creating)
			pthread_cond_wait(&plat.changed, &plat.lock);
		int status = 0;
		/* Someone else may reap a child that is not ours meanwhile
		 * (LeakSanitizer's helper at exit); ours are reaped only here. */
		if (waitpid(pid, &status, __WALL) != pid)
			status = SIGKILL;
		if (as) {
			for (struct platform_as **pp = &plat.list; *pp; pp = &(*pp)->next)
				if (*pp == as) {
					*pp = as->next;
					break;
				}
			as->host_status = status;
			atomic_store(&as->dead, true);
			wake_all(as);
		}
		pthread_cond_broadcast(&plat.changed);
		pthread_mutex_unlock(&plat.lock);
	}
	return NULL;
}

bool platform_as_alive(struct platform_as *as)
{
	return as && !as->dead;
}

void platform_as_kill(struct platform_as *as)
{
	if (as)
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
}

/* Kill the host process and wait until it is reaped. */
static void kill_wait(struct platform_as *as)
{
	platform_as_kill(as);
	pthread_mutex_lock(&plat.lock);
	while (!as->dead)
		pthread_cond_wait(&plat.changed, &plat.lock);
	pthread_mutex_unlock(&plat.lock);
}

/* For an Oops: no guest outlives the kernel (they also have PDEATHSIG). */
static void kill_all_guests(void)
{
	for (struct platform_as *as = plat.list; as; as = as->next)
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
}

void platform_as_destroy(struct platform_as *as)
{
	if (!as)
		return;
	kill_wait(as);
	for (unsigned i = 0; i < STUB_MAX_THREADS; i++)
		if (as->threads[i])
			platform_thread_destroy(as->threads[i]);
	as_free(as);
}

/* ---- orders to the control thread ------------------------------------ */

static int queue(struct platform_as *as, uint32_t kind, gaddr_t addr, size_t len, int prot, uint64_t off)
{
	if (!as)
		return 0;
	pthread_mutex_lock(&as->orders_lock);
	if (as->count >= STUB_MAX_ORDERS - (as->npaths ? 1 : 0)) { /* room for ORDER_CLOSE_FILES */
		pthread_mutex_unlock(&as->orders_lock);
		int err = platform_as_flush(as);
		if (err)
			return err;
		pthread_mutex_lock(&as->orders_lock);
	}
	as->orders->ops[as->count++] =
		(struct stub_order){ .kind = kind, .prot = (uint32_t)prot, .addr = addr, .len = len, .off = off };
	if (kind == ORDER_CLONE_THREAD) /* threads are cloned in this order */
		hostcpu_set_clone_seq(as->threads[(addr - STUB_THREADS) / STUB_AREA_SIZE]->cpu, ++as->nclones);
	pthread_mutex_unlock(&as->orders_lock);
	return 0;
}

/* Guest address-space changes must stay below the stub: an order over
 * the stub's own pages would hand the guest its control thread. */
static void check_guest_range(gaddr_t addr, size_t len)
{
	if (addr >= STUB_BASE || len > STUB_BASE - addr)
		kpanic("address-space order outside guest memory: [%#lx, +%#zx)", (unsigned long)addr, len);
}

static int queue_guest(struct platform_as *as, uint32_t kind, gaddr_t addr, size_t len, int prot,
		       uint64_t off)
{
	check_guest_range(addr, len);
	return queue(as, kind, addr, len, prot, off);
}

int platform_as_map(struct platform_as *as, gaddr_t addr, size_t len, int prot, uint64_t off)
{
	return queue_guest(as, ORDER_MMAP, addr, len, prot, off);
}
int platform_as_map_file(struct platform_as *as, gaddr_t addr, size_t len, int prot, int kernel_fd,
			 uint64_t file_off)
{
	if (!as)
		return 0;
	check_guest_range(addr, len);
	if (prot & ~0xff)
		kpanic("file mapping order with protection %#x", prot);
	uint32_t idx;
	for (;;) {
		pthread_mutex_lock(&as->orders_lock);
		for (idx = 0; idx < as->npaths && as->path_fds[idx] != kernel_fd; idx++)
			;
		/* room for this order and ORDER_CLOSE_FILES */
		if ((idx < as->npaths || idx < STUB_MAX_FILE_PATHS) && as->count < STUB_MAX_ORDERS - 1)
			break;
		pthread_mutex_unlock(&as->orders_lock);
		int err = platform_as_flush(as);
		if (err)
			return err;
	}
	uint32_t open = 0;
	if (idx == as->npaths) { /* the batch's first use of this file */
		as->npaths++;
		as->path_fds[idx] = kernel_fd;
		snprintf(as->orders->file_paths[idx], STUB_FILE_PATH_LEN, "/proc/%u/fd/%d", as->orders->kernel_pid,
			 kernel_fd);
		open = ORDER_FILE_OPEN;
	}
	as->orders->ops[as->count++] = (struct stub_order){
		.kind = ORDER_MMAP_FILE, .prot = (uint32_t)prot | open | idx << 16, .addr = addr, .len = len,
		.off = file_off,
	};
	pthread_mutex_unlock(&as->orders_lock);
	return 0;
}

int platform_as_unmap(struct platform_as *as, gaddr_t addr, size_t len)
{
	return queue_guest(as, ORDER_MUNMAP, addr, len, 0, 0);
}
int platform_as_protect(struct platform_as *as, gaddr_t addr, size_t len, int prot)
{
	return queue_guest(as, ORDER_MPROTECT, addr, len, prot, 0);
}

/* Whether the host process has ended (reaped or not). */
static bool exited(struct platform_as *as)
{
	struct pollfd pfd = { as->pidfd, POLLIN, 0 };
	return as->dead || (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP)));
}

/* Wait until the control thread has done batch seq: 1 done, 2 done but
 * an order failed, 0 the process ended. Spins up to `spin` TSC ticks on
 * orders->done, then sleeps on it. Now and then the control thread is
 * woken again (the guest could have hidden that it sleeps) and the
 * process is checked for its end by its pidfd, which does not depend on
 * the reaper. */
static int wait_done(struct platform_as *as, uint32_t seq, uint64_t spin, bool remote)
{
	struct stub_orders *o = as->orders;
	uint64_t start = __builtin_ia32_rdtsc(), deadline = start + (remote ? plat.spin_ack_remote : spin);
	for (;;) {
		uint32_t d = __atomic_load_n(&o->done, __ATOMIC_ACQUIRE);
		if ((d & 0x7fffffff) == seq) {
			if (remote) /* only ever spun: a local thread sleeps */
				handoff_note_spin(__builtin_ia32_rdtsc() - start);
			return d == seq ? 1 : 2;
		}
		if (as->dead)
			return 0;
		if (__builtin_ia32_rdtsc() < deadline) {
			__builtin_ia32_pause();
			continue;
		}
		if (remote) {
			handoff_note_spin(__builtin_ia32_rdtsc() - start);
			remote = false;
		}
		handoff_waits_for_control();
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		if (futex(&o->done, FUTEX_WAIT, d, &ts) < 0 && errno == ETIMEDOUT) {
			if (exited(as))
				return 0;
			futex(&o->seq, FUTEX_WAKE, 1, NULL);
		}
	}
}

/* The process whose guest thread the calling kernel thread serves (set
 * by platform_run; only compared, never followed). */
static __thread const struct platform_as *serving_as;

/* Send the queued orders and wait until the control thread has carried
 * them out. An order that fails (the host refused a mapping) leaves the
 * host process out of step with the kernel's view: the process is killed
 * (and reaped) before this returns, so no memory it might still map is
 * reused. Returns 0, or -ESRCH when the process is gone. */
int platform_as_flush(struct platform_as *as)
{
	if (!as)
		return 0;
	/* Every resume passes here; most have nothing queued. Orders queued
	 * by another kernel thread are flushed by that thread. */
	if (__atomic_load_n(&as->count, __ATOMIC_RELAXED) == 0 && !as->dead)
		return 0;
	pthread_mutex_lock(&as->orders_lock);
	struct stub_orders *o = as->orders;
	if (as->count == 0 || as->dead) {
		pthread_mutex_unlock(&as->orders_lock);
		return as->dead ? -ESRCH : 0;
	}
	if (as->npaths) /* room was kept for it */
		o->ops[as->count++] = (struct stub_order){ .kind = ORDER_CLOSE_FILES, .len = as->npaths };
	uint32_t seq = ++as->seq & 0x7fffffff;
	o->count = as->count;
	o->seq_failed = seq | 0x80000000u;
	/* Serving from another CPU, we spin for the orders while our stub
	 * yields its CPU, the control thread's, to it: no move back to that
	 * CPU, no wake-up across CPUs. */
	struct stub_mailbox *serving = as == serving_as ? handoff_remote_mailbox() : NULL;
	bool remote = serving != NULL;
	if (remote)
		__atomic_store_n(&serving->yield_cpu, seq, __ATOMIC_SEQ_CST);
	__atomic_store_n(&o->seq, seq, __ATOMIC_SEQ_CST);
	/* A sleeping control thread needs our CPU more than we do: do not
	 * spin then. */
	uint64_t spin = plat.spin_ack;
	if (__atomic_load_n(&as->ack->ctrl_sleeping, __ATOMIC_SEQ_CST)) {
		futex(&o->seq, FUTEX_WAKE, 1, NULL);
		spin = 0;
	}
	int done = wait_done(as, seq, spin, remote);
	if (remote)
		__atomic_store_n(&serving->yield_cpu, 0, __ATOMIC_RELAXED);
	as->count = 0;
	as->npaths = 0;
	pthread_mutex_unlock(&as->orders_lock);
	if (done == 2) {
		klog("pid %d: the host refused an address-space change (%lld); killing the guest", as->pid,
		     (long long)as->ack->first_error);
		kill_wait(as);
	} else if (done == 0 && !as->dead) {
		kill_wait(as); /* ended, not reaped yet: its memory stays ours until then */
	}
	return as->dead ? -ESRCH : 0;
}

/* ---- threads --------------------------------------------------------- */

/* The CPU a process is bound to, or -1. */
static int as_cpu(const struct platform_as *as)
{
	uint64_t m = __atomic_load_n(&as->cpu_mask, __ATOMIC_RELAXED);
	return m && !(m & (m - 1)) ? __builtin_ctzll(m) : -1;
}

/* The CPU for a new host process or thread (a mask of one, or 0 for no
 * binding): the one running the fewest guest threads, like Linux's
 * balancing at fork and exec, so that the children of one parent (make
 * -j, a pipeline) run side by side. On a tie the caller's own CPU (a
 * fork child and its parent then hand over on one CPU: the cheap case
 * when the parent waits), else cocoon's CPUs in turn. */
static uint64_t next_cpu_mask(void)
{
	static unsigned next;
	if (!plat.rdtscp)
		return 0;
	int own = handoff_guest_cpu();
	unsigned start = own >= 0 && own < 64 ? (unsigned)own
							  : __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
	int best = -1, best_load = INT_MAX;
	for (unsigned i = 0; i < 64; i++) {
		unsigned cpu = (start + i) % 64;
		if (!CPU_ISSET(cpu, &plat.cpus))
			continue;
		int load = handoff_guests_running((int)cpu);
		if (load < best_load) {
			best = (int)cpu;
			best_load = load;
		}
	}
	return best >= 0 ? 1ULL << best : 0;
}

int platform_thread_create(struct platform_as *as, struct platform_thread **out)
{
	pthread_mutex_lock(&plat.lock);
	struct platform_thread *pt = as->parked;
	if (pt) { /* a host thread waiting in the stub for a new guest thread */
		as->parked = pt->next_parked;
		pt->next_parked = NULL;
		pthread_mutex_unlock(&plat.lock);
		if (pt->cpu_used) /* its CPU time so far was another guest's */
			hostcpu_handout(pt->cpu);
		pt->cpu_used = false;
		/* The stub binds it to its process's CPU as it resumes. */
		struct stub_thread_const *c = (struct stub_thread_const *)(pt->area + AREA_CONST_OFF);
		if (as->cpu_mask && c->cpu_mask != as->cpu_mask) {
			c->cpu_mask = as->cpu_mask;
			pt->mb->set_cpu = 1;
		}
		*out = pt;
		return 0;
	}
	pthread_mutex_unlock(&plat.lock);
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->cpu = hostcpu_new();
	pthread_mutex_lock(&plat.lock);
	unsigned slot = 0;
	while (slot < STUB_MAX_THREADS && as->threads[slot])
		slot++;
	if (slot == STUB_MAX_THREADS) {
		pthread_mutex_unlock(&plat.lock);
		hostcpu_free(pt->cpu);
		free(pt);
		return -EAGAIN;
	}
	as->threads[slot] = pt; /* reserved; wake_all skips it until born */
	pthread_mutex_unlock(&plat.lock);

	int64_t off = memfile_alloc_dirty(STUB_AREA_SIZE);
	if (off >= 0) /* the guest can read it all */
		memset(memfile_ptr((uint64_t)off), 0, STUB_AREA_SIZE);
	if (off < 0) {
		pthread_mutex_lock(&plat.lock);
		as->threads[slot] = NULL;
		pthread_mutex_unlock(&plat.lock);
		hostcpu_free(pt->cpu);
		free(pt);
		return (int)off;
	}
	pt->as = as;
	pt->slot = slot;
	pt->area_off = (uint64_t)off;
	pt->area = memfile_ptr(pt->area_off);
	pt->mb = (struct stub_mailbox *)(pt->area + AREA_MBOX_OFF);
	gaddr_t area = STUB_THREADS + slot * STUB_AREA_SIZE;

	struct stub_thread_const *c = (struct stub_thread_const *)(pt->area + AREA_CONST_OFF);
	c->altstack.ss_sp = area + AREA_STACK_OFF;
	c->altstack.ss_size = AREA_STACK_SIZE;
	c->empty_mask = 0;
	c->cpu_mask = as->cpu_mask ? as->cpu_mask : next_cpu_mask();
	pt->mb->state = MBOX_RUNNING;
	pt->mb->spin_tsc = 0; /* platform/handoff.c sets it at each resume */
	pt->mb->has_fsgsbase = plat.fsgsbase;
	pt->mb->has_rdtscp = plat.rdtscp;

	__atomic_store_n(&pt->mb_ready, true, __ATOMIC_RELEASE);
	int err = queue(as, ORDER_MMAP, area, AREA_MBOX_OFF, PROT_READ, pt->area_off);
	if (!err)
		err = queue(as, ORDER_MMAP, area + AREA_MBOX_OFF, STUB_AREA_SIZE - AREA_MBOX_OFF,
			    PROT_READ | PROT_WRITE, pt->area_off + AREA_MBOX_OFF);
	/* Sent with the next flush: at the latest the new thread's first
	 * platform_run. */
	if (!err)
		err = queue(as, ORDER_CLONE_THREAD, area, 0, 0, 0);
	if (err) {
		platform_thread_destroy(pt);
		return err;
	}
	*out = pt;
	return 0;
}

void platform_thread_unserve(struct platform_thread *pt)
{
	handoff_forget(pt->mb);
}

void platform_thread_destroy(struct platform_thread *pt)
{
	handoff_forget(pt->mb);
	pthread_mutex_lock(&plat.lock);
	pt->as->threads[pt->slot] = NULL;
	pthread_mutex_unlock(&plat.lock);
	memfile_free(pt->area_off, STUB_AREA_SIZE);
	hostcpu_free(pt->cpu);
	free(pt->fpu_copy);
	free(pt);
}

void platform_thread_release(struct platform_thread *pt)
{
	struct platform_as *as = pt->as;
	handoff_forget(pt->mb);
	pthread_mutex_lock(&plat.lock);
	/* A thread stopped in a trap (or still to be born) can take a new
	 * guest thread; one of a dead process is freed with it. */
	bool park = !as->dead;
	if (park) {
		pt->next_parked = as->parked;
		as->parked = pt;
		free(pt->fpu_copy);
		pt->fpu_copy = NULL;
		pt->fpu_next = FPU_RESET;
	}
	pthread_mutex_unlock(&plat.lock);
	/* Not parked: platform_as_destroy frees it with its process. */
}

/* The FPU/xsave image in a trapped frame: its kernel view and length. */
static uint8_t *frame_fpstate(struct platform_thread *pt, ucontext_t *uc, size_t *len)
{
	gaddr_t base = STUB_THREADS + pt->slot * STUB_AREA_SIZE;
	uint64_t fp = (uint64_t)uc->uc_mcontext.fpregs;
	if (fp < base + AREA_STACK_OFF || fp > base + STUB_AREA_SIZE - 576 || (fp & 15))
		return NULL;
	uint8_t *f = (uint8_t *)pt->area + (fp - base);
	uint32_t magic1, size = 512;
	memcpy(&magic1, f + 464, 4);
	if (magic1 == 0x46505853) /* FP_XSTATE_MAGIC1: extended_size follows */
		memcpy(&size, f + 468, 4);
	if (size < 512 || fp + size > base + STUB_AREA_SIZE)
		return NULL;
	*len = size;
	return f;
}

static void apply_fpu(struct platform_thread *pt);

void *platform_thread_fpstate(struct platform_thread *pt, size_t *len)
{
	if (!pt->uc)
		return NULL;
	if (pt->fpu_next != FPU_KEEP)
		apply_fpu(pt); /* what the guest will resume with */
	return frame_fpstate(pt, pt->uc, len);
}

void platform_thread_kick(struct platform_thread *pt)
{
	struct platform_as *as = pt->as;
	if (as->dead)
		return;
	/* To the host thread itself: another guest thread of the process
	 * would take a process-directed kick and leave this one running.
	 * Before the birth trap the thread's id may not be known yet: then
	 * the process gets it (the thread runs only stub code, and
	 * take_birth turns a kick it sees into an interrupt). */
	int tid = __atomic_load_n(&pt->host_tid, __ATOMIC_ACQUIRE);
	if (tid > 0 && syscall(SYS_tgkill, as->pid, tid, STUB_KICK_SIGNAL) == 0)
		return;
	syscall(SYS_pidfd_send_signal, as->pidfd, STUB_KICK_SIGNAL, NULL, 0);
}

void platform_thread_fpu_reset(struct platform_thread *pt)
{
	pt->fpu_next = FPU_RESET;
}

int platform_thread_fpu_inherit(struct platform_thread *child, struct platform_thread *parent)
{
	size_t len;
	uint8_t *f = parent->uc ? frame_fpstate(parent, parent->uc, &len) : NULL;
	if (!f)
		return 0; /* nothing to copy: the initial state */
	void *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, f, len);
	free(child->fpu_copy);
	child->fpu_copy = copy;
	child->fpu_len = len;
	child->fpu_next = FPU_COPY;
	return 0;
}

static void reset_fpstate(struct platform_thread *pt, ucontext_t *uc);

static void apply_fpu(struct platform_thread *pt)
{
	if (pt->fpu_next == FPU_RESET) {
		reset_fpstate(pt, pt->uc);
	} else if (pt->fpu_next == FPU_COPY) {
		size_t len;
		uint8_t *f = frame_fpstate(pt, pt->uc, &len);
		if (f && len == pt->fpu_len)
			memcpy(f, pt->fpu_copy, len);
		else
			reset_fpstate(pt, pt->uc);
		free(pt->fpu_copy);
		pt->fpu_copy = NULL;
	}
	pt->fpu_next = FPU_KEEP;
}

/* ---- the hand-off ---------------------------------------------------- */

/* Wait until the thread traps (or its process dies): where and how is
 * platform/handoff.c's choice. */
static void wait_trap(struct platform_thread *pt)
{
	handoff_wait_trap(pt->mb, &pt->as->dead, as_cpu(pt->as));
}

static void reply(struct platform_thread *pt)
{
	/* Never over a DEAD the reaper wrote meanwhile: wait_trap would
	 * then wait for a trap of a process that is gone. */
	uint32_t old = __atomic_load_n(&pt->mb->state, __ATOMIC_ACQUIRE);
	do {
		if (old == MBOX_DEAD)
			return;
	} while (!__atomic_compare_exchange_n(&pt->mb->state, &old, MBOX_RUNNING, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	if (old == MBOX_TRAPPED_GSLEEP)
		futex(&pt->mb->state, FUTEX_WAKE, 1, NULL);
}

/* The frame the stub handler reported, checked to lie in the thread's
 * alternate stack (the guest can write the mailbox). */
static ucontext_t *trapped_frame(struct platform_thread *pt)
{
	gaddr_t base = STUB_THREADS + pt->slot * STUB_AREA_SIZE;
	uint64_t uc = __atomic_load_n(&pt->mb->uc, __ATOMIC_RELAXED);
	if (uc < base + AREA_STACK_OFF || uc > base + STUB_AREA_SIZE - sizeof(ucontext_t) || (uc & 7))
		return NULL;
	return (ucontext_t *)(pt->area + (uc - base));
}

/* The guest's FPU state starts from the initial state (FCW 0x37f, MXCSR
 * 0x1f80, all registers zero). */
static void reset_fpstate(struct platform_thread *pt, ucontext_t *uc)
{
	gaddr_t base = STUB_THREADS + pt->slot * STUB_AREA_SIZE;
	uint64_t fp = (uint64_t)uc->uc_mcontext.fpregs;
	if (fp < base + AREA_STACK_OFF || fp > base + STUB_AREA_SIZE - 576 || (fp & 15))
		return;
	uint8_t *f = (uint8_t *)pt->area + (fp - base);
	uint32_t magic1;
	memcpy(&magic1, f + 464, 4);
	memset(f, 0, 464);
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80, mxcsr_mask;
	memcpy(&mxcsr_mask, f + 28, 4);
	memcpy(f, &fcw, 2);
	memcpy(f + 24, &mxcsr, 4);
	if (magic1 == 0x46505853) { /* xsave header follows: keep only FP|SSE */
		uint64_t bv;
		memcpy(&bv, f + 512, 8);
		bv &= 3;
		memcpy(f + 512, &bv, 8);
	}
}

/* The host process is gone: say so. */
static int report_dead(struct platform_thread *pt, struct trap *out)
{
	out->kind = TRAP_DEAD;
	out->host_status = pt->as->host_status;
	return 0;
}

/* The first trap of a new thread must be its birth: the ud2 at
 * stub_thread_birth. Anything else (a sibling thread scribbling on its
 * mailbox, a signal before its filter was on) kills the process. */
static bool take_birth(struct platform_thread *pt)
{
	wait_trap(pt);
	if (pt->as->dead)
		return false;
	ucontext_t *uc = trapped_frame(pt);
	uint64_t signo = __atomic_load_n(&pt->mb->signo, __ATOMIC_RELAXED);
	/* A kick (a signal for the guest) can beat the birth: the thread
	 * still runs only stub code, so let it go on to its birth trap. */
	while (uc && signo == STUB_KICK_SIGNAL) {
		reply(pt);
		wait_trap(pt);
		if (pt->as->dead)
			return false;
		uc = trapped_frame(pt);
		signo = __atomic_load_n(&pt->mb->signo, __ATOMIC_RELAXED);
	}
	if (!uc || signo != SIGILL || (uint64_t)uc->uc_mcontext.gregs[REG_RIP] != STUB_ADDR(stub_thread_birth)) {
		klog("pid %d: a guest thread was not born cleanly; killing the guest", pt->as->pid);
		kill_wait(pt->as);
		return false;
	}
	pt->uc = uc;
	reset_fpstate(pt, uc);
	__atomic_store_n(&pt->host_tid, __atomic_load_n(&pt->mb->host_tid, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
	pt->born = true;
	return true;
}

void platform_thread_set_ids(struct platform_thread *pt, int pid, int tid)
{
	struct stub_thread_const *c = (struct stub_thread_const *)(pt->area + AREA_CONST_OFF);
	if (c->pid != pid)
		c->pid = pid;
	if (c->tid != tid)
		c->tid = tid;
}

/* A process whose CPU another guest keeps busy while another CPU runs
 * none moves there, control thread and all: the host cannot balance
 * bound threads, and two compilers bound to one CPU take twice as long
 * while the other CPU idles. Placement at creation reads a moment's
 * load and often guesses wrong (the other compiler was trapped). Only
 * processes with one live guest thread that did not choose its own CPUs
 * move, after CROWDED_TRAPS traps in a row that each found their CPU
 * busy. */
#define CROWDED_TRAPS 4
static void spread_if_crowded(struct platform_thread *pt, int cpu)
{
	if (cpu < 0 || pt->guest_bound || handoff_guests_running(cpu) == 0) {
		pt->crowded = 0;
		return;
	}
	if (++pt->crowded < CROWDED_TRAPS)
		return;
	pt->crowded = 0;
	/* Other threads of its process share its CPU (they move with it,
	 * so it stays): look again only now and then, plat.lock is shared. */
	if (pt->crowded_skip) {
		pt->crowded_skip--;
		return;
	}
	int to = handoff_free_cpu(cpu);
	if (to < 0)
		return;
	struct platform_as *as = pt->as;
	uint64_t mask = 1ULL << to;
	cpu_set_t set;
	mask_to_set(mask, &set);
	pthread_mutex_lock(&plat.lock);
	unsigned live = 0;
	for (unsigned i = 0; i < STUB_MAX_THREADS; i++)
		live += as->threads[i] != NULL;
	for (struct platform_thread *p = as->parked; p; p = p->next_parked)
		live--;
	/* The trapped thread is alive (its host_tid cannot be reused); the
	 * control thread's pid is checked alive under plat.lock, as in
	 * bind_spare. Parked threads take the mask as they resume. */
	if (live == 1 && !as->dead && pt->host_tid > 0 && sched_setaffinity(pt->host_tid, sizeof(set), &set) == 0) {
		__atomic_store_n(&as->cpu_mask, mask, __ATOMIC_RELAXED);
		as->orders->cpu_mask = mask;
		((struct stub_thread_const *)(pt->area + AREA_CONST_OFF))->cpu_mask = mask;
		for (struct platform_thread *p = as->parked; p; p = p->next_parked) {
			((struct stub_thread_const *)(p->area + AREA_CONST_OFF))->cpu_mask = mask;
			__atomic_store_n(&p->mb->set_cpu, 1, __ATOMIC_RELEASE);
		}
		sched_setaffinity(as->pid, sizeof(set), &set);
	} else if (live > 1) {
		pt->crowded_skip = 256;
	}
	pthread_mutex_unlock(&plat.lock);
}

int platform_run(struct platform_thread *pt, struct guest_regs *regs, bool *set_fs, uint64_t fs_base,
		 struct trap *out)
{
	/* Decisions use the kernel's own `dead`, never the mailbox state,
	 * which the guest can write. */
	serving_as = pt->born ? pt->as : NULL; /* an unborn thread has no stub spinning yet */
	if (platform_as_flush(pt->as))
		return report_dead(pt, out);
	if (!pt->born) {
		if (!take_birth(pt))
			return report_dead(pt, out);
		/* Kicks before now may have gone to another thread (the host
		 * thread's id was not known): let the kernel look for work
		 * once more before the guest runs. */
		out->kind = TRAP_INTERRUPT;
		return 0;
	}
	if (pt->fpu_next != FPU_KEEP)
		apply_fpu(pt);
	if (hostcpu_rebase_due(pt->cpu))
		cpu_rebase(pt);
	pt->cpu_used = true;
	memcpy(pt->uc->uc_mcontext.gregs, regs, offsetof(struct guest_regs, csgsfs));
	if (*set_fs) {
		pt->mb->fs_base = fs_base;
		pt->mb->set_fs = 1;
		*set_fs = false;
	}
	int cpu = as_cpu(pt->as);
	handoff_guest_runs(cpu, 1);
	handoff_before_resume(pt->mb);
	reply(pt);
	handoff_wait_trap(pt->mb, &pt->as->dead, cpu);
	handoff_guest_runs(cpu, -1);
	if (pt->as->dead)
		return report_dead(pt, out);

	pt->uc = trapped_frame(pt);
	if (!pt->uc) { /* the guest scribbled on its mailbox */
		out->kind = TRAP_FAULT;
		out->signo = SIGSEGV;
		out->code = SI_KERNEL;
		out->addr = 0;
		return 0;
	}
	memcpy(regs, pt->uc->uc_mcontext.gregs, sizeof(*regs));
	handoff_after_trap(pt->mb, cpu);
	spread_if_crowded(pt, cpu);
	siginfo_t si;
	memcpy(&si, pt->mb->siginfo, sizeof(si));
	int signo = (int)pt->mb->signo;
	if (signo == SIGSYS && si.si_code == SYS_SECCOMP) {
		out->kind = TRAP_SYSCALL;
		out->arch = si.si_arch;
	} else if (signo == STUB_KICK_SIGNAL) {
		out->kind = TRAP_INTERRUPT;
	} else {
		memcpy(out->siginfo, &si, sizeof(out->siginfo));
		out->kind = TRAP_FAULT;
		out->signo = signo;
		out->code = si.si_code;
		out->addr = (uint64_t)si.si_addr;
	}
	return 0;
}

/* ---- CPU time ------------------------------------------------------------ */

/* Open pt's /proc files if not yet (hostcpu_lock held): the process must
 * not be reaped meanwhile, which plat.lock and `dead` ensure (the reaper
 * reaps and marks under plat.lock). */
static int cpu_open(struct platform_thread *pt)
{
	if (!hostcpu_needs_open(pt->cpu))
		return 0;
	struct platform_as *as = pt->as;
	struct hostcpu_family f = { .pid = as->pid };
	if (pt->cpu && hostcpu_needs_family(pt->cpu))
		f.v = malloc(STUB_MAX_THREADS * sizeof(*f.v));
	pthread_mutex_lock(&plat.lock);
	int err = -ESRCH;
	if (!as->dead) {
		for (unsigned i = 0; f.v && i < STUB_MAX_THREADS; i++)
			if (as->threads[i])
				f.v[f.n++] = as->threads[i]->cpu;
		err = hostcpu_open(pt->cpu, &f);
	}
	pthread_mutex_unlock(&plat.lock);
	free(f.v);
	return err;
}

/* The host thread is idle (parked, or trapped before its next guest
 * thread runs): its counters now are the new zero. */
static void cpu_rebase(struct platform_thread *pt)
{
	hostcpu_lock();
	if (!cpu_open(pt))
		hostcpu_rebase(pt->cpu);
	hostcpu_unlock();
	pt->cpu_used = false;
}

/* cpu_rebase for a spare's thread: a spare is the spare maker's alone
 * until it is published, so its /proc files are opened and read without
 * hostcpu_lock, and without plat.lock, which those slow look-ups would
 * otherwise hold against every exiting guest thread and every fork (a
 * fork+exit+wait waited ~30 us for them). Instead of plat.lock keeping
 * the process from being reaped while its files are opened, it is found
 * alive afterwards (then the pid was its own meanwhile): 0, or -ESRCH. */
static int spare_cpu_rebase(struct platform_thread *pt)
{
	struct hostcpu_family f = { .pid = pt->as->pid, .v = &pt->cpu, .n = 1 };
	pt->cpu_used = false;
	if (!pt->cpu) /* out of memory: its figures read 0 */
		return 0;
	if (hostcpu_open(pt->cpu, &f) || exited(pt->as))
		return -ESRCH;
	hostcpu_rebase(pt->cpu);
	return 0;
}

int platform_thread_usage(struct platform_thread *pt, struct thread_usage *u)
{
	hostcpu_lock();
	int err = cpu_open(pt);
	int rerr = hostcpu_read(pt->cpu, u);
	hostcpu_unlock();
	return err ? err : rerr;
}

int platform_thread_nivcsw(struct platform_thread *pt, int64_t *n)
{
	hostcpu_lock();
	int err = cpu_open(pt);
	int rerr = hostcpu_read_nivcsw(pt->cpu, n);
	hostcpu_unlock();
	return err ? err : rerr;
}

/* ---- CPU affinity -------------------------------------------------------- */

void platform_thread_set_cpus(struct platform_thread *pt, uint64_t mask)
{
	uint64_t all = 0;
	for (unsigned i = 0; i < 64; i++)
		if (CPU_ISSET(i, &plat.cpus))
			all |= 1ULL << i;
	mask &= all;
	if (!mask)
		return;
	struct stub_thread_const *c = (struct stub_thread_const *)(pt->area + AREA_CONST_OFF);
	uint64_t now = __atomic_load_n(&c->cpu_mask, __ATOMIC_RELAXED);
	if (now ? (now & ~mask) == 0 : mask == all)
		return; /* already within the mask */
	/* One CPU where the platform binds (rdtscp), else the whole mask. */
	uint64_t want = plat.rdtscp ? mask & -mask : mask;
	pt->guest_bound = true;
	__atomic_store_n(&c->cpu_mask, want, __ATOMIC_RELEASE);
	__atomic_store_n(&pt->mb->set_cpu, 1, __ATOMIC_RELEASE);
}
