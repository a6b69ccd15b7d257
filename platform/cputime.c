/* The host's CPU time of guest threads' host threads (platform/hostcpu.h).
 *
 * A guest thread runs on a host thread of its guest host-process, which
 * the host accounts like any thread: /proc/<pid>/task/<tid>/schedstat has
 * its run time in ns (exact) and .../stat its user and system time in
 * ticks (the split Linux reports, already scaled to the run time). Both
 * files stay open once found (an open /proc file names its thread, not a
 * number a later thread could take) and are read with pread: about 1.5 and
 * 3 us. Run time is split by stat's ratio and kept monotonic, as Linux's
 * cputime_adjust does.
 *
 * Which host thread: the control thread clones guest threads one at a
 * time in the order their orders were queued, and the host hands out
 * thread ids in increasing order (wrapping at pid_max). So the threads of
 * /proc/<pid>/task that are neither the control thread (the pid) nor
 * known yet are, in creation order, the unknown hostcpus in clone order.
 * Nothing the guest writes is consulted. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/kernel.h"
#include "platform/hostcpu.h"

#define NSEC_PER_SEC 1000000000LL

struct raw_cputime {
	int64_t user, sys; /* tick-based, in ns */
	int64_t run;       /* exact, ns */
	int64_t minflt, majflt; /* page faults the host resolved for the thread */
	int64_t nivcsw;    /* involuntary context switches (status), if asked for */
};

struct hostcpu {
	uint32_t clone_seq;  /* 0: not cloned yet */
	pid_t tid;           /* 0: not known yet */
	int fd_stat, fd_sched, fd_status;
	bool rebase;         /* handed out: the next figures start from the counters then */
	struct raw_cputime base;
	int64_t prev_user, prev_sys; /* the last figures given (monotonic) */
	int64_t prev_minflt, prev_majflt;
	int64_t prev_nivcsw;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void hostcpu_lock(void)
{
	pthread_mutex_lock(&lock);
}

void hostcpu_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

struct hostcpu *hostcpu_new(void)
{
	struct hostcpu *c = calloc(1, sizeof(*c));
	if (c)
		c->fd_stat = c->fd_sched = c->fd_status = -1;
	return c;
}

void hostcpu_set_clone_seq(struct hostcpu *c, uint32_t seq)
{
	if (c)
		c->clone_seq = seq;
}

void hostcpu_free(struct hostcpu *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&lock);
	if (c->fd_stat >= 0)
		close(c->fd_stat);
	if (c->fd_sched >= 0)
		close(c->fd_sched);
	if (c->fd_status >= 0)
		close(c->fd_status);
	free(c);
	pthread_mutex_unlock(&lock);
}

void hostcpu_handout(struct hostcpu *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&lock);
	c->rebase = true;
	c->prev_user = c->prev_sys = 0;
	c->prev_minflt = c->prev_majflt = c->prev_nivcsw = 0;
	pthread_mutex_unlock(&lock);
}

bool hostcpu_rebase_due(const struct hostcpu *c)
{
	return c && __atomic_load_n(&c->rebase, __ATOMIC_RELAXED);
}

bool hostcpu_needs_open(const struct hostcpu *c)
{
	return c && (c->fd_stat < 0 || c->fd_sched < 0 || c->fd_status < 0);
}

bool hostcpu_needs_family(const struct hostcpu *c)
{
	return c->tid == 0;
}

/* ---- finding the thread ----------------------------------------------- */

static int cmp_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static int cmp_seq(const void *a, const void *b)
{
	uint32_t x = (*(struct hostcpu *const *)a)->clone_seq, y = (*(struct hostcpu *const *)b)->clone_seq;
	return (x > y) - (x < y);
}

/* Put ids sorted ascending into creation order: they were handed out
 * increasing, so a wrap-around shows as the largest gap between
 * neighbours (counted round the circle); the oldest follows it. */
static void creation_order(pid_t *v, size_t n)
{
	if (n < 2)
		return;
	qsort(v, n, sizeof(*v), cmp_tid);
	size_t start = 0;
	int64_t gap = (int64_t)v[0] + (1LL << 22) - v[n - 1]; /* past pid_max's ceiling */
	for (size_t i = 1; i < n; i++)
		if (v[i] - v[i - 1] > gap) {
			gap = v[i] - v[i - 1];
			start = i;
		}
	pid_t *tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return;
	for (size_t i = 0; i < n; i++)
		tmp[i] = v[(start + i) % n];
	memcpy(v, tmp, n * sizeof(*v));
	free(tmp);
}

static bool known_tid(const struct hostcpu_family *f, pid_t tid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i] && f->v[i]->tid == tid)
			return true;
	return false;
}

/* Give the unknown threads of the family their ids. */
static void find_tids(const struct hostcpu_family *f)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)f->pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	size_t n = 0, cap = 16;
	pid_t *fresh = malloc(cap * sizeof(*fresh));
	struct dirent *e;
	while (fresh && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || tid == f->pid || known_tid(f, tid))
			continue;
		if (n == cap) {
			pid_t *v = realloc(fresh, 2 * cap * sizeof(*v));
			if (!v)
				break;
			fresh = v;
			cap *= 2;
		}
		fresh[n++] = tid;
	}
	closedir(d);
	struct hostcpu **unknown = calloc(f->n ? f->n : 1, sizeof(*unknown));
	size_t m = 0;
	for (size_t i = 0; unknown && i < f->n; i++)
		if (f->v[i] && !f->v[i]->tid && f->v[i]->clone_seq)
			unknown[m++] = f->v[i];
	if (fresh && unknown && n <= m) {
		creation_order(fresh, n);
		qsort(unknown, m, sizeof(*unknown), cmp_seq);
		for (size_t i = 0; i < n; i++)
			unknown[i]->tid = fresh[i];
	} else if (n > m) {
		klog("host process %d has %zu threads the platform did not make", (int)f->pid, n - m);
	}
	free(unknown);
	free(fresh);
}

