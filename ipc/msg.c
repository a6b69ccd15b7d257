/* SysV message queues (Linux's ipc/msg.c). One lock (msg_ids.lock)
 * guards every queue. A message is copied in before the lock is taken
 * and out after the message left its queue, as Linux does. A sender goes
 * straight to a sleeping receiver that wants the message (pipelined, in
 * the receivers' order); a full queue makes senders sleep until a
 * receive or a change of msg_qbytes. Sleeps interrupted by a signal give
 * ERESTARTNOHAND (EINTR after a handler), like Linux; removal gives
 * EIDRM. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <linux/capability.h>
#include "ipc/ipc.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/signal.h"
#include "kernel/waitq.h"
#include "mm/uaccess.h"
#include "fs/pseudofs.h"

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef MSG_EXCEPT
#define MSG_EXCEPT 020000
#endif
#define MSGSSZ 16
#define MSGSEG 0xffff
#define MSGPOOL (MSGMNI * MSGMNB / 1024)
#define MSGMAP MSGMNB
#define MSGTQL MSGMNB

struct msqid64_ds_guest {
	struct ipc64_perm_guest perm;
	int64_t stime, rtime, ctime;
	uint64_t cbytes, qnum, qbytes;
	int32_t lspid, lrpid;
	uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct msqid64_ds_guest) == 120, "msqid64_ds");

struct msginfo_guest {
	int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
	uint16_t msgseg;
};

struct msg {
	struct msg *next;
	long type;
	size_t size;
	char text[];
};

enum search { SEARCH_ANY, SEARCH_EQUAL, SEARCH_NOTEQUAL, SEARCH_LESSEQUAL, SEARCH_NUMBER };

struct msg_receiver {
	struct msg_receiver *next;
	struct thread *t;
	long type;
	enum search mode;
	size_t maxsize;
	struct msg *got;  /* handed over by a sender */
	int status;       /* 1 while waiting, then 0 (got) or -errno */
};

struct msg_sender {
	struct msg_sender *next;
	struct thread *t;
};

struct msg_queue {
	struct ipc_perm_k perm; /* first */
	struct msg *head, **tail;
	struct msg_receiver *receivers;
	struct msg_sender *senders;
	uint64_t cbytes, qnum, qbytes;
	int64_t stime, rtime, ctime;
	int lspid, lrpid;
	int refs; /* the table's and each sleeping sender's */
};

static struct ipc_ids msg_ids = IPC_IDS_INIT;
static long msg_hdrs, msg_bytes; /* every queue's messages */

static struct msg_queue *msq_of(struct ipc_perm_k *p) { return (struct msg_queue *)p; }

/* The queue an id names, or NULL (msg_ids.lock held). */
static struct msg_queue *msq_find(int id)
{
	struct ipc_perm_k *p = ipc_find_id(&msg_ids, id);
	return p ? msq_of(p) : NULL;
}

/* The head of msgsnd's and msgrcv's loop, again after each sleep (lock
 * held): the caller may use q as acc asks (EACCES), and q was not removed
 * meanwhile (EIDRM), in Linux's order. */
static long msq_check(struct msg_queue *q, int acc)
{
	long err = ipc_perms(&q->perm, acc);
	return err ? err : q->perm.deleted ? -EIDRM : 0;
}

static void msq_put(struct msg_queue *q)
{
	if (--q->refs)
		return;
	for (struct msg *m = q->head, *n; m; m = n) {
		n = m->next;
		free(m);
	}
	free(q);
}

static void wake_senders(struct msg_queue *q)
{
	for (struct msg_sender *s = q->senders; s; s = s->next)
		thread_wake(s->t);
}

/* Every sleeping receiver leaves with status (EIDRM, or EAGAIN: look again). */
static void expunge_all(struct msg_queue *q, int status)
{
	while (q->receivers) {
		struct msg_receiver *r = q->receivers;
		q->receivers = r->next;
		r->status = status;
		thread_wake(r->t);
	}
}

static void freeque(struct msg_queue *q)
{
	expunge_all(q, -EIDRM);
	wake_senders(q);
	ipc_remove(&msg_ids, &q->perm);
	msg_hdrs -= (long)q->qnum;
	msg_bytes -= (long)q->cbytes;
	msq_put(q);
}

static bool testmsg(const struct msg *m, long type, enum search mode)
{
	switch (mode) {
	case SEARCH_ANY:
	case SEARCH_NUMBER: return true;
	case SEARCH_LESSEQUAL: return m->type <= type;
	case SEARCH_EQUAL: return m->type == type;
	case SEARCH_NOTEQUAL: return m->type != type;
	}
	return false;
}

