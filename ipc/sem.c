/* SysV semaphores (Linux's ipc/sem.c). One lock (sem_ids.lock) guards
 * every array, waiter and undo entry. A semop that cannot proceed queues
 * itself on its array and sleeps; whoever changes the values (semop,
 * SETVAL, SETALL, an exit's undo) retries the queued operations in order
 * and performs those that can go now on the sleeper's behalf, as Linux
 * does, then wakes it with the result. Sleeps end with EINTR at a signal
 * (never restarted, like Linux), EAGAIN at the timeout, EIDRM when the
 * array is removed.
 *
 * SEM_UNDO adjustments live in undo lists (Linux's sem_undo_list): each
 * thread holds one or none, made at its first SEM_UNDO; clone with
 * CLONE_SYSVSEM (as pthread_create does) shares the caller's, counted.
 * A thread leaving (exit, or unshare(CLONE_SYSVSEM)) drops its share;
 * the last one applies the adjustments, as Linux's exit_sem. execve
 * keeps the list. */
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include "ipc/ipc.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/waitq.h"
#include "mm/uaccess.h"
#include "fs/pseudofs.h"

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#define SEMMAP SEMMNS
#define SEMMNU SEMMNS
#define SEMUME SEMOPM
#define SEMUSZ 20

struct sembuf_guest {
	uint16_t sem_num;
	int16_t sem_op;
	int16_t sem_flg;
};

struct semid64_ds_guest {
	struct ipc64_perm_guest perm;
	int64_t otime;
	uint64_t unused1;
	int64_t ctime;
	uint64_t unused2;
	uint64_t nsems, unused3, unused4;
};
_Static_assert(sizeof(struct semid64_ds_guest) == 104, "semid64_ds");

