/* /proc/<pid>/ and /proc/<pid>/task/<tid>/: the files about one process
 * (Linux's fs/proc/base.c and array.c): stat, status, statm, cmdline,
 * environ, auxv, comm, limits, cgroup, the oom and login files, mounts.
 * The links and fds are fs/procfs_fd.c's, the maps fs/procfs_maps.c's.
 *
 * Fields the sandbox does not keep print what Linux prints for a value of
 * 0: fault counts, context switches, the controlling terminal,
 * the shared pending set. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fs/procfs_internal.h"
#include "kernel/cputime.h"
#include "kernel/ktime.h"
#include "kernel/signal.h"
#include "kernel/task.h"
#include "mm/mm.h"

#define USER_HZ 100 /* clock_t ticks, as sysconf(_SC_CLK_TCK) says */

/* What stat and status show, copied under the locks. */
struct snap {
	int pid, tid, ppid, pgid, sid, exit_signal, nice, exit_code;
	char state;
	bool self, zombie, leader_zombie, permitted, has_mm, has_fs, no_new_privs;
	bool has_affinity; /* the thread's CPU mask (else cocoon's own, the default) */
	uint64_t affinity[CPUMASK_WORDS];
	char comm[16];
	uint32_t ruid, uid, suid, fsuid, rgid, gid, sgid, fsgid;
	mode_t umask;
	int fdsize;
	int nr_threads;
	struct rlimit rlim[RLIM_NLIMITS];
	uint64_t blocked, pending, shpending, ignored, caught;
	int64_t start_ns; /* on the host's CLOCK_MONOTONIC */
	gaddr_t start_stack, start_brk, arg_start, arg_end, env_start, env_end;
	struct caps caps;
	struct group_list *groups; /* a reference: groups_put */
	struct pseudo_ctx ctx; /* the file's */
	int want_tid; /* the task directory's thread (0: the process) */
	bool want_task_counts; /* fill counts_task (status) */
	struct cputime cpu, cpu_thread, cpu_children; /* kernel/cputime.h */
	struct usage_counts counts, counts_thread, counts_children;
	/* status's context switches are one task's, as Linux's: the task
	 * directory's thread, else the leader (none once it has exited) */
	struct usage_counts counts_task;
	uint64_t hiwater_rss; /* bytes, as last brought up to date (mm/rss.c) */
};

/* The thread c names in p: its tid (the pid for the whole process), or
 * -1 if there is no such thread. */
static int ctx_tid(const struct pseudo_ctx *c, struct process *p)
{
	int tid = ctx_sub_tid(c);
	if (!tid || tid == p->pid)
		return p->pid;
	struct thread *t = tid_lookup(tid);
	return t && t->proc == p && !__atomic_load_n(&t->leaving, __ATOMIC_RELAXED) ? tid : -1;
}

static int take_snap(struct process *p, struct mm *mm, void *arg)
{
	struct snap *s = arg;
	/* The task shown: the directory's thread, else the leader (Linux's
	 * task of the inode); NULL once it has left (a zombie leader). */
	struct thread *t = proc_thread_locked(&s->ctx, p);
	s->self = current && current->proc == p;
	s->zombie = p->state != PROC_ALIVE;
	s->leader_zombie = !s->zombie && !t;
	/* Running: the reading thread itself, or a thread in guest code;
	 * blocked in a system call counts as sleeping. */
	bool running = t && (t == current || atomic_load(&t->in_guest));
	s->state = s->zombie || s->leader_zombie ? 'Z' : p->stopped ? 'T' : running ? 'R' : 'S';
	s->permitted = proc_may_access_locked(p);
	s->pid = p->pid;
	s->ppid = p->parent ? p->parent->pid : 0;
	s->pgid = p->pgid;
	s->sid = p->sid;
	/* Linux's exit_signal of a thread that is not the leader is -1. */
	s->exit_signal = ctx_sub_tid(&s->ctx) && ctx_sub_tid(&s->ctx) != p->pid ? -1 : p->exit_signal;
	/* A process whose last thread is on its way out already has its
	 * status (the window before it is marked a zombie). */
	s->exit_code = s->zombie || (s->leader_zombie && p->exited) ? p->exit_status : 0;
	memcpy(s->comm, t ? t->comm : p->comm, sizeof(s->comm));
	s->comm[15] = '\0';
	s->ruid = p->ruid;
	s->uid = p->uid;
	s->suid = p->suid;
	s->fsuid = p->fsuid;
	s->rgid = p->rgid;
	s->gid = p->gid;
	s->sgid = p->sgid;
	s->fsgid = p->fsgid;
	s->shpending = p->shared_pending.set;
	/* Linux's signal->nr_threads: the leader counts until the group is
	 * reaped, even once it has exited (it waits as a zombie). */
	s->nr_threads = p->nr_threads + (p->threads && p->threads->tid != p->pid);
	if (s->nr_threads < 1)
		s->nr_threads = 1;
	s->umask = t && t->fs ? fs_struct_umask(t->fs) : 0;
	s->caps = p->ext.caps;
	s->groups = groups_ref(p->ext.groups);
	s->has_fs = t && t->fs;
	s->fdsize = proc_fdsize_locked(t);
	memcpy(s->rlim, p->rlimits, sizeof(s->rlim));
	pthread_mutex_lock(&p->sighand->lock);
	for (int k = 0; k < 64; k++) {
		uint64_t h = p->sighand->action[k].handler;
		if (h == (uint64_t)SIG_IGN)
			s->ignored |= 1ULL << k;
		else if (h != (uint64_t)SIG_DFL)
			s->caught |= 1ULL << k;
	}
	pthread_mutex_unlock(&p->sighand->lock);
	if (t) {
		s->blocked = t->sigmask;
		s->pending = t->pending.set;
		s->nice = t->nice;
		s->no_new_privs = t->no_new_privs;
		if ((s->has_affinity = t->cpu != NULL))
			memcpy(s->affinity, t->cpu->affinity, sizeof(s->affinity));
	}
	s->start_ns = proc_identity(p);
	cputime_process_locked(p, &s->cpu, &s->cpu_children);
	usage_process_locked(p, &s->counts, &s->counts_children);
	int task_tid = s->want_tid ? s->want_tid : p->pid;
	for (struct thread *u = p->threads; u; u = u->next_thread) {
		if (u->tid == s->want_tid) {
			cputime_thread_locked(u, &s->cpu_thread);
			usage_thread_locked(u, &s->counts_thread);
			s->counts_task = s->counts_thread;
		} else if (u->tid == task_tid && s->want_task_counts) {
			usage_thread_locked(u, &s->counts_task);
		}
	}
	s->has_mm = mm != NULL;
	return 0;
}