/* ---- msgget ------------------------------------------------------------- */

static int msg_create(struct ipc_ids *ids, int32_t key, int flags, void *arg)
{
	struct msg_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	int err = ipc_add(ids, &q->perm, key, flags, ipc_limit(msg_ctlmni));
	if (err) {
		free(q);
		return err;
	}
	q->tail = &q->head;
	q->qbytes = (uint64_t)ipc_limit(msg_ctlmnb);
	q->ctime = ipc_now();
	q->refs = 1;
	return q->perm.id;
}

static const struct ipc_get_ops msg_get_ops = { .create = msg_create };

long sys_msgget(const struct sysargs *a)
{
	return ipc_get(&msg_ids, (int32_t)a->a[0], (int)a->a[1], &msg_get_ops, NULL);
}

/* ---- msgsnd --------------------------------------------------------------- */

/* Hand m to the first sleeping receiver that wants it: true if taken. */
static bool pipelined_send(struct msg_queue *q, struct msg *m)
{
	for (struct msg_receiver **pp = &q->receivers; *pp;) {
		struct msg_receiver *r = *pp;
		if (!testmsg(m, r->type, r->mode)) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (r->maxsize < m->size) {
			r->status = -E2BIG;
			thread_wake(r->t);
			continue;
		}
		q->lrpid = r->t->proc->pid;
		q->rtime = ipc_now();
		r->got = m;
		r->status = 0;
		thread_wake(r->t);
		return true;
	}
	return false;
}

long sys_msgsnd(const struct sysargs *a)
{
	int id = (int)a->a[0], flags = (int)a->a[3];
	gaddr_t buf = a->a[1];
	size_t size = a->a[2];
	long type;
	if (copy_from_guest(&type, buf, sizeof(type)))
		return -EFAULT;
	if (size > (size_t)ipc_limit(msg_ctlmax) || (long)size < 0 || id < 0)
		return -EINVAL;
	if (type < 1)
		return -EINVAL;
	struct msg *m = malloc(sizeof(*m) + size);
	if (!m)
		return -ENOMEM;
	if (copy_from_guest(m->text, buf + sizeof(long), size)) {
		free(m);
		return -EFAULT;
	}
	m->type = type;
	m->size = size;
	m->next = NULL;

	pthread_mutex_lock(&msg_ids.lock);
	struct msg_queue *q = msq_find(id);
	long ret = q ? 0 : -EINVAL;
	bool held = false; /* a reference while we slept */
	while (!ret && !(ret = msq_check(q, 0222))) {
		if (size + q->cbytes <= q->qbytes && 1 + q->qnum <= q->qbytes)
			break;
		if (flags & IPC_NOWAIT) {
			ret = -EAGAIN;
			break;
		}
		struct msg_sender s = { .next = q->senders, .t = current };
		q->senders = &s;
		if (!held) {
			q->refs++;
			held = true;
		}
		uint32_t snap = sleep_prepare();
		pthread_mutex_unlock(&msg_ids.lock);
		int r = sleep_until(snap, NULL);
		pthread_mutex_lock(&msg_ids.lock);
		for (struct msg_sender **pp = &q->senders; *pp; pp = &(*pp)->next)
			if (*pp == &s) {
				*pp = s.next;
				break;
			}
		if (r == -EINTR && !q->perm.deleted) {
			ret = -ERESTARTNOHAND;
			break;
		}
	}
	if (!ret) {
		q->lspid = ipc_cur_pid();
		q->stime = ipc_now();
		if (!pipelined_send(q, m)) {
			*q->tail = m;
			q->tail = &m->next;
			q->cbytes += size;
			q->qnum++;
			msg_hdrs++;
			msg_bytes += (long)size;
		}
		m = NULL;
	}
	if (held)
		msq_put(q);
	pthread_mutex_unlock(&msg_ids.lock);
	free(m);
	return ret;
}

/* ---- msgrcv --------------------------------------------------------------- */

/* Linux's find_msg: the first message that matches (for LESSEQUAL the
 * first of the lowest type; for NUMBER the one at that position). */
static struct msg **find_msg(struct msg_queue *q, long type, enum search mode)
{
	struct msg **found = NULL;
	long count = 0;
	for (struct msg **pp = &q->head; *pp; pp = &(*pp)->next) {
		struct msg *m = *pp;
		if (!testmsg(m, type, mode))
			continue;
		if (mode == SEARCH_LESSEQUAL && m->type != 1) {
			type = m->type - 1;
			found = pp;
		} else if (mode == SEARCH_NUMBER) {
			if (type == count)
				return pp;
		} else {
			return pp;
		}
		count++;
	}
	return found;
}