struct seminfo_guest {
	int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

struct sem {
	int semval;
	int sempid;
};

struct sem_waiter;

struct sem_array {
	struct ipc_perm_k perm; /* first */
	int nsems;
	int64_t otime, ctime;
	struct sem_waiter *pending, **pending_tail; /* FIFO */
	struct sem sems[];
};

/* One undo list's adjustments for one array (freed with the array). */
struct sem_undo {
	struct sem_undo *next;   /* all undo entries */
	struct sem_undo_list *list;
	struct sem_array *sma;
	int semadj[];
};

/* The threads that share one set of adjustments (sem_ids.lock). */
struct sem_undo_list {
	int refs;
};

struct sem_waiter {
	struct sem_waiter *next;
	const struct sembuf_guest *sops;
	unsigned nsops;
	struct sem_undo *un;
	int pid;
	struct thread *t;
	int status;    /* 1 while queued, then 0 or -errno */
	int blocking;  /* the op it waits for (GETNCNT, GETZCNT) */
	bool alter;
};

static struct ipc_ids sem_ids = IPC_IDS_INIT;
static int used_sems; /* at most semmns, an int */
static struct sem_undo *undos;

static struct sem_array *sma_of(struct ipc_perm_k *p) { return (struct sem_array *)p; }

/* ---- the operations --------------------------------------------------- */

/* Linux's perform_atomic_semop: all of sops or none. 0 done, 1 must
 * wait (q->blocking set), or -EAGAIN (IPC_NOWAIT) / -ERANGE. */
static int try_semop(struct sem_array *sma, struct sem_waiter *q)
{
	const struct sembuf_guest *sops = q->sops;
	unsigned i;
	int result = 0;
	for (i = 0; i < q->nsops; i++) {
		const struct sembuf_guest *op = &sops[i];
		struct sem *s = &sma->sems[op->sem_num];
		int v = s->semval;
		if (!op->sem_op && v)
			goto would_block;
		v += op->sem_op;
		if (v < 0)
			goto would_block;
		if (v > SEMVMX) {
			result = -ERANGE;
			goto undo;
		}
		if (op->sem_flg & SEM_UNDO) {
			int adj = q->un->semadj[op->sem_num] - op->sem_op;
			if (adj < -SEMAEM - 1 || adj > SEMAEM) {
				result = -ERANGE;
				goto undo;
			}
			q->un->semadj[op->sem_num] = adj;
		}
		s->semval = v;
	}
	for (i = 0; i < q->nsops; i++)
		sma->sems[sops[i].sem_num].sempid = q->pid;
	sma->otime = ipc_now();
	return 0;
would_block:
	q->blocking = (int)i;
	result = sops[i].sem_flg & IPC_NOWAIT ? -EAGAIN : 1;
undo:
	while (i-- > 0) {
		sma->sems[sops[i].sem_num].semval -= sops[i].sem_op;
		if (sops[i].sem_flg & SEM_UNDO)
			q->un->semadj[sops[i].sem_num] += sops[i].sem_op;
	}
	return result;
}

static void dequeue(struct sem_array *sma, struct sem_waiter *q)
{
	struct sem_waiter **pp = &sma->pending;
	while (*pp && *pp != q)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = q->next;
	if (sma->pending_tail == &q->next)
		sma->pending_tail = pp;
}

static void finish(struct sem_array *sma, struct sem_waiter *q, int status)
{
	dequeue(sma, q);
	q->status = status;
	thread_wake(q->t);
}

/* The values changed: do what queued operations can do now, in order,
 * starting over after each one that changed values. */
static void update_queue(struct sem_array *sma)
{
	bool again = true;
	while (again) {
		again = false;
		for (struct sem_waiter *q = sma->pending, *next; q; q = next) {
			next = q->next;
			int r = try_semop(sma, q);
			if (r == 1)
				continue;
			finish(sma, q, r);
			if (r == 0 && q->alter) {
				again = true;
				break;
			}
		}
	}
}

static int count_waiters(struct sem_array *sma, int semnum, bool zero)
{
	int n = 0;
	for (struct sem_waiter *q = sma->pending; q; q = q->next) {
		const struct sembuf_guest *op = &q->sops[q->blocking];
		if (op->sem_num == semnum && (zero ? op->sem_op == 0 : op->sem_op < 0))
			n++;
	}
	return n;
}

/* Undo adjustments of everyone for these semaphores go (SETVAL, SETALL). */
static void clear_undo(struct sem_array *sma, int semnum)
{
	for (struct sem_undo *u = undos; u; u = u->next) {
		if (u->sma != sma)
			continue;
		if (semnum >= 0)
			u->semadj[semnum] = 0;
		else
			memset(u->semadj, 0, (size_t)sma->nsems * sizeof(int));
	}
}

static void freeary(struct sem_array *sma)
{
	for (struct sem_undo **pp = &undos; *pp;) {
		struct sem_undo *u = *pp;
		if (u->sma == sma) {
			*pp = u->next;
			free(u);
		} else {
			pp = &u->next;
		}
	}
	while (sma->pending)
		finish(sma, sma->pending, -EIDRM);
	ipc_remove(&sem_ids, &sma->perm);
	used_sems -= sma->nsems;
	free(sma);
}

/* ---- semget ------------------------------------------------------------ */

static int sem_create(struct ipc_ids *ids, int32_t key, int flags, void *arg)
{
	int nsems = *(int *)arg;
	if (!nsems)
		return -EINVAL;
	if (used_sems + nsems > ipc_limit(sem_ctls[SEM_SEMMNS]))
		return -ENOSPC;
	/* Linux's sem_alloc refuses an array over INT_MAX bytes, its
	 * semaphores being a 64-byte cache line each (semmsl may allow
	 * more). */
	if (nsems > (INT_MAX - 256) / 64)
		return -ENOMEM;
	struct sem_array *sma = calloc(1, sizeof(*sma) + (size_t)nsems * sizeof(struct sem));
	if (!sma)
		return -ENOMEM;
	int err = ipc_add(ids, &sma->perm, key, flags, ipc_limit(sem_ctls[SEM_SEMMNI]));
	if (err) {
		free(sma);
		return err;
	}
	sma->nsems = nsems;
	sma->ctime = ipc_now();
	sma->pending_tail = &sma->pending;
	used_sems += nsems;
	return sma->perm.id;
}

static int sem_check(struct ipc_perm_k *p, void *arg)
{
	return *(int *)arg > sma_of(p)->nsems ? -EINVAL : 0;
}

static const struct ipc_get_ops sem_get_ops = { .create = sem_create, .check = sem_check };

long sys_semget(const struct sysargs *a)
{
	int nsems = (int)a->a[1];
	if (nsems < 0 || nsems > ipc_limit(sem_ctls[SEM_SEMMSL]))
		return -EINVAL;
	return ipc_get(&sem_ids, (int32_t)a->a[0], (int)a->a[2], &sem_get_ops, &nsems);
}

/* ---- semop and semtimedop ----------------------------------------------- */

/* The current thread's undo list, made at its first use (lock held). */
static struct sem_undo_list *current_undo_list(void)
{
	if (!current->sysvsem && (current->sysvsem = calloc(1, sizeof(*current->sysvsem))))
		current->sysvsem->refs = 1;
	return current->sysvsem;
}

/* The caller's undo entry for the array (made if needed; lock held). */
static struct sem_undo *find_undo(struct sem_array *sma)
{
	struct sem_undo_list *list = current_undo_list();
	if (!list)
		return NULL;
	for (struct sem_undo *u = undos; u; u = u->next)
		if (u->list == list && u->sma == sma)
			return u;
	struct sem_undo *u = calloc(1, sizeof(*u) + (size_t)sma->nsems * sizeof(int));
	if (!u)
		return NULL;
	u->list = list;
	u->sma = sma;
	u->next = undos;
	undos = u;
	return u;
}

/* Linux's __do_semtimedop: the operations are in kernel memory. */
static long semtimedop_copied(int semid, const struct sembuf_guest *sops, unsigned nsops,
			      const struct timespec *timeout)
{
	if (semid < 0)
		return -EINVAL;
	struct timespec deadline;
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)
			return -EINVAL;
		deadline = deadline_after(timeout);
	}
	unsigned max = 0;
	bool undo = false, alter = false;
	for (unsigned i = 0; i < nsops; i++) {
		max = MAX(max, sops[i].sem_num);
		undo |= (sops[i].sem_flg & SEM_UNDO) != 0;
		alter |= sops[i].sem_op != 0;
	}

	pthread_mutex_lock(&sem_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&sem_ids, semid);
	long ret = p ? 0 : -EINVAL;
	struct sem_array *sma = p ? sma_of(p) : NULL;
	if (!ret && max >= (unsigned)sma->nsems)
		ret = -EFBIG;
	if (!ret)
		ret = ipc_perms(p, alter ? 0222 : 0444);
	struct sem_waiter q = {
		.sops = sops, .nsops = nsops, .pid = ipc_cur_pid(), .t = current, .status = 1, .alter = alter,
	};
	if (!ret && undo && !(q.un = find_undo(sma)))
		ret = -ENOMEM;
	if (!ret) {
		ret = try_semop(sma, &q);
		if (ret == 0 && alter)
			update_queue(sma);
	}
	if (ret != 1) {
		pthread_mutex_unlock(&sem_ids.lock);
		return ret;
	}
	/* Queue and sleep until someone did our operation, or it failed. */
	q.next = NULL;
	*sma->pending_tail = &q;
	sma->pending_tail = &q.next;
	for (;;) {
		uint32_t snap = sleep_prepare();
		pthread_mutex_unlock(&sem_ids.lock);
		int r = sleep_until(snap, timeout ? &deadline : NULL);
		pthread_mutex_lock(&sem_ids.lock);
		if (q.status != 1) {
			ret = q.status;
			break;
		}
		if (r) { /* the array is alive: a removal would have set status */
			dequeue(sma, &q);
			ret = r == -EINTR ? -EINTR : -EAGAIN;
			break;
		}
	}
	pthread_mutex_unlock(&sem_ids.lock);
	return ret;
}