static int take_snap_mm(struct mm *mm, void *arg)
{
	struct snap *s = arg;
	pthread_rwlock_rdlock(&mm->lock);
	s->start_stack = mm->start_stack;
	s->start_brk = mm->start_brk;
	s->arg_start = mm->arg_start;
	s->arg_end = mm->arg_end;
	s->env_start = mm->env_start;
	s->env_end = mm->env_end;
	s->hiwater_rss = __atomic_load_n(&mm->hiwater_rss, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&mm->lock);
	return 0;
}

/* with_groups: keep the reference to the group list (else NULL). */
static int get_snap_groups(const struct pseudo_ctx *c, struct snap *s, bool with_groups)
{
	memset(s, 0, sizeof(*s));
	s->ctx = *c;
	s->want_tid = ctx_sub_tid(c);
	s->want_task_counts = with_groups; /* status, the one caller wanting both */
	int err = proc_with_mm(c, false, take_snap, take_snap_mm, s);
	if (!with_groups) {
		groups_put(s->groups);
		s->groups = NULL;
	}
	if (err)
		return err;
	s->tid = ctx_sub_tid(c) ? ctx_sub_tid(c) : s->pid;
	return 0;
}

static int get_snap(const struct pseudo_ctx *c, struct snap *s)
{
	return get_snap_groups(c, s, false);
}

/* Nanoseconds since the sandbox's boot of a host CLOCK_MONOTONIC time. */
static int64_t since_boot_ns(int64_t host_mono_ns)
{
	return host_mono_ns + ktime_host_offset_ns(CLOCK_BOOTTIME, CLOCK_MONOTONIC);
}

/* ---- stat, statm, status ---------------------------------------------------- */

