/* The SysV IPC limits in /proc/sys/kernel (Linux's ipc/ipc_sysctl.c, with
 * the parts of kernel/sysctl.c it uses): one namespace, the sandbox's.
 * A read from offset 0 shows the values as Linux prints them ("%lu\n";
 * ints joined by tabs) as they are now; a read further on finds the end.
 * Writes go through Linux's parser: numbers in C notation (0x hex, 0
 * octal) separated by white space, each checked as it is read and stored
 * at once, so a bad second number leaves the first one set; what is left
 * after the last value is not consumed (a short write). Only root writes
 * them (euid 0, checked at open and again at each write, as Linux's
 * sysctl_perm: capabilities do not count), and only at offset 0
 * (sysctl_writes_strict: a write further on is ignored). */
#include <limits.h>
#include <string.h>
#include "ipc/ipc.h"
#include "fs/pseudofs.h"
#include "kernel/task.h"

struct ipc_ns_limits ipc_ns = {
	.shm_ctlmax = SHMMAX, .shm_ctlall = SHMALL, .shm_ctlmni = SHMMNI,
	.msg_ctlmax = MSGMAX, .msg_ctlmnb = MSGMNB, .msg_ctlmni = MSGMNI,
	.sem_ctls = { SEMMSL, SEMMNS, SEMOPM, SEMMNI },
};

/* What a writer set: nothing more to do (0), or an error for the write
 * (the values parsed are kept, as in Linux). */
typedef int (*sysctl_written_fn)(int err, const int *saved);

struct ipc_sysctl {
	const char *name;
	unsigned long *ulong;  /* proc_doulongvec_minmax without bounds; else */
	int *ints;             /* proc_dointvec(_minmax): count of them */
	int count;
	bool bounded;          /* the ints' range, _minmax */
	int min, max;
	sysctl_written_fn written;
};

/* "sem" is proc_dointvec, any int, but semmni must stay within
 * [0, IPCMNI]: else it gets its old value back and the write ERANGE
 * (Linux's proc_ipc_sem_dointvec and sem_check_semmni). */
static int sem_written(int err, const int *saved)
{
	int mni = ipc_limit(sem_ctls[SEM_SEMMNI]);
	if (!err && (mni < 0 || mni > IPCMNI))
		err = -ERANGE;
	if (err)
		__atomic_store_n(&ipc_ns.sem_ctls[SEM_SEMMNI], saved[SEM_SEMMNI], __ATOMIC_RELAXED);
	return err;
}

/* Setting shm_rmid_forced removes the orphans nobody uses at once
 * (Linux's proc_ipc_dointvec_minmax_orphans). */
static int rmid_forced_written(int err, const int *saved)
{
	if (!err && ipc_limit(shm_rmid_forced))
		shm_destroy_orphaned();
	return err;
}

static const struct ipc_sysctl ipc_sysctls[] = {
	{ "msgmax", .ints = &ipc_ns.msg_ctlmax, .count = 1, .bounded = true, .min = 0, .max = INT_MAX },
	{ "msgmnb", .ints = &ipc_ns.msg_ctlmnb, .count = 1, .bounded = true, .min = 0, .max = INT_MAX },
	{ "msgmni", .ints = &ipc_ns.msg_ctlmni, .count = 1, .bounded = true, .min = 0, .max = IPCMNI },
	{ "sem", .ints = ipc_ns.sem_ctls, .count = 4, .written = sem_written },
	{ "shm_rmid_forced", .ints = &ipc_ns.shm_rmid_forced, .count = 1, .bounded = true, .min = 0, .max = 1,
	  .written = rmid_forced_written },
	{ "shmall", .ulong = &ipc_ns.shm_ctlall, .count = 1 },
	{ "shmmax", .ulong = &ipc_ns.shm_ctlmax, .count = 1 },
	{ "shmmni", .ints = &ipc_ns.shm_ctlmni, .count = 1, .bounded = true, .min = 0, .max = IPCMNI },
};

/* Writers one at a time: "sem" puts semmni back after a bad write. */
static pthread_mutex_t sysctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Linux's parser (kernel/sysctl.c) ----------------------------------------- */

/* The kernel's isspace(): the C locale's, and Latin-1's no-break space. */
static bool k_isspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (unsigned char)c == 0xa0;
}

static void skip_spaces(const char **p, size_t *left)
{
	while (*left && k_isspace(**p)) {
		(*p)++;
		(*left)--;
	}
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

/* proc_get_long: a number of at most 20 characters (its sign included),
 * in C notation, followed by a space, tab, newline or the end; its value
 * must fit an unsigned long. 0 or -EINVAL. */
#define NUMBER_MAX 21
static int get_long(const char **p, size_t *left, unsigned long *val, bool *neg)
{
	char tmp[NUMBER_MAX + 1];
	size_t len = MIN(*left, (size_t)NUMBER_MAX);
	if (!len)
		return -EINVAL;
	memcpy(tmp, *p, len);
	tmp[len] = '\0';
	const char *q = tmp;
	*neg = *q == '-' && *left > 1;
	if (*neg)
		q++;
	if (*q < '0' || *q > '9')
		return -EINVAL;
	unsigned base = 10;
	if (q[0] == '0') {
		base = 8;
		if ((q[1] | 0x20) == 'x' && digit_value(q[2]) < 16) {
			base = 16;
			q += 2;
		}
	}
	unsigned long v = 0;
	for (; digit_value(*q) < (int)base; q++)
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, digit_value(*q), &v))
			return -EINVAL;
	size_t used = (size_t)(q - tmp);
	/* As long as the cut: the next character is unknown. */
	if (used == NUMBER_MAX)
		return -EINVAL;
	if (used < *left && *q != ' ' && *q != '\t' && *q != '\n')
		return -EINVAL;
	*val = v;
	*p += used;
	*left -= used;
	return 0;
}