#define SEMOPM_FAST 64 /* operations copied onto the stack, more into the heap */

static long do_semtimedop(int semid, gaddr_t usops, unsigned nsops, const struct timespec *timeout)
{
	/* Linux compares unsigned: a negative semopm lets any count through. */
	if (nsops > (unsigned)ipc_limit(sem_ctls[SEM_SEMOPM]))
		return -E2BIG;
	if (nsops < 1)
		return -EINVAL;
	struct sembuf_guest fast[SEMOPM_FAST], *sops = fast;
	if (nsops > SEMOPM_FAST) {
		/* Linux's kvmalloc refuses more than INT_MAX bytes. */
		size_t size = (size_t)nsops * sizeof(*sops);
		if (size > INT_MAX || !(sops = malloc(size)))
			return -ENOMEM;
	}
	long ret = copy_from_guest(sops, usops, (size_t)nsops * sizeof(*sops)) ? -EFAULT
		: semtimedop_copied(semid, sops, nsops, timeout);
	if (sops != fast)
		free(sops);
	return ret;
}

long sys_semop(const struct sysargs *a)
{
	return do_semtimedop((int)a->a[0], a->a[1], (unsigned)a->a[2], NULL);
}

long sys_semtimedop(const struct sysargs *a)
{
	struct timespec ts;
	if (a->a[3]) {
		if (copy_from_guest(&ts, a->a[3], sizeof(ts)))
			return -EFAULT;
		return do_semtimedop((int)a->a[0], a->a[1], (unsigned)a->a[2], &ts);
	}
	return do_semtimedop((int)a->a[0], a->a[1], (unsigned)a->a[2], NULL);
}

/* ---- semctl --------------------------------------------------------------- */