static int show_stat(const struct pseudo_ctx *c, struct seqbuf *out)
{
	struct snap s;
	struct proc_vmstat vm = { 0 };
	int err = get_snap(c, &s);
	if (err)
		return err;
	if (s.has_mm && (err = proc_vmstat(c, &vm)) && err != -ESRCH)
		return err;
	bool mm = s.has_mm, ok = s.permitted;
	int64_t start = since_boot_ns(s.start_ns);
	/* A task directory shows its thread's times, /proc/<pid> the whole
	 * process's; both its reaped children's. */
	const struct cputime *times = ctx_whole(c) ? &s.cpu : &s.cpu_thread;
	const struct usage_counts *counts = ctx_whole(c) ? &s.counts : &s.counts_thread;
	seq_printf(out, "%d (%s) %c %d %d %d %d %d %u %lld %lld %lld %lld %lld %lld %lld %lld %d %d %d 0 %llu",
		   s.tid, s.comm, s.state, s.ppid, s.pgid, s.sid, 0, -1,
		   /* PF_RANDOMIZE (PF_EXITING, PF_SIGNALED; a zombie leader's
		    * PF_EXITING, PF_POSTCOREDUMP, PF_NOFREEZE) */
		   s.zombie ? 0x00400044u : s.leader_zombie ? 0x0040800cu : 0x00400000u,
		   (long long)counts->minflt, (long long)s.counts_children.minflt,
		   (long long)counts->majflt, (long long)s.counts_children.majflt,
		   (long long)(times->user / (NSEC_PER_SEC / USER_HZ)),
		   (long long)(times->sys / (NSEC_PER_SEC / USER_HZ)),
		   (long long)(s.cpu_children.user / (NSEC_PER_SEC / USER_HZ)),
		   (long long)(s.cpu_children.sys / (NSEC_PER_SEC / USER_HZ)), 20 + s.nice, s.nice, s.nr_threads,
		   (unsigned long long)(start > 0 ? start / (NSEC_PER_SEC / USER_HZ) : 0));
	rlim_t rss = s.rlim[RLIMIT_RSS].rlim_cur;
	seq_printf(out, " %llu %llu %llu %llu %llu %llu 0 0",
		   (unsigned long long)vm.total,
		   (unsigned long long)((vm.rss_anon + vm.rss_file + vm.rss_shmem) / PAGE_SIZE),
		   (unsigned long long)rss,
		   (unsigned long long)(mm ? (ok ? vm.start_code : 1) : 0),
		   (unsigned long long)(mm ? (ok ? vm.end_code : 1) : 0),
		   (unsigned long long)(mm && ok ? s.start_stack : 0));
	int cpu = s.self ? sched_getcpu() : 0;
	seq_printf(out, " %llu %llu %llu %llu %d 0 0 %d %d 0 0 0 0 0",
		   (unsigned long long)(s.pending & 0x7fffffff),
		   (unsigned long long)(s.blocked & 0x7fffffff),
		   (unsigned long long)(s.ignored & 0x7fffffff),
		   (unsigned long long)(s.caught & 0x7fffffff),
		   /* Linux's wchan: a whole group of threads shows none */
		   ok && (!ctx_whole(c) || s.nr_threads < 2) && s.state != 'R' && !s.zombie,
		   s.exit_signal, cpu < 0 ? 0 : cpu);
	if (mm && ok)
		seq_printf(out, " %llu %llu %llu %llu %llu %llu %llu",
			   (unsigned long long)vm.start_data, (unsigned long long)vm.end_data,
			   (unsigned long long)s.start_brk, (unsigned long long)s.arg_start,
			   (unsigned long long)s.arg_end, (unsigned long long)s.env_start,
			   (unsigned long long)s.env_end);
	else
		seq_printf(out, " 0 0 0 0 0 0 0");
	seq_printf(out, " %d\n", ok ? s.exit_code : 0);
	return 0;
}

static int show_statm(const struct pseudo_ctx *c, struct seqbuf *out)
{
	struct proc_vmstat vm = { 0 };
	int err = proc_vmstat(c, &vm);
	if (err)
		return err;
	if (!vm.total) { /* a zombie: no mm */
		seq_printf(out, "0 0 0 0 0 0 0\n");
		return 0;
	}
	seq_printf(out, "%llu %llu %llu %llu 0 %llu 0\n", (unsigned long long)(vm.total / PAGE_SIZE),
		   (unsigned long long)((vm.rss_anon + vm.rss_file + vm.rss_shmem) / PAGE_SIZE),
		   (unsigned long long)((vm.rss_file + vm.rss_shmem) / PAGE_SIZE),
		   (unsigned long long)(vm.text / PAGE_SIZE),
		   (unsigned long long)((vm.data + vm.stack) / PAGE_SIZE));
	return 0;
}

/* Lines of cocoon's own status that describe the host (CPU and memory
 * placement, speculation mitigations, THP): the same for the guest. */
static pthread_once_t host_status_once = PTHREAD_ONCE_INIT;
static char *host_status;

static void host_status_load(void)
{
	FILE *fp = fopen("/proc/self/status", "re");
	if (!fp)
		return;
	size_t cap = 0;
	if (getdelim(&host_status, &cap, '\0', fp) < 0) {
		free(host_status);
		host_status = NULL;
	}
	fclose(fp);
}

static const char *host_status_line(const char *key)
{
	pthread_once(&host_status_once, host_status_load);
	size_t k = strlen(key);
	for (const char *l = host_status; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':')
			return l;
	return NULL;
}

static void host_line(struct seqbuf *out, const char *key, const char *fallback)
{
	const char *l = host_status_line(key);
	if (l)
		seq_write(out, l, strchrnul(l, '\n') - l);
	else
		seq_printf(out, "%s:\t%s", key, fallback);
	seq_printf(out, "\n");
}

/* Cpus_allowed and Cpus_allowed_list of a thread's mask: Linux's %*pb
 * (hex, nr_cpu_ids bits, commas between groups of 32) as wide as the
 * host's own line, and %*pbl (ranges). */
