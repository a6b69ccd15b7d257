/* The seccomp programs of guest host-processes, as rule tables.
 *
 * A host thread that runs guest code gets FILTER_GUEST stacked on the
 * process's FILTER_CONTROL; the host applies the strictest verdict, so
 * both agree that calls from guest code trap, and the guest filter alone
 * decides what guest threads may do from inside the stub. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <asm/prctl.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/syscall.h>
#include "platform/seccomp_filter.h"
#include "kernel/kernel.h"

#define THREAD_CLONE_FLAGS 0x50f00 /* VM|FS|FILES|SIGHAND|THREAD|SYSVSEM, as stub/control.S */
#define ARG_ANY (-1)

/* A call allowed from the stub, optionally with one argument pinned to
 * one of two values. */
struct stub_rule {
	int nr;
	int arg;            /* index of the pinned argument, or ARG_ANY */
	long long v1, v2;   /* allowed values of its low 32 bits */
	unsigned kinds;     /* bit per filter_kind */
};

#define BOTH ((1u << FILTER_CONTROL) | (1u << FILTER_GUEST))
#define CTRL (1u << FILTER_CONTROL)

static const struct stub_rule rules[] = {
	{ SYS_futex, 1, FUTEX_WAIT, FUTEX_WAKE, BOTH },
	{ SYS_rt_sigreturn, ARG_ANY, 0, 0, BOTH },
	{ SYS_sched_yield, ARG_ANY, 0, 0, BOTH },
	{ SYS_arch_prctl, 0, ARCH_SET_FS, ARCH_SET_FS, BOTH },
	/* mmap, openat and close: see file_rules() */
	{ SYS_munmap, ARG_ANY, 0, 0, CTRL },
	{ SYS_mprotect, ARG_ANY, 0, 0, CTRL },
	/* a guest thread, or (the zygote) a host process as cocoon's child */
	{ SYS_clone, 0, THREAD_CLONE_FLAGS, CLONE_PARENT, CTRL },
	{ SYS_sigaltstack, ARG_ANY, 0, 0, CTRL },
	{ SYS_rt_sigprocmask, ARG_ANY, 0, 0, CTRL },
	/* its own thread only; guest threads: see cpu_mask_rule() */
	{ SYS_sched_setaffinity, 0, 0, 0, CTRL },
	{ SYS_seccomp, 0, SECCOMP_SET_MODE_FILTER, SECCOMP_SET_MODE_FILTER, CTRL },
	{ SYS_exit_group, ARG_ANY, 0, 0, CTRL },
	{ SYS_pwrite64, 0, STUB_MEMFD, STUB_MEMFD, CTRL }, /* orders->done */
	/* a fork of the zygote: die with cocoon, check cocoon still lives */
	{ SYS_prctl, 0, PR_SET_PDEATHSIG, PR_SET_PDEATHSIG, CTRL },
	{ SYS_getppid, ARG_ANY, 0, 0, CTRL },
};

#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define OFF_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI (OFF_IP_LO + 4)
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

/* Labels are the three verdicts at the end of the program. */
enum { L_TRAP = 1000, L_ALLOW, L_KILL };

struct prog {
	struct stub_sock_filter *f;
	int n;
	int jt[STUB_MAX_FILTER], jf[STUB_MAX_FILTER]; /* relative, or labels */
};

static void emit(struct prog *p, uint16_t code, uint32_t k, int jt, int jf)
{
	if (p->n >= STUB_MAX_FILTER - 3)
		kpanic("seccomp filter too long");
	p->f[p->n] = (struct stub_sock_filter){ code, 0, 0, k };
	p->jt[p->n] = jt;
	p->jf[p->n] = jf;
	p->n++;
}