static long sem_info(int cmd, gaddr_t buf)
{
	struct seminfo_guest si = {
		.semmap = SEMMAP, .semmni = ipc_limit(sem_ctls[SEM_SEMMNI]),
		.semmns = ipc_limit(sem_ctls[SEM_SEMMNS]), .semmnu = SEMMNU,
		.semmsl = ipc_limit(sem_ctls[SEM_SEMMSL]), .semopm = ipc_limit(sem_ctls[SEM_SEMOPM]),
		.semume = SEMUME, .semusz = SEMUSZ, .semvmx = SEMVMX, .semaem = SEMAEM,
	};
	pthread_mutex_lock(&sem_ids.lock);
	if (cmd == SEM_INFO) {
		si.semusz = sem_ids.in_use;
		si.semaem = used_sems;
	}
	long ret = MAX(sem_ids.max_idx, 0);
	pthread_mutex_unlock(&sem_ids.lock);
	return copy_to_guest(buf, &si, sizeof(si)) ? -EFAULT : ret;
}

static long sem_stat(int cmd, int id, gaddr_t buf)
{
	struct semid64_ds_guest out;
	pthread_mutex_lock(&sem_ids.lock);
	struct ipc_perm_k *p = cmd == IPC_STAT ? ipc_find_id(&sem_ids, id) : ipc_find_index(&sem_ids, id);
	long ret = p ? 0 : -EINVAL;
	if (!ret && cmd != SEM_STAT_ANY)
		ret = ipc_perms(p, 0444);
	if (!ret) {
		struct sem_array *sma = sma_of(p);
		out = (struct semid64_ds_guest){ .otime = sma->otime, .ctime = sma->ctime, .nsems = (uint64_t)sma->nsems };
		ipc_fill_perm(p, &out.perm);
		ret = cmd == IPC_STAT ? 0 : p->id;
	}
	pthread_mutex_unlock(&sem_ids.lock);
	if (ret >= 0 && copy_to_guest(buf, &out, sizeof(out)))
		return -EFAULT;
	return ret;
}

static long sem_setval(int id, int semnum, int val)
{
	if (val > SEMVMX || val < 0)
		return -ERANGE;
	pthread_mutex_lock(&sem_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&sem_ids, id);
	long ret = p ? 0 : -EINVAL;
	struct sem_array *sma = p ? sma_of(p) : NULL;
	if (!ret && (semnum < 0 || semnum >= sma->nsems))
		ret = -EINVAL;
	if (!ret)
		ret = ipc_perms(p, 0222);
	if (!ret) {
		clear_undo(sma, semnum);
		sma->sems[semnum].semval = val;
		sma->sems[semnum].sempid = ipc_cur_pid();
		sma->ctime = ipc_now();
		update_queue(sma);
	}
	pthread_mutex_unlock(&sem_ids.lock);
	return ret;
}

/* GETALL, SETALL, GETVAL, GETPID, GETNCNT, GETZCNT. */
static long sem_main(int id, int semnum, int cmd, gaddr_t arg)
{
	uint16_t *vals = NULL;
	pthread_mutex_lock(&sem_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&sem_ids, id);
	long ret = p ? 0 : -EINVAL;
	struct sem_array *sma = p ? sma_of(p) : NULL;
	if (!ret)
		ret = ipc_perms(p, cmd == SETALL ? 0222 : 0444);
	if (ret)
		goto out;
	int n = sma->nsems;
	if (cmd == GETALL || cmd == SETALL) {
		vals = malloc((size_t)n * sizeof(*vals));
		if (!vals) {
			ret = -ENOMEM;
			goto out;
		}
	}
	switch (cmd) {
	case GETALL:
		for (int i = 0; i < n; i++)
			vals[i] = (uint16_t)sma->sems[i].semval;
		pthread_mutex_unlock(&sem_ids.lock);
		ret = copy_to_guest(arg, vals, (size_t)n * sizeof(*vals)) ? -EFAULT : 0;
		free(vals);
		return ret;
	case SETALL:
		/* Copied without the lock (guest memory is never copied
		 * under it); the array may have gone meanwhile (EIDRM). */
		pthread_mutex_unlock(&sem_ids.lock);
		int fault = copy_from_guest(vals, arg, (size_t)n * sizeof(*vals));
		pthread_mutex_lock(&sem_ids.lock);
		if (fault) {
			ret = -EFAULT;
			goto out;
		}
		if (ipc_find_id(&sem_ids, id) != p) {
			ret = -EIDRM;
			goto out;
		}
		for (int i = 0; i < n; i++)
			if (vals[i] > SEMVMX) {
				ret = -ERANGE;
				goto out;
			}
		for (int i = 0; i < n; i++) {
			sma->sems[i].semval = vals[i];
			sma->sems[i].sempid = ipc_cur_pid();
		}
		clear_undo(sma, -1);
		sma->ctime = ipc_now();
		update_queue(sma);
		goto out;
	}
	if (semnum < 0 || semnum >= n) {
		ret = -EINVAL;
		goto out;
	}
	switch (cmd) {
	case GETVAL: ret = sma->sems[semnum].semval; break;
	case GETPID: ret = sma->sems[semnum].sempid; break;
	case GETNCNT: ret = count_waiters(sma, semnum, false); break;
	case GETZCNT: ret = count_waiters(sma, semnum, true); break;
	}
out:
	pthread_mutex_unlock(&sem_ids.lock);
	free(vals);
	return ret;
}