static void unlink_msg(struct msg_queue *q, struct msg **pp)
{
	struct msg *m = *pp;
	*pp = m->next;
	if (q->tail == &m->next)
		q->tail = pp;
	q->qnum--;
	q->cbytes -= m->size;
	msg_hdrs--;
	msg_bytes -= (long)m->size;
	q->rtime = ipc_now();
	q->lrpid = ipc_cur_pid();
	wake_senders(q);
}

long sys_msgrcv(const struct sysargs *a)
{
	int id = (int)a->a[0], flags = (int)a->a[4];
	gaddr_t buf = a->a[1];
	size_t bufsz = a->a[2];
	long type = (long)a->a[3];
	if (id < 0 || (long)bufsz < 0)
		return -EINVAL;
	size_t copy_max = 0;
	if (flags & MSG_COPY) {
		if ((flags & MSG_EXCEPT) || !(flags & IPC_NOWAIT))
			return -EINVAL;
		copy_max = MIN(bufsz, (size_t)ipc_limit(msg_ctlmax));
	}
	enum search mode;
	if (flags & MSG_COPY)
		mode = SEARCH_NUMBER;
	else if (type == 0)
		mode = SEARCH_ANY;
	else if (type < 0) {
		type = type == LONG_MIN ? LONG_MAX : -type;
		mode = SEARCH_LESSEQUAL;
	} else
		mode = flags & MSG_EXCEPT ? SEARCH_NOTEQUAL : SEARCH_EQUAL;

	struct msg *m = NULL;
	pthread_mutex_lock(&msg_ids.lock);
	struct msg_queue *q = msq_find(id);
	long ret = q ? 0 : -EINVAL;
	bool held = false; /* a reference while we slept */
	while (!ret && !(ret = msq_check(q, 0444))) {
		struct msg **pp = find_msg(q, type, mode);
		if (pp) {
			if (bufsz < (*pp)->size && !(flags & MSG_NOERROR)) {
				ret = -E2BIG;
				break;
			}
			if (flags & MSG_COPY) {
				if ((*pp)->size > copy_max) {
					ret = -EINVAL;
					break;
				}
				m = malloc(sizeof(*m) + (*pp)->size);
				if (!m) {
					ret = -ENOMEM;
					break;
				}
				memcpy(m, *pp, sizeof(*m) + (*pp)->size);
				break;
			}
			m = *pp;
			unlink_msg(q, pp);
			break;
		}
		if (flags & IPC_NOWAIT) {
			ret = -ENOMSG;
			break;
		}
		struct msg_receiver r = {
			.t = current, .type = type, .mode = mode, .status = 1,
			.maxsize = flags & MSG_NOERROR ? INT_MAX : bufsz,
		};
		struct msg_receiver **tail = &q->receivers;
		while (*tail)
			tail = &(*tail)->next;
		*tail = &r;
		if (!held) {
			q->refs++;
			held = true;
		}
		int sr = 0;
		for (;;) {
			uint32_t snap = sleep_prepare();
			pthread_mutex_unlock(&msg_ids.lock);
			sr = sleep_until(snap, NULL);
			pthread_mutex_lock(&msg_ids.lock);
			if (r.status != 1 || sr)
				break;
		}
		if (r.status == 0) {
			m = r.got;
			break;
		}
		if (r.status == -EAGAIN) /* IPC_SET: look again */
			continue;
		if (r.status != 1) {
			ret = r.status; /* EIDRM, E2BIG */
			break;
		}
		for (struct msg_receiver **rp = &q->receivers; *rp; rp = &(*rp)->next)
			if (*rp == &r) {
				*rp = r.next;
				break;
			}
		ret = -ERESTARTNOHAND;
	}
	if (held)
		msq_put(q);
	pthread_mutex_unlock(&msg_ids.lock);
	if (ret)
		return ret;
	size_t n = MIN(bufsz, m->size);
	if (copy_to_guest(buf, &m->type, sizeof(long)) || copy_to_guest(buf + sizeof(long), m->text, n))
		ret = -EFAULT;
	else
		ret = (long)n;
	free(m);
	return ret;
}

/* ---- msgctl ----------------------------------------------------------------- */