/* Turn labels into forward offsets; the verdicts are the last three. */
static void resolve(struct prog *p)
{
	for (int i = 0; i < p->n; i++) {
		int l[2] = { p->jt[i], p->jf[i] }, off[2];
		for (int j = 0; j < 2; j++) {
			int to = l[j] >= L_TRAP ? p->n - 3 + (l[j] - L_TRAP) : i + 1 + l[j];
			off[j] = to - i - 1;
		}
		p->f[i].jt = (uint8_t)off[0];
		p->f[i].jf = (uint8_t)off[1];
	}
}

/* A guest thread may bind itself to its CPU (the stub does, when the
 * kernel asks): sched_setaffinity(0, 8, mask) with mask the cpu_mask of
 * a thread area's read-only page, which only the kernel writes. */
static void cpu_mask_rule(struct prog *p)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_setaffinity, 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(0), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(1), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 8, 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(2) + 4, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_THREADS >> 32), 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(2), 0, 0);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)STUB_THREADS, 0, L_KILL);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)STUB_END, L_KILL, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, (uint32_t)(STUB_AREA_SIZE - 1), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, AREA_CONST_OFF + CONST_CPU_MASK, L_ALLOW, L_KILL);
}

/* The control thread's mappings: the memory file shared (STUB_MEMFD),
 * or host files private (fds from STUB_FILEFD on), which it opens by
 * paths the kernel wrote into the read-only orders page
 * (ORDER_MMAP_FILE) and closes again (ORDER_CLOSE_FILES); it never
 * closes the memory file. */
static void file_rules(struct prog *p)
{
	const uint32_t paths = (uint32_t)(STUB_ORDERS + ORDERS_FILE_PATHS);
	const uint32_t paths_end = paths + STUB_MAX_FILE_PATHS * STUB_FILE_PATH_LEN;
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 8);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(3), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, MAP_SHARED | MAP_FIXED, 0, 2);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(4), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, STUB_MEMFD, L_ALLOW, L_KILL);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, MAP_PRIVATE | MAP_FIXED, 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(4), 0, 0);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, STUB_FILEFD, 0, L_KILL);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, STUB_FILEFD + STUB_MAX_FILE_PATHS, L_KILL, L_ALLOW);

	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 7);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(2), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY | O_CLOEXEC, 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(1) + 4, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_ORDERS >> 32), 0, L_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(1), 0, 0);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, paths, 0, L_KILL);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, paths_end, L_KILL, L_ALLOW);

	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 2);
	emit(p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(0), 0, 0);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, STUB_FILEFD, L_ALLOW, L_KILL);
}

int seccomp_filter_build(enum filter_kind kind, uint32_t code_len,
			 struct stub_sock_filter *out)
{
	static __thread struct prog p;

	p.f = out;
	p.n = 0;

	emit(&p, BPF_LD | BPF_W | BPF_ABS, OFF_ARCH, 0, 0);
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, L_TRAP);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
	emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0x40000000, L_TRAP, 0); /* x32 */
	emit(&p, BPF_LD | BPF_W | BPF_ABS, OFF_IP_HI, 0, 0);
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_BASE >> 32), 0, L_TRAP);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, OFF_IP_LO, 0, 0);
	emit(&p, BPF_JMP | BPF_JGT | BPF_K, code_len, L_TRAP, 0);
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)STUB_BASE, L_TRAP, 0);

	/* From inside the stub: the allowed calls of this kind. */
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct stub_rule *r = &rules[i];
		if (!(r->kinds & (1u << kind)))
			continue;
		emit(&p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
		if (r->arg == ARG_ANY) {
			emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, L_ALLOW, 0);
			continue;
		}
		/* nr matches → check the argument; else next rule */
		emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 3);
		emit(&p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(r->arg), 0, 0);
		emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->v1, L_ALLOW, 0);
		emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->v2, L_ALLOW, L_KILL);
	}
	if (kind == FILTER_CONTROL)
		file_rules(&p);
	if (kind == FILTER_GUEST)
		cpu_mask_rule(&p);
	emit(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	/* The three verdicts (their order matches resolve()). */
	emit(&p, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
	emit(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	emit(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	resolve(&p);
	return p.n;
}