static long sem_down(int id, int cmd, const struct semid64_ds_guest *in)
{
	pthread_mutex_lock(&sem_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&sem_ids, id);
	long ret = p ? ipc_owner_check(p) : -EINVAL;
	if (!ret && cmd == IPC_SET) {
		ret = ipc_set_perm(p, &in->perm);
		if (!ret)
			sma_of(p)->ctime = ipc_now();
	} else if (!ret) {
		freeary(sma_of(p));
	}
	pthread_mutex_unlock(&sem_ids.lock);
	return ret;
}

long sys_semctl(const struct sysargs *a)
{
	int id = (int)a->a[0], semnum = (int)a->a[1], cmd = (int)a->a[2];
	uint64_t arg = a->a[3];
	if (id < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO:
	case SEM_INFO:
		return sem_info(cmd, arg);
	case IPC_STAT:
	case SEM_STAT:
	case SEM_STAT_ANY:
		return sem_stat(cmd, id, arg);
	case GETALL:
	case GETVAL:
	case GETPID:
	case GETNCNT:
	case GETZCNT:
	case SETALL:
		return sem_main(id, semnum, cmd, arg);
	case SETVAL:
		return sem_setval(id, semnum, (int)arg);
	case IPC_SET: {
		struct semid64_ds_guest in;
		if (copy_from_guest(&in, arg, sizeof(in)))
			return -EFAULT;
		return sem_down(id, cmd, &in);
	}
	case IPC_RMID:
		return sem_down(id, cmd, NULL);
	default:
		return -EINVAL;
	}
}

/* ---- undo lists: clone, exit, unshare ---------------------------------- */

int sem_copy_undo(struct thread *t, bool share)
{
	t->sysvsem = NULL;
	if (!share)
		return 0;
	pthread_mutex_lock(&sem_ids.lock);
	struct sem_undo_list *list = current_undo_list(); /* made now if need be, as Linux's copy_semundo */
	if (list) {
		list->refs++;
		t->sysvsem = list;
	}
	pthread_mutex_unlock(&sem_ids.lock);
	return list ? 0 : -ENOMEM;
}

/* Linux's exit_sem: the last sharer's leaving adds each adjustment, keeps
 * the value within [0, SEMVMX] and does what waiters can do now. */
void sem_exit(struct thread *t)
{
	struct sem_undo_list *list = t->sysvsem;
	if (!list)
		return;
	t->sysvsem = NULL;
	pthread_mutex_lock(&sem_ids.lock);
	if (--list->refs) {
		pthread_mutex_unlock(&sem_ids.lock);
		return;
	}
	for (struct sem_undo **pp = &undos; *pp;) {
		struct sem_undo *u = *pp;
		if (u->list != list) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		struct sem_array *sma = u->sma;
		for (int i = 0; i < sma->nsems; i++) {
			if (!u->semadj[i])
				continue;
			int v = sma->sems[i].semval + u->semadj[i];
			sma->sems[i].semval = v < 0 ? 0 : v > SEMVMX ? SEMVMX : v;
			sma->sems[i].sempid = t->proc->pid;
		}
		sma->otime = ipc_now();
		update_queue(sma);
		free(u);
	}
	pthread_mutex_unlock(&sem_ids.lock);
	free(list);
}

void sem_proc_show(struct seqbuf *sb)
{
	seq_printf(sb, "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n");
	pthread_mutex_lock(&sem_ids.lock);
	for (int i = 0; i <= sem_ids.max_idx; i++) {
		struct ipc_perm_k *p = sem_ids.slot[i];
		if (!p)
			continue;
		struct sem_array *sma = sma_of(p);
		seq_printf(sb, "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n", p->key, p->id, p->mode,
			   (unsigned)sma->nsems, p->uid, p->gid, p->cuid, p->cgid, (unsigned long long)sma->otime,
			   (unsigned long long)sma->ctime);
	}
	pthread_mutex_unlock(&sem_ids.lock);
}