int hostcpu_open(struct hostcpu *c, const struct hostcpu_family *f)
{
	if (!c)
		return -ENOMEM;
	if (c->fd_stat >= 0 && c->fd_sched >= 0 && c->fd_status >= 0)
		return 0;
	if (!c->tid)
		find_tids(f);
	if (!c->tid)
		return -ESRCH;
	char path[80];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)f->pid, (int)c->tid);
	if (c->fd_stat < 0)
		c->fd_stat = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)f->pid, (int)c->tid);
	if (c->fd_sched < 0)
		c->fd_sched = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)f->pid, (int)c->tid);
	if (c->fd_status < 0)
		c->fd_status = open(path, O_RDONLY | O_CLOEXEC);
	return c->fd_stat >= 0 && c->fd_sched >= 0 && c->fd_status >= 0 ? 0 : -ESRCH;
}

/* ---- reading ------------------------------------------------------------ */

static long clk_tck(void)
{
	static long hz;
	if (!hz) {
		long v = sysconf(_SC_CLK_TCK);
		hz = v > 0 ? v : 100;
	}
	return hz;
}

/* The thread's involuntary context switches so far (its status file's
 * nonvoluntary_ctxt_switches, about 3 us): 0 or -errno. */
static int read_nivcsw(struct hostcpu *c, int64_t *n)
{
	char buf[2048];
	if (c->fd_status < 0)
		return -ESRCH;
	ssize_t len = pread(c->fd_status, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		return -ESRCH;
	buf[len] = 0;
	const char *s = strstr(buf, "\nnonvoluntary_ctxt_switches:");
	if (!s)
		return -EIO;
	*n = strtoll(s + strlen("\nnonvoluntary_ctxt_switches:"), NULL, 10);
	return 0;
}

static int read_raw(struct hostcpu *c, struct raw_cputime *r)
{
	char buf[512];
	if (c->fd_stat < 0 || c->fd_sched < 0)
		return -ESRCH;
	ssize_t n = pread(c->fd_sched, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	r->run = strtoll(buf, NULL, 10);
	n = pread(c->fd_stat, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	/* Fields after the command's closing parenthesis: state is the 3rd,
	 * minflt the 10th, majflt the 12th, utime and stime the 14th and 15th. */
	char *s = strrchr(buf, ')');
	if (!s)
		return -EIO;
	s++;
	for (int field = 3; field < 10 && s; field++)
		s = strchr(s + 1, ' ');
	if (!s)
		return -EIO;
	char *end;
	long long fields[5]; /* minflt, cminflt, majflt, cmajflt, utime */
	for (int i = 0; i < 5; i++) {
		fields[i] = strtoll(s, &end, 10);
		s = end;
	}
	r->minflt = fields[0];
	r->majflt = fields[2];
	long long ut = fields[4], st = strtoll(s, NULL, 10);
	r->user = ut * (NSEC_PER_SEC / clk_tck());
	r->sys = st * (NSEC_PER_SEC / clk_tck());
	return 0;
}

void hostcpu_rebase(struct hostcpu *c)
{
	struct raw_cputime r;
	if (!c || read_raw(c, &r))
		return;
	if (read_nivcsw(c, &r.nivcsw))
		r.nivcsw = 0;
	c->base = r;
	c->prev_user = c->prev_sys = 0;
	c->prev_minflt = c->prev_majflt = c->prev_nivcsw = 0;
	__atomic_store_n(&c->rebase, false, __ATOMIC_RELAXED);
}

/* Linux's cputime_adjust: the exact run time split in the ratio of the
 * sampled user and system times, never less than what was given before. */
static void adjust(struct hostcpu *c, int64_t user, int64_t sys, int64_t run)
{
	if (c->prev_user + c->prev_sys >= run)
		return;
	if (sys <= 0)
		user = run, sys = 0;
	else if (user <= 0)
		sys = run, user = 0;
	else
		sys = (int64_t)((__int128)sys * run / (sys + user));
	if (sys < c->prev_sys)
		sys = c->prev_sys;
	user = run - sys;
	if (user < c->prev_user) {
		user = c->prev_user;
		sys = run - user;
	}
	c->prev_user = user;
	c->prev_sys = sys;
}

int hostcpu_read(struct hostcpu *c, struct thread_usage *u)
{
	*u = (struct thread_usage){ 0 };
	if (!c)
		return -ENOMEM;
	int err = 0;
	if (!c->rebase) { /* handed out and not run since: nothing yet */
		struct raw_cputime r;
		err = read_raw(c, &r);
		if (!err) {
			adjust(c, r.user - c->base.user, r.sys - c->base.sys, r.run - c->base.run);
			c->prev_minflt = MAX(c->prev_minflt, r.minflt - c->base.minflt);
			c->prev_majflt = MAX(c->prev_majflt, r.majflt - c->base.majflt);
		}
	}
	*u = (struct thread_usage){ c->prev_user, c->prev_sys, c->prev_minflt, c->prev_majflt };
	return err;
}

int hostcpu_read_nivcsw(struct hostcpu *c, int64_t *n)
{
	*n = 0;
	if (!c)
		return -ENOMEM;
	int err = 0;
	if (!c->rebase) { /* handed out and not run since: nothing yet */
		int64_t now;
		err = read_nivcsw(c, &now);
		if (!err)
			c->prev_nivcsw = MAX(c->prev_nivcsw, now - c->base.nivcsw);
	}
	*n = c->prev_nivcsw;
	return err;
}