static void cpus_allowed(struct seqbuf *out, const uint64_t *mask)
{
	const char *l = host_status_line("Cpus_allowed");
	int digits = 0;
	for (l = l ? l + strlen("Cpus_allowed:") : NULL; l && *l && *l != '\n'; l++)
		digits += (*l >= '0' && *l <= '9') || (*l >= 'a' && *l <= 'f');
	if (digits < 1 || digits > CPUMASK_WORDS * 16)
		digits = 1;
	seq_printf(out, "Cpus_allowed:\t");
	for (int d = digits - 1; d >= 0; d--) {
		seq_printf(out, "%x", (unsigned)(mask[d / 16] >> (d % 16 * 4)) & 0xf);
		if (d && d % 8 == 0)
			seq_printf(out, ",");
	}
	seq_printf(out, "\nCpus_allowed_list:\t");
	bool first = true;
	for (int b = 0; b < digits * 4; b++) {
		if (!(mask[b / 64] >> (b % 64) & 1))
			continue;
		int e = b;
		while (e + 1 < digits * 4 && (mask[(e + 1) / 64] >> ((e + 1) % 64) & 1))
			e++;
		seq_printf(out, e > b ? "%s%d-%d" : "%s%d", first ? "" : ",", b, e);
		first = false;
		b = e;
	}
	seq_printf(out, "\n");
}

/* comm with Linux's escapes for status (ESCAPE_SPACE | ESCAPE_SPECIAL,
 * "\n\\" only): \n and \\ as such, other controls in octal. */
static void escaped_comm(struct seqbuf *out, const char *comm)
{
	for (const unsigned char *c = (const unsigned char *)comm; *c; c++) {
		switch (*c) {
		case '\n': seq_printf(out, "\\n"); break;
		case '\\': seq_printf(out, "\\\\"); break;
		default: seq_write(out, c, 1); break;
		}
	}
}