/* One value as the entry's type and range take it (Linux's conv
 * functions): 0 or -EINVAL. */
static int store_value(const struct ipc_sysctl *e, int i, unsigned long v, bool neg)
{
	if (e->ulong) {
		if (neg)
			return -EINVAL;
		__atomic_store_n(&e->ulong[i], v, __ATOMIC_RELAXED);
		return 0;
	}
	if (v > (unsigned long)INT_MAX + neg)
		return -EINVAL;
	int val = neg ? (int)-(long)v : (int)v;
	if (e->bounded && (val < e->min || val > e->max))
		return -EINVAL;
	__atomic_store_n(&e->ints[i], val, __ATOMIC_RELAXED);
	return 0;
}

/* __do_proc_dointvec / __do_proc_doulongvec_minmax writing at offset 0:
 * the bytes consumed, or -errno. */
static ssize_t parse_values(const struct ipc_sysctl *e, const char *buf, size_t len)
{
	size_t left = MIN(len, (size_t)PAGE_SIZE - 1);
	const char *p = buf;
	bool first = true;
	int err = 0;
	for (int i = 0; left && i < e->count; i++, first = false) {
		skip_spaces(&p, &left);
		if (!left)
			break;
		unsigned long v;
		bool neg;
		err = get_long(&p, &left, &v, &neg);
		if (!err)
			err = store_value(e, i, v, neg);
		if (err)
			break;
	}
	if (!err)
		skip_spaces(&p, &left);
	if (first)
		return err ? err : -EINVAL; /* nothing but white space */
	return err ? err : (ssize_t)(len - left);
}

/* ---- the files --------------------------------------------------------------- */

/* What a read at pos gets: the values, at offset 0 only. */
static int sysctl_show(const struct pseudo_ctx *c, struct seqbuf *s, off_t pos)
{
	const struct ipc_sysctl *e = &ipc_sysctls[c->id[0]];
	if (pos)
		return 0;
	if (e->ulong) {
		seq_printf(s, "%lu\n", __atomic_load_n(e->ulong, __ATOMIC_RELAXED));
		return 0;
	}
	for (int i = 0; i < e->count; i++)
		seq_printf(s, "%s%d", i ? "\t" : "", __atomic_load_n(&e->ints[i], __ATOMIC_RELAXED));
	seq_printf(s, "\n");
	return 0;
}

static ssize_t sysctl_store(const struct pseudo_ctx *c, const char *buf, size_t len, off_t pos)
{
	const struct ipc_sysctl *e = &ipc_sysctls[c->id[0]];
	if (!current || current->proc->uid != 0) /* a root's file, written after setuid */
		return -EPERM;
	if (!len)
		return 0;
	if (pos)
		return (ssize_t)len; /* ignored, and the position moves on */
	pthread_mutex_lock(&sysctl_lock);
	int saved[4] = { 0 };
	for (int i = 0; e->ints && i < e->count; i++)
		saved[i] = e->ints[i];
	ssize_t ret = parse_values(e, buf, len);
	if (e->written) {
		int err = e->written(ret < 0 ? (int)ret : 0, saved);
		if (err)
			ret = err;
	}
	pthread_mutex_unlock(&sysctl_lock);
	return ret;
}

static const struct pseudo_node ipc_sysctl_file = {
	.mode = S_IFREG | 0644, .show_at = sysctl_show, .store_at = sysctl_store,
};

int ipc_sysctl_lookup(const struct pseudo_ctx *c, const char *name, const struct pseudo_node **node,
		      struct pseudo_ctx *child)
{
	for (size_t i = 0; i < ARRAY_SIZE(ipc_sysctls); i++)
		if (!strcmp(ipc_sysctls[i].name, name)) {
			*node = &ipc_sysctl_file;
			*child = (struct pseudo_ctx){ { (int64_t)i } };
			return 0;
		}
	return -ENOENT;
}

int ipc_sysctl_list(const struct pseudo_ctx *c, struct pseudo_lister *l)
{
	for (size_t i = 0; i < ARRAY_SIZE(ipc_sysctls); i++) {
		struct pseudo_ctx child = { { (int64_t)i } };
		int err = pseudo_emit(l, ipc_sysctls[i].name, &ipc_sysctl_file, &child);
		if (err)
			return err;
	}
	return 0;
}