static long msg_info(int cmd, gaddr_t buf)
{
	struct msginfo_guest mi = {
		.msgmni = ipc_limit(msg_ctlmni), .msgmax = ipc_limit(msg_ctlmax), .msgmnb = ipc_limit(msg_ctlmnb),
		.msgssz = MSGSSZ, .msgseg = MSGSEG,
		.msgmap = MSGMAP, .msgpool = MSGPOOL, .msgtql = MSGTQL,
	};
	pthread_mutex_lock(&msg_ids.lock);
	if (cmd == MSG_INFO) {
		mi.msgpool = msg_ids.in_use;
		mi.msgmap = (int32_t)MIN(msg_hdrs, (long)INT_MAX);
		mi.msgtql = (int32_t)MIN(msg_bytes, (long)INT_MAX);
	}
	long ret = MAX(msg_ids.max_idx, 0);
	pthread_mutex_unlock(&msg_ids.lock);
	return copy_to_guest(buf, &mi, sizeof(mi)) ? -EFAULT : ret;
}

static long msg_stat(int cmd, int id, gaddr_t buf)
{
	struct msqid64_ds_guest out;
	pthread_mutex_lock(&msg_ids.lock);
	struct ipc_perm_k *p = cmd == IPC_STAT ? ipc_find_id(&msg_ids, id) : ipc_find_index(&msg_ids, id);
	long ret = p ? 0 : -EINVAL;
	if (!ret && cmd != MSG_STAT_ANY)
		ret = ipc_perms(p, 0444);
	if (!ret) {
		struct msg_queue *q = msq_of(p);
		out = (struct msqid64_ds_guest){
			.stime = q->stime, .rtime = q->rtime, .ctime = q->ctime, .cbytes = q->cbytes,
			.qnum = q->qnum, .qbytes = q->qbytes, .lspid = q->lspid, .lrpid = q->lrpid,
		};
		ipc_fill_perm(p, &out.perm);
		ret = cmd == IPC_STAT ? 0 : p->id;
	}
	pthread_mutex_unlock(&msg_ids.lock);
	if (ret >= 0 && copy_to_guest(buf, &out, sizeof(out)))
		return -EFAULT;
	return ret;
}

static long msg_down(int id, int cmd, const struct msqid64_ds_guest *in)
{
	pthread_mutex_lock(&msg_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&msg_ids, id);
	long ret = p ? ipc_owner_check(p) : -EINVAL;
	struct msg_queue *q = p ? msq_of(p) : NULL;
	if (!ret && cmd == IPC_SET) {
		if (in->qbytes > (uint64_t)ipc_limit(msg_ctlmnb) && !capable_init_ns(CAP_SYS_RESOURCE))
			ret = -EPERM;
		if (!ret)
			ret = ipc_set_perm(p, &in->perm);
		if (!ret) {
			q->qbytes = in->qbytes;
			q->ctime = ipc_now();
			expunge_all(q, -EAGAIN); /* permissions may have changed */
			wake_senders(q);         /* there may be room now */
		}
	} else if (!ret) {
		freeque(q);
	}
	pthread_mutex_unlock(&msg_ids.lock);
	return ret;
}

long sys_msgctl(const struct sysargs *a)
{
	int id = (int)a->a[0], cmd = (int)a->a[1];
	gaddr_t buf = a->a[2];
	if (id < 0 || cmd < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO:
	case MSG_INFO:
		return msg_info(cmd, buf);
	case IPC_STAT:
	case MSG_STAT:
	case MSG_STAT_ANY:
		return msg_stat(cmd, id, buf);
	case IPC_SET: {
		struct msqid64_ds_guest in;
		if (copy_from_guest(&in, buf, sizeof(in)))
			return -EFAULT;
		return msg_down(id, cmd, &in);
	}
	case IPC_RMID:
		return msg_down(id, cmd, NULL);
	default:
		return -EINVAL;
	}
}

void msg_proc_show(struct seqbuf *sb)
{
	seq_printf(sb, "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
		       "      stime      rtime      ctime\n");
	pthread_mutex_lock(&msg_ids.lock);
	for (int i = 0; i <= msg_ids.max_idx; i++) {
		struct ipc_perm_k *p = msg_ids.slot[i];
		if (!p)
			continue;
		struct msg_queue *q = msq_of(p);
		seq_printf(sb, "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu %10llu %10llu\n", p->key,
			   p->id, p->mode, (unsigned long)q->cbytes, (unsigned long)q->qnum, q->lspid, q->lrpid, p->uid,
			   p->gid, p->cuid, p->cgid, (unsigned long long)q->stime, (unsigned long long)q->rtime,
			   (unsigned long long)q->ctime);
	}
	pthread_mutex_unlock(&msg_ids.lock);
}