static int show_status(const struct pseudo_ctx *c, struct seqbuf *out)
{
	struct snap s;
	struct proc_vmstat vm = { 0 };
	int err = get_snap_groups(c, &s, true);
	if (err)
		return err;
	if (s.has_mm && (err = proc_vmstat(c, &vm)) && err != -ESRCH) {
		groups_put(s.groups);
		return err;
	}
	seq_printf(out, "Name:\t");
	escaped_comm(out, s.comm);
	seq_printf(out, "\n");
	if (s.has_fs)
		seq_printf(out, "Umask:\t%#04o\n", s.umask);
	seq_printf(out, "State:\t%s\n", s.state == 'Z' ? "Z (zombie)" : s.state == 'R' ? "R (running)"
		   : s.state == 'T' ? "T (stopped)" : "S (sleeping)");
	seq_printf(out, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", s.pid, s.tid, s.ppid);
	seq_printf(out, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", s.ruid, s.uid, s.suid,
		   s.fsuid, s.rgid, s.gid, s.sgid, s.fsgid);
	seq_printf(out, "FDSize:\t%d\nGroups:\t", s.fdsize);
	for (int k = 0; s.groups && k < s.groups->n; k++)
		seq_printf(out, "%s%u", k ? " " : "", s.groups->gid[k]);
	groups_put(s.groups);
	seq_printf(out, " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n",
		   s.pid, s.tid, s.pgid, s.sid);
	if (s.has_mm) {
		uint64_t rss = vm.rss_anon + vm.rss_file + vm.rss_shmem;
		uint64_t hwm = MAX(rss, s.hiwater_rss); /* Linux's get_mm_hiwater_rss */
#define KB(x) (unsigned long long)((x) >> 10)
		seq_printf(out, "VmPeak:\t%8llu kB\nVmSize:\t%8llu kB\nVmLck:\t%8llu kB\n"
			   "VmPin:\t%8llu kB\nVmHWM:\t%8llu kB\nVmRSS:\t%8llu kB\n"
			   "RssAnon:\t%8llu kB\nRssFile:\t%8llu kB\nRssShmem:\t%8llu kB\n"
			   "VmData:\t%8llu kB\nVmStk:\t%8llu kB\nVmExe:\t%8llu kB\n"
			   "VmLib:\t%8llu kB\nVmPTE:\t%8llu kB\nVmSwap:\t%8llu kB\n"
			   "HugetlbPages:\t%8llu kB\nCoreDumping:\t0\n",
			   KB(vm.total), KB(vm.total), KB(vm.locked), 0ULL, KB(hwm), KB(rss), KB(vm.rss_anon),
			   KB(vm.rss_file), KB(vm.rss_shmem), KB(vm.data), KB(vm.stack), KB(vm.text),
			   KB(vm.lib), 0ULL, 0ULL, 0ULL);
#undef KB
		host_line(out, "THP_enabled", "1");
		host_line(out, "untag_mask", "0xffffffffffffffff");
	}
	seq_printf(out, "Threads:\t%d\nSigQ:\t%d/%llu\n", s.nr_threads,
		   __builtin_popcountll(s.pending) + __builtin_popcountll(s.shpending),
		   (unsigned long long)s.rlim[RLIMIT_SIGPENDING].rlim_cur);
	seq_printf(out, "SigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\n"
		   "SigIgn:\t%016llx\nSigCgt:\t%016llx\n", (unsigned long long)s.pending,
		   (unsigned long long)s.shpending,
		   (unsigned long long)s.blocked, (unsigned long long)s.ignored,
		   (unsigned long long)s.caught);
	seq_printf(out, "CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\nCapBnd:\t%016llx\n"
		   "CapAmb:\t%016llx\n", (unsigned long long)s.caps.inh, (unsigned long long)s.caps.prm,
		   (unsigned long long)s.caps.eff, (unsigned long long)s.caps.bnd,
		   (unsigned long long)s.caps.amb);
	/* The guest installs no seccomp filter of its own (cocoon's are not
	 * the guest's). */
	seq_printf(out, "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", s.no_new_privs);
	host_line(out, "Speculation_Store_Bypass", "vulnerable");
	host_line(out, "SpeculationIndirectBranch", "always enabled");
	if (s.has_affinity) {
		cpus_allowed(out, s.affinity);
	} else {
		host_line(out, "Cpus_allowed", "1");
		host_line(out, "Cpus_allowed_list", "0");
	}
	host_line(out, "Mems_allowed", "1");
	host_line(out, "Mems_allowed_list", "0");
	seq_printf(out, "voluntary_ctxt_switches:\t%lld\nnonvoluntary_ctxt_switches:\t%lld\n",
		   (long long)s.counts_task.nvcsw, (long long)s.counts_task.nivcsw);
	return 0;
}

/* ---- cmdline, environ, auxv: the process's own memory ------------------------- */

struct mem_read {
	char *buf;
	size_t len;
	int what; /* 0 cmdline, 1 environ, 2 auxv */
};

/* Linux's get_mm_cmdline: [arg_start, arg_end), or, when the process
 * wrote over the NUL that ends its arguments (setproctitle), the string
 * at arg_start up to its NUL within a page, running on into the
 * environment area if that follows the arguments. */
static int read_cmdline(struct mm *mm, struct mem_read *r)
{
	gaddr_t as = mm->arg_start, ae = mm->arg_end, es = mm->env_start, ee = mm->env_end;
	if (!ee || as >= ae)
		return 0;
	if (es != ae || ee < es)
		es = ee = ae;
	char last = 0;
	if (mm_read_remote(mm, ae - 1, &last, 1) == 1 && last) {
		if (!(r->buf = malloc(PAGE_SIZE)))
			return -ENOMEM;
		size_t want = MIN((size_t)PAGE_SIZE, ee - as);
		long got = mm_read_remote(mm, as, r->buf, want);
		size_t n = strnlen(r->buf, got);
		r->len = n < (size_t)got ? n + 1 : n; /* the NUL if found */
		return 0;
	}
	if (!(r->buf = malloc(ae - as)))
		return -ENOMEM;
	r->len = mm_read_remote(mm, as, r->buf, ae - as);
	return 0;
}

/* auxv lies above the initial stack's argument and environment
 * pointers; read from there (the process may have changed it since, but
 * programs do not). */
static int read_auxv(struct mm *mm, struct mem_read *r)
{
	gaddr_t sp = mm->start_stack;
	uint64_t argc, w;
	if (!sp || mm_read_remote(mm, sp, &argc, 8) != 8 || argc > (1 << 20))
		return 0;
	gaddr_t p = sp + 8 * (argc + 2);
	for (int k = 0; k < 4096; k++, p += 8) /* the environment pointers */
		if (mm_read_remote(mm, p, &w, 8) != 8 || !w)
			break;
	p += 8;
	size_t cap = 64 * 16;
	if (!(r->buf = malloc(cap)))
		return -ENOMEM;
	while (r->len + 16 <= cap) {
		uint64_t pair[2];
		if (mm_read_remote(mm, p, pair, 16) != 16)
			break;
		memcpy(r->buf + r->len, pair, 16);
		r->len += 16;
		p += 16;
		if (pair[0] == 0) /* AT_NULL ends it, included */
			break;
	}
	return 0;
}

static int mem_present(struct process *p, struct mm *mm, void *arg)
{
	struct mem_read *r = arg;
	if (!mm) /* a zombie: cmdline is empty, the others cannot be opened */
		return r->what == 0 ? 0 : -ESRCH;
	return 0;
}

static int read_mem(struct mm *mm, void *arg)
{
	struct mem_read *r = arg;
	if (r->what == 0)
		return read_cmdline(mm, r);
	if (r->what == 2)
		return read_auxv(mm, r);
	gaddr_t es = mm->env_start, ee = mm->env_end;
	if (!ee || es >= ee)
		return 0;
	if (!(r->buf = malloc(ee - es)))
		return -ENOMEM;
	r->len = mm_read_remote(mm, es, r->buf, ee - es);
	return 0;
}

static int show_mem(const struct pseudo_ctx *c, struct seqbuf *out, int what)
{
	struct mem_read r = { .what = what };
	/* cmdline is for everyone; environ and auxv need ptrace access. */
	int err = proc_with_mm(c, what != 0, mem_present, read_mem, &r);
	if (!err && r.len)
		seq_write(out, r.buf, r.len);
	free(r.buf);
	return err;
}

static int show_cmdline(const struct pseudo_ctx *c, struct seqbuf *out) { return show_mem(c, out, 0); }
static int show_environ(const struct pseudo_ctx *c, struct seqbuf *out) { return show_mem(c, out, 1); }
static int show_auxv(const struct pseudo_ctx *c, struct seqbuf *out) { return show_mem(c, out, 2); }

/* ---- comm ------------------------------------------------------------------- */

static int show_comm(const struct pseudo_ctx *c, struct seqbuf *out)
{
	struct snap s;
	int err = get_snap(c, &s);
	if (!err)
		seq_printf(out, "%s\n", s.comm);
	return err;
}

/* Linux's comm_write: the first 15 bytes as they are (a newline too),
 * as the name of the directory's task (the leader for /proc/<pid>/comm,
 * whose name stays the process's once it has left), and only a thread
 * of the process itself may (EINVAL otherwise). */
static ssize_t store_comm(const struct pseudo_ctx *c, const char *buf, size_t len)
{
	char name[16] = { 0 };
	memcpy(name, buf, MIN(len, sizeof(name) - 1));
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	ssize_t ret = !p ? -ESRCH : (!current || current->proc != p) ? -EINVAL : (ssize_t)len;
	if (ret > 0) {
		pthread_mutex_lock(&p->lock);
		struct thread *t = proc_thread_locked(c, p);
		if (t)
			thread_set_comm_locked(t, name);
		else if (!ctx_sub_tid(c) || ctx_sub_tid(c) == p->pid)
			memcpy(p->comm, name, sizeof(name)); /* a zombie leader */
		else
			ret = -ESRCH;
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

/* ---- limits -------------------------------------------------------------------- */

static int show_limits(const struct pseudo_ctx *c, struct seqbuf *out)
{
	static const char *const names[RLIM_NLIMITS][2] = {
		[RLIMIT_CPU] = { "Max cpu time", "seconds" },
		[RLIMIT_FSIZE] = { "Max file size", "bytes" },
		[RLIMIT_DATA] = { "Max data size", "bytes" },
		[RLIMIT_STACK] = { "Max stack size", "bytes" },
		[RLIMIT_CORE] = { "Max core file size", "bytes" },
		[RLIMIT_RSS] = { "Max resident set", "bytes" },
		[RLIMIT_NPROC] = { "Max processes", "processes" },
		[RLIMIT_NOFILE] = { "Max open files", "files" },
		[RLIMIT_MEMLOCK] = { "Max locked memory", "bytes" },
		[RLIMIT_AS] = { "Max address space", "bytes" },
		[RLIMIT_LOCKS] = { "Max file locks", "locks" },
		[RLIMIT_SIGPENDING] = { "Max pending signals", "signals" },
		[RLIMIT_MSGQUEUE] = { "Max msgqueue size", "bytes" },
		[RLIMIT_NICE] = { "Max nice priority", NULL },
		[RLIMIT_RTPRIO] = { "Max realtime priority", NULL },
		[RLIMIT_RTTIME] = { "Max realtime timeout", "us" },
	};
	struct snap s;
	int err = get_snap(c, &s);
	if (err)
		return err;
	seq_printf(out, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int k = 0; k < RLIM_NLIMITS; k++) {
		char cur[24], max[24];
		snprintf(cur, sizeof(cur), "%llu", (unsigned long long)s.rlim[k].rlim_cur);
		snprintf(max, sizeof(max), "%llu", (unsigned long long)s.rlim[k].rlim_max);
		seq_printf(out, "%-25s %-20s %-20s ", names[k][0],
			   s.rlim[k].rlim_cur == RLIM_INFINITY ? "unlimited" : cur,
			   s.rlim[k].rlim_max == RLIM_INFINITY ? "unlimited" : max);
		if (names[k][1])
			seq_printf(out, "%-10s\n", names[k][1]);
		else
			seq_printf(out, "\n");
	}
	return 0;
}

/* ---- small files --------------------------------------------------------------- */

/* -ESRCH once the process is gone (reaped), else 0: for files whose text
 * does not depend on the process but that must vanish with it. */
static int proc_gone(const struct pseudo_ctx *c)
{
	pthread_mutex_lock(&tasklist_lock);
	bool ok = proc_get_locked(c) != NULL;
	pthread_mutex_unlock(&tasklist_lock);
	return ok ? 0 : -ESRCH;
}

#define FIXED(fn, text) \
	static int fn(const struct pseudo_ctx *c, struct seqbuf *out) \
	{ int err = proc_gone(c); if (!err) seq_printf(out, "%s", text); return err; }

FIXED(show_cgroup, "0::/\n")           /* one cgroup v2 root for everyone */
FIXED(show_zero, "0\n")                /* oom_score, oom_adj, oom_score_adj, wchan */
FIXED(show_unset_id, "4294967295")     /* loginuid, sessionid: never set */
FIXED(show_personality, "00000000\n")
/* uid_map, gid_map, setgroups: the initial user namespace's, the only
 * one; its maps are written already, so writes are EPERM like Linux's. */
FIXED(show_identity_map, "         0          0 4294967295\n")
FIXED(show_setgroups, "allow\n")

static ssize_t store_user_ns(const struct pseudo_ctx *c, const char *buf, size_t len)
{
	(void)buf;
	(void)len;
	int err = proc_gone(c);
	return err ? err : -EPERM;
}

/* oom_score_adj: any value in Linux's range is taken (and not kept: the
 * sandbox has no OOM killer of its own). */
static ssize_t store_oom_adj(const struct pseudo_ctx *c, const char *buf, size_t len, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ' || *end == '\t')
		end++;
	if (end == buf || *end || errno || v < lo || v > hi)
		return -EINVAL;
	int err = proc_gone(c);
	return err ? err : (ssize_t)len;
}

static ssize_t store_oom_score_adj(const struct pseudo_ctx *c, const char *buf, size_t len)
{
	return store_oom_adj(c, buf, len, -1000, 1000);
}

static ssize_t store_oom_adj_old(const struct pseudo_ctx *c, const char *buf, size_t len)
{
	return store_oom_adj(c, buf, len, -17, 15);
}

/* loginuid: Linux lets a process set its own once (with CAP_AUDIT_CONTROL
 * again); accepted and not kept. */
static ssize_t store_loginuid(const struct pseudo_ctx *c, const char *buf, size_t len)
{
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	ssize_t ret = !p ? -ESRCH : (!current || current->proc != p) ? -EPERM : (ssize_t)len;
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

static int show_mounts(const struct pseudo_ctx *c, struct seqbuf *out)
{
	int err = proc_gone(c);
	return err ? err : fs_show_mounts(out);
}

static int show_mountinfo(const struct pseudo_ctx *c, struct seqbuf *out)
{
	int err = proc_gone(c);
	return err ? err : fs_show_mountinfo(out);
}

/* ---- the directories ------------------------------------------------------------ */

static int task_lookup(const struct pseudo_ctx *c, const char *name,
		       const struct pseudo_node **node, struct pseudo_ctx *child);
static int task_list(const struct pseudo_ctx *c, struct pseudo_lister *l);

#define F(n, m, ...) { .name = n, .mode = S_IFREG | (m), .owner = proc_owner, __VA_ARGS__ }
#define LNK(n, what) { .name = n, .mode = S_IFLNK | 0777, .owner = proc_owner, \
	.readlink = proc_##what##_readlink, .jump = proc_##what##_jump }

/* Linux's order (tgid_base_stuff); the thread's directory has the same
 * entries but task. */
#define PER_TASK_ENTRIES \
	{ .name = "fd", .mode = S_IFDIR | 0500, .owner = proc_owner, .list = proc_fd_list, \
	  .lookup = proc_fd_lookup }, \
	{ .name = "fdinfo", .mode = S_IFDIR | 0555, .owner = proc_owner, \
	  .list = proc_fdinfo_list, .lookup = proc_fdinfo_lookup }, \
	F("environ", 0400, .show = show_environ), \
	F("auxv", 0400, .show = show_auxv), \
	F("status", 0444, .show = show_status), \
	F("personality", 0400, .show = show_personality), \
	F("limits", 0444, .show = show_limits), \
	F("comm", 0644, .show = show_comm, .store = store_comm), \
	F("cmdline", 0444, .show = show_cmdline), \
	F("stat", 0444, .show = show_stat), \
	F("statm", 0444, .show = show_statm), \
	F("maps", 0444, .show = proc_show_maps), \
	LNK("cwd", cwd), \
	LNK("root", root), \
	LNK("exe", exe), \
	F("mounts", 0444, .show = show_mounts), \
	F("mountinfo", 0444, .show = show_mountinfo), \
	F("smaps", 0444, .show = proc_show_smaps), \
	F("smaps_rollup", 0444, .show = proc_show_smaps_rollup), \
	F("wchan", 0444, .show = show_zero), \
	F("cgroup", 0444, .show = show_cgroup), \
	F("oom_score", 0444, .show = show_zero), \
	F("oom_adj", 0644, .show = show_zero, .store = store_oom_adj_old), \
	F("oom_score_adj", 0644, .show = show_zero, .store = store_oom_score_adj), \
	F("loginuid", 0644, .show = show_unset_id, .store = store_loginuid), \
	F("sessionid", 0444, .show = show_unset_id), \
	F("uid_map", 0644, .show = show_identity_map, .store = store_user_ns), \
	F("gid_map", 0644, .show = show_identity_map, .store = store_user_ns), \
	F("setgroups", 0644, .show = show_setgroups, .store = store_user_ns)

static const struct pseudo_node tid_children[] = {
	PER_TASK_ENTRIES,
	{ 0 },
};

static const struct pseudo_node pid_children[] = {
	{ .name = "task", .mode = S_IFDIR | 0555, .owner = proc_owner, .list = task_list,
	  .lookup = task_lookup },
	PER_TASK_ENTRIES,
	{ 0 },
};

/* The entries of a process's directory exist while the process does (a
 * directory kept open across its end is empty, its names ENOENT), so
 * they are generated rather than static children. */
static int dir_list(const struct pseudo_ctx *c, struct pseudo_lister *l,
		    const struct pseudo_node *table)
{
	int err = 0;
	if (proc_gone(c))
		return 0;
	for (const struct pseudo_node *n = table; n->name && !err; n++)
		err = pseudo_emit(l, n->name, n, c);
	return err;
}

static int dir_lookup(const struct pseudo_ctx *c, const char *name, const struct pseudo_node **node,
		      struct pseudo_ctx *child, const struct pseudo_node *table)
{
	int err = proc_gone(c);
	if (err)
		return err; /* ESRCH, like Linux for a directory kept open */
	for (const struct pseudo_node *n = table; n->name; n++)
		if (!strcmp(n->name, name)) {
			*node = n;
			*child = *c;
			return 0;
		}
	return -ENOENT;
}

static int pid_list(const struct pseudo_ctx *c, struct pseudo_lister *l) { return dir_list(c, l, pid_children); }
static int tid_list(const struct pseudo_ctx *c, struct pseudo_lister *l) { return dir_list(c, l, tid_children); }

static int pid_lookup_entry(const struct pseudo_ctx *c, const char *name,
			    const struct pseudo_node **node, struct pseudo_ctx *child)
{
	return dir_lookup(c, name, node, child, pid_children);
}

static int tid_lookup_entry(const struct pseudo_ctx *c, const char *name,
			    const struct pseudo_node **node, struct pseudo_ctx *child)
{
	return dir_lookup(c, name, node, child, tid_children);
}

static bool tid_valid(const struct pseudo_ctx *c)
{
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	bool ok = p && ctx_tid(c, p) == ctx_sub_tid(c);
	pthread_mutex_unlock(&tasklist_lock);
	return ok;
}

static const struct pseudo_node tid_dir = {
	.mode = S_IFDIR | 0555, .owner = proc_owner, .list = tid_list, .lookup = tid_lookup_entry,
	.valid = tid_valid,
};

const struct pseudo_node proc_pid_dir = {
	.mode = S_IFDIR | 0555, .owner = proc_owner, .list = pid_list, .lookup = pid_lookup_entry,
	.valid = proc_valid,
};

/* The threads: the leader's id (listed while the process lives, even
 * once the leader itself has left, as Linux keeps a zombie leader), then
 * the others. */
static int task_tids(const struct pseudo_ctx *c, int *tids, int max)
{
	int n = 0;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	if (p && max > 0)
		tids[n++] = p->pid;
	if (p) {
		pthread_mutex_lock(&p->lock);
		for (struct thread *t = p->threads; t && n < max; t = t->next_thread)
			if (t->tid != p->pid && !__atomic_load_n(&t->leaving, __ATOMIC_RELAXED))
				tids[n++] = t->tid;
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	return n;
}

static int task_list(const struct pseudo_ctx *c, struct pseudo_lister *l)
{
	int max = 64, n, err = 0;
	int *tids = NULL;
	for (;;) { /* until the list fits */
		int *more = realloc(tids, max * sizeof(*tids));
		if (!more) {
			free(tids);
			return -ENOMEM;
		}
		tids = more;
		if ((n = task_tids(c, tids, max)) < max)
			break;
		max *= 2;
	}
	for (int k = 0; k < n && !err; k++) {
		char name[16];
		struct pseudo_ctx t = *c;
		t.id[CTX_SUB] = tids[k];
		snprintf(name, sizeof(name), "%d", tids[k]);
		err = pseudo_emit(l, name, &tid_dir, &t);
	}
	free(tids);
	return err;
}

static int task_lookup(const struct pseudo_ctx *c, const char *name,
		       const struct pseudo_node **node, struct pseudo_ctx *child)
{
	char *end;
	long tid = strtol(name, &end, 10);
	if (*end || end == name || name[0] == '0' || tid <= 0 || tid > INT32_MAX)
		return -ENOENT;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	struct pseudo_ctx t = *c;
	t.id[CTX_SUB] = tid;
	bool found = p && ctx_tid(&t, p) == tid;
	pthread_mutex_unlock(&tasklist_lock);
	if (!found)
		return -ENOENT;
	*node = &tid_dir;
	*child = t;
	return 0;
}
