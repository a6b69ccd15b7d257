/* AF_UNIX (Linux's net/unix/af_unix.c): addresses in the sandbox's VFS
 * (an S_IFSOCK node made by bind, found again by its inode) or in the
 * abstract namespace (sun_path[0] == 0, one per sandbox), autobind,
 * SCM_RIGHTS and SCM_CREDENTIALS, SO_PEERCRED. SOCK_STREAM and
 * SOCK_SEQPACKET run on net/stream.c, SOCK_DGRAM on net/dgram.c.
 *
 * Only sockets bound by guests are ever found: a socket file of the host
 * (seen through the overlay or a bind mount) has no socket of the
 * sandbox behind it, so connecting to it is ECONNREFUSED like a stale
 * socket file, and a node a guest binds on a host-backed bind mount is a
 * plain host socket file nobody on the host can connect through. */
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "fs/vfs_ops.h"
#include "kernel/task.h"
#include "net/socket.h"

#define UNIX_PATH_OFF offsetof(struct sockaddr_un, sun_path)

struct unix_addr {
	atomic_int refs;
	int len;               /* a path of 108 bytes makes it 111 */
	union {
		struct sockaddr_un sun;
		char bytes[SKB_ADDR_MAX];
	};
	struct path path; /* path-bound: the node (counted); dentry NULL otherwise */
};

/* The bound sockets (chained by unix_next); taken before socket locks. */
static pthread_mutex_t unix_lock = PTHREAD_MUTEX_INITIALIZER;
static struct socket *bound;

void unix_addr_put(struct unix_addr *a)
{
	if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
		return;
	if (a->path.dentry)
		path_put(&a->path);
	free(a);
}

static struct unix_addr *addr_get(struct unix_addr *a)
{
	if (a)
		atomic_fetch_add(&a->refs, 1);
	return a;
}

static struct unix_addr *addr_new(const struct sockaddr_un *sun, int len)
{
	struct unix_addr *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	atomic_init(&a->refs, 1);
	a->len = len;
	memcpy(&a->sun, sun, MIN((size_t)len, sizeof(*sun))); /* the rest is the NUL */
	return a;
}

/* Linux's unix_validate_addr. */
static int validate(const struct sock_addr *a)
{
	if (a->len <= (int)UNIX_PATH_OFF || a->len > (int)sizeof(struct sockaddr_un))
		return -EINVAL;
	return a->un.sun_family == AF_UNIX ? 0 : -EINVAL;
}

/* The sun_path of a path address as a string (Linux terminates it at
 * the address length). */
static void path_of(const struct sock_addr *a, char *buf)
{
	size_t n = a->len - UNIX_PATH_OFF;
	memcpy(buf, a->un.sun_path, n);
	buf[n] = '\0';
}

static struct socket *find_abstract_locked(const struct sockaddr_un *sun, int len)
{
	for (struct socket *s = bound; s; s = s->unix_next)
		if (!s->unix_inode && s->uaddr->len == len && !memcmp(&s->uaddr->sun, sun, len))
			return s;
	return NULL;
}

static struct socket *find_inode_locked(const struct inode *i)
{
	for (struct socket *s = bound; s; s = s->unix_next)
		if (s->unix_inode == i)
			return s;
	return NULL;
}

/* Publish s's address (unix_lock held). */
static void hash_locked(struct socket *s, struct unix_addr *a, struct inode *i)
{
	pthread_mutex_lock(&s->lock);
	s->uaddr = a;
	pthread_mutex_unlock(&s->lock);
	s->unix_inode = i;
	s->unix_next = bound;
	bound = s;
}

static void unhash(struct socket *s)
{
	pthread_mutex_lock(&unix_lock);
	for (struct socket **pp = &bound; *pp; pp = &(*pp)->unix_next) {
		if (*pp == s) {
			*pp = s->unix_next;
			break;
		}
	}
	pthread_mutex_unlock(&unix_lock);
	if (s->unix_inode) {
		iput(s->unix_inode);
		s->unix_inode = NULL;
	}
}

static bool is_bound(struct socket *s)
{
	pthread_mutex_lock(&s->lock);
	bool b = s->uaddr != NULL;
	pthread_mutex_unlock(&s->lock);
	return b;
}

/* An abstract name of five hex digits (Linux's unix_autobind). */
static int autobind(struct socket *s)
{
	static unsigned next;
	pthread_mutex_lock(&unix_lock);
	if (is_bound(s)) {
		pthread_mutex_unlock(&unix_lock);
		return 0;
	}
	if (!next)
		next = krandom_u64() & 0xfffff;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int len = UNIX_PATH_OFF + 6;
	for (unsigned tries = 0; tries <= 0xfffff; tries++) {
		char name[8];
		snprintf(name, sizeof(name), "%05x", next++ & 0xfffff);
		memcpy(sun.sun_path + 1, name, 5);
		if (!find_abstract_locked(&sun, len)) {
			struct unix_addr *a = addr_new(&sun, len);
			if (!a) {
				pthread_mutex_unlock(&unix_lock);
				return -ENOMEM;
			}
			hash_locked(s, a, NULL);
			pthread_mutex_unlock(&unix_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&unix_lock);
	return -ENOSPC;
}

static mode_t sock_mode(void)
{
	return S_IFSOCK | (0777 & ~cur_umask());
}

static int bind_path(struct socket *s, const struct sock_addr *a)
{
	char path[sizeof(a->un.sun_path) + 1];
	path_of(a, path);
	struct walk_result r;
	int err = walk_at(AT_FDCWD, path, WALK_PARENT, &r);
	if (err)
		return err;
	struct dentry *d = NULL;
	if (r.type != LAST_NORM)
		err = -EEXIST;
	else
		err = vfs_create(&r.dir, r.last, sock_mode(), 0, NULL, r.slash, &d);
	if (err) {
		walk_done(&r);
		return err == -EEXIST ? -EADDRINUSE : err;
	}
	/* The address as Linux keeps it: the path and its terminator. */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen = strlen(path);
	memcpy(sun.sun_path, path, plen);
	struct unix_addr *ua = addr_new(&sun, UNIX_PATH_OFF + plen + 1);
	pthread_mutex_lock(&unix_lock);
	if (!ua || is_bound(s)) {
		pthread_mutex_unlock(&unix_lock);
		free(ua);
		dput(d);
		vfs_unlink(&r.dir, r.last, false, false);
		walk_done(&r);
		return ua ? -EINVAL : -ENOMEM;
	}
	ua->path = (struct path){ r.dir.mnt, d };
	hash_locked(s, ua, iget(d->inode));
	pthread_mutex_unlock(&unix_lock);
	walk_done(&r);
	return 0;
}

static int bind_abstract(struct socket *s, const struct sock_addr *a)
{
	int err = 0;
	pthread_mutex_lock(&unix_lock);
	if (is_bound(s))
		err = -EINVAL;
	else if (find_abstract_locked(&a->un, a->len))
		err = -EADDRINUSE;
	else {
		struct unix_addr *ua = addr_new(&a->un, a->len);
		if (!ua)
			err = -ENOMEM;
		else
			hash_locked(s, ua, NULL);
	}
	pthread_mutex_unlock(&unix_lock);
	return err;
}

static int unix_bind(struct socket *s, const struct sock_addr *a)
{
	if (a->len == (int)UNIX_PATH_OFF && a->un.sun_family == AF_UNIX)
		return autobind(s);
	int err = validate(a);
	if (err)
		return err;
	return a->un.sun_path[0] ? bind_path(s, a) : bind_abstract(s, a);
}

/* The socket an address names (counted): Linux's unix_find_other. */
static int find_other(const struct sock_addr *a, int type, struct socket **out)
{
	struct socket *o;
	if (!a->un.sun_path[0]) {
		pthread_mutex_lock(&unix_lock);
		o = find_abstract_locked(&a->un, a->len);
		if (o && o->type != type)
			o = NULL; /* names are per type, like Linux's hash */
		if (o)
			sock_get(o);
		pthread_mutex_unlock(&unix_lock);
		if (!o)
			return -ECONNREFUSED;
		*out = o;
		return 0;
	}
	char path[sizeof(a->un.sun_path) + 1];
	path_of(a, path);
	struct walk_result r;
	int err = walk_at(AT_FDCWD, path, WALK_FOLLOW, &r);
	if (err)
		return err;
	struct inode *i = walk_inode(&r);
	if (!i)
		err = -ENOENT;
	else if (!(err = inode_permission(i, MAY_WRITE)) && !S_ISSOCK(i->mode))
		err = -ECONNREFUSED;
	if (!err) {
		pthread_mutex_lock(&unix_lock);
		o = find_inode_locked(i);
		if (o)
			sock_get(o);
		pthread_mutex_unlock(&unix_lock);
		if (!o)
			err = -ECONNREFUSED;
		else if (o->type != type) {
			sock_put(o);
			err = -EPROTOTYPE;
		} else {
			*out = o;
		}
	}
	walk_done(&r);
	return err;
}

/* ---- names --------------------------------------------------------------------- */

static void name_of(struct socket *s, struct sock_addr *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&s->lock);
	if (s->uaddr) {
		a->len = s->uaddr->len;
		memcpy(&a->un, &s->uaddr->sun, a->len);
	} else {
		a->len = sizeof(sa_family_t);
		a->un.sun_family = AF_UNIX;
	}
	pthread_mutex_unlock(&s->lock);
}

static int unix_getname(struct socket *s, struct sock_addr *a, bool peer)
{
	if (!peer) {
		name_of(s, a);
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	struct socket *p = s->peer ? sock_get(s->peer) : NULL;
	pthread_mutex_unlock(&s->lock);
	if (!p)
		return -ENOTCONN;
	name_of(p, a);
	sock_put(p);
	return 0;
}

/* ---- connecting ---------------------------------------------------------------- */

static int stream_connect(struct socket *s, const struct sock_addr *a, bool nonblock)
{
	int err = validate(a);
	if (err)
		return err;
	if (s->passcred && (err = autobind(s)))
		return err;
	struct socket *child = sock_alloc(AF_UNIX, s->type, 0, s->ops), *l;
	if (!child)
		return -ENOMEM;
	if ((err = find_other(a, s->type, &l))) {
		sock_put(child);
		return err;
	}
	/* What the server side gets from the listener. */
	pthread_mutex_lock(&l->lock);
	if (l->state != SK_LISTEN || (l->shutdown & RCV_SHUTDOWN))
		err = -ECONNREFUSED;
	struct sock_cred lcred = l->owncred;
	child->uaddr = addr_get(l->uaddr);
	child->passcred = l->passcred;
	pthread_mutex_unlock(&l->lock);
	if (!err) {
		pthread_mutex_lock(&s->lock);
		if (s->state == SK_ESTABLISHED)
			err = -EISCONN;
		else if (s->state != SK_CLOSE || s->dead)
			err = -EINVAL;
		if (!err) {
			stream_join(s, child);
			s->peercred = lcred;
			s->has_peercred = true;
			child->peercred = cred_current(false);
			child->has_peercred = true;
			child->owncred = lcred;
		}
		pthread_mutex_unlock(&s->lock);
	}
	if (!err) {
		struct sock_timeo t;
		sock_timeo_init(&t, s, nonblock, false);
		err = stream_enqueue_child(l, child, &t, false);
		if (err) { /* nobody saw the child: take the join back */
			pthread_mutex_lock(&s->lock);
			s->peer = NULL;
			s->state = SK_CLOSE;
			s->ever_connected = false;
			s->has_peercred = false;
			pthread_mutex_unlock(&s->lock);
			sock_put(child);
			pthread_mutex_lock(&child->lock);
			struct socket *back = child->peer;
			child->peer = NULL;
			pthread_mutex_unlock(&child->lock);
			sock_put(back);
		}
	}
	sock_put(l);
	if (err)
		sock_put(child); /* otherwise the accept queue has it */
	return err;
}

/* Linux's unix_may_send: the receiver is not connected elsewhere. */
static bool may_send(struct socket *s, struct socket *other)
{
	pthread_mutex_lock(&other->lock);
	bool ok = !other->peer || other->peer == s;
	pthread_mutex_unlock(&other->lock);
	return ok;
}

/* Linux's unix_dgram_disconnected: s left other (connected elsewhere,
 * AF_UNSPEC, or other was found closed by a send). What s had queued is
 * dropped (s takes messages from its new peer only); if there was any
 * and other, alive, was connected back to s, other learns of the loss:
 * its next receive (or send) fails with ECONNRESET. */
static void dgram_disconnected(struct socket *s, struct socket *other)
{
	pthread_mutex_lock(&s->lock);
	struct skb *lost = skbq_take_all(&s->rq);
	pthread_mutex_unlock(&s->lock);
	if (!lost)
		return;
	skb_free_list(lost);
	sock_wake_events(s, POLLOUT | POLLWRNORM | POLLWRBAND); /* senders waiting for room */
	pthread_mutex_lock(&other->lock);
	bool reset = !other->dead && other->peer == s;
	if (reset)
		other->err = ECONNRESET;
	pthread_mutex_unlock(&other->lock);
	if (reset)
		sock_wake_events(other, POLLERR); /* sk_error_report */
}

static int dgram_connect(struct socket *s, const struct sock_addr *a, bool nonblock)
{
	if (a->len < (int)sizeof(sa_family_t))
		return -EINVAL;
	struct socket *other = NULL;
	if (a->un.sun_family != AF_UNSPEC) {
		int err = validate(a);
		if (err)
			return err;
		if (s->passcred && (err = autobind(s)))
			return err;
		if ((err = find_other(a, SOCK_DGRAM, &other)))
			return err;
		if (!may_send(s, other)) {
			sock_put(other);
			return -EPERM;
		}
	}
	pthread_mutex_lock(&s->lock);
	struct socket *old = s->peer;
	s->peer = other;
	s->state = other ? SK_ESTABLISHED : SK_CLOSE;
	pthread_mutex_unlock(&s->lock);
	if (old && old != other)
		dgram_disconnected(s, old);
	sock_put(old);
	return 0;
}

static int unix_connect(struct socket *s, const struct sock_addr *a, bool nonblock)
{
	return s->type == SOCK_DGRAM ? dgram_connect(s, a, nonblock) : stream_connect(s, a, nonblock);
}

static int unix_socketpair(struct socket *a, struct socket *b)
{
	struct sock_cred c = cred_current(false);
	if (a->type == SOCK_DGRAM) {
		a->peer = sock_get(b);
		b->peer = sock_get(a);
		a->state = b->state = SK_ESTABLISHED;
	} else {
		stream_join(a, b);
	}
	a->peercred = b->peercred = c;
	a->has_peercred = b->has_peercred = true;
	return 0;
}

static int unix_listen(struct socket *s, int backlog)
{
	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (!is_bound(s))
		return -EINVAL;
	int err = stream_listen(s, backlog);
	if (!err) { /* Linux's init_peercred at listen */
		pthread_mutex_lock(&s->lock);
		s->peercred = s->owncred;
		s->has_peercred = true;
		pthread_mutex_unlock(&s->lock);
	}
	return err;
}

static int unix_accept(struct socket *s, struct socket **out, bool nonblock)
{
	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	return stream_accept(s, out, nonblock);
}

/* ---- data ------------------------------------------------------------------------- */

static bool wmem_room(void *arg)
{
	struct socket *s = arg;
	return atomic_load(&s->wmem) < (size_t)s->sndbuf || s->err || (s->shutdown & SEND_SHUTDOWN);
}

/* Linux's sock_alloc_send_pskb: a pending error (SO_ERROR, taken), then
 * the socket's own SHUT_WR (EPIPE, no SIGPIPE for datagrams), then room
 * in the send buffer, waited for. Lock held. */
static int dgram_send_room(struct socket *s, struct sock_timeo *t)
{
	for (;;) {
		if (s->err)
			return sock_take_err(s);
		if (s->shutdown & SEND_SHUTDOWN)
			return -EPIPE;
		if (atomic_load(&s->wmem) < (size_t)s->sndbuf)
			return 0;
		int err = sock_wait(&s->lock, &s->wq, wmem_room, s, t);
		if (err)
			return err;
	}
}

static ssize_t dgram_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si,
			     int flags, bool nonblock)
{
	size_t len = it->left;
	struct socket *dst = NULL;
	int err;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (si->to) {
		if ((err = validate(si->to)))
			return err;
	} else {
		pthread_mutex_lock(&s->lock);
		dst = s->peer ? sock_get(s->peer) : NULL;
		pthread_mutex_unlock(&s->lock);
		if (!dst)
			return -ENOTCONN;
	}
	if (s->passcred && (err = autobind(s)))
		goto out;
	err = -EMSGSIZE;
	if (len > (size_t)s->sndbuf - 32)
		goto out;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, false);
	pthread_mutex_lock(&s->lock);
	err = dgram_send_room(s, &t);
	struct unix_addr *from = addr_get(s->uaddr);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		unix_addr_put(from);
		goto out;
	}
	struct skb *skb = skb_alloc(len);
	if (!skb) {
		unix_addr_put(from);
		err = -ENOBUFS;
		goto out;
	}
	if (from) {
		skb->addrlen = from->len;
		memcpy(skb->addr, &from->sun, from->len);
		unix_addr_put(from);
	}
	skb->scm = si->scm ? si->scm : scm_new(cred_current(true));
	si->scm = NULL;
	if (!skb->scm || iter_from(it, skb->data, len) < len) {
		err = skb->scm ? -EFAULT : -ENOBUFS;
		skb_free(skb);
		goto out;
	}
	skb_charge(skb, s);
	if (si->to && (err = find_other(si->to, SOCK_DGRAM, &dst))) {
		skb_free(skb);
		goto out;
	}
	if (!may_send(s, dst)) {
		skb_free(skb);
		err = -EPERM;
		goto out;
	}
	err = dgram_deliver(s, dst, skb, true, nonblock);
	if (err == -ECONNREFUSED) { /* our peer is gone: disconnect */
		pthread_mutex_lock(&s->lock);
		struct socket *old = s->peer == dst ? s->peer : NULL;
		if (old) {
			s->peer = NULL;
			s->state = SK_CLOSE;
		}
		pthread_mutex_unlock(&s->lock);
		if (old) {
			dgram_disconnected(s, old);
			sock_put(old);
		}
	}
out:
	sock_put(dst);
	return err ? err : (ssize_t)len;
}

static ssize_t unix_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si,
			    int flags, bool nonblock)
{
	if (s->type == SOCK_DGRAM)
		return dgram_sendmsg(s, it, si, flags, nonblock);
	return stream_sendmsg(s, it, si, flags, nonblock);
}

static ssize_t unix_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri,
			    int flags, bool nonblock)
{
	if (s->type == SOCK_DGRAM)
		return dgram_recvmsg(s, it, ri, flags, nonblock);
	if (s->type == SOCK_SEQPACKET) {
		pthread_mutex_lock(&s->lock);
		bool conn = s->state == SK_ESTABLISHED;
		pthread_mutex_unlock(&s->lock);
		if (!conn)
			return -ENOTCONN;
	}
	return stream_recvmsg(s, it, ri, flags, nonblock);
}

static unsigned unix_poll(struct socket *s)
{
	return s->type == SOCK_DGRAM ? dgram_poll(s, true) : stream_poll(s);
}

static int unix_shutdown(struct socket *s, int how)
{
	if (s->type != SOCK_DGRAM)
		return stream_shutdown(s, how);
	pthread_mutex_lock(&s->lock);
	s->shutdown |= how;
	pthread_mutex_unlock(&s->lock);
	sock_wake(s);
	return 0;
}

static void unix_release(struct socket *s)
{
	unhash(s);
	if (s->type != SOCK_DGRAM) {
		stream_release(s);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->dead = true;
	struct socket *peer = s->peer;
	s->peer = NULL;
	pthread_mutex_unlock(&s->lock);
	sock_put(peer);
	dgram_purge(s);
	sock_wake(s);
}

static long unix_inq(struct socket *s)
{
	return s->type == SOCK_DGRAM ? dgram_inq(s) : stream_inq(s);
}

static long unix_outq(struct socket *s)
{
	return atomic_load(&s->wmem);
}

static const struct proto_ops unix_ops = {
	.release = unix_release,
	.bind = unix_bind,
	.connect = unix_connect,
	.socketpair = unix_socketpair,
	.listen = unix_listen,
	.accept = unix_accept,
	.getname = unix_getname,
	.poll = unix_poll,
	.shutdown = unix_shutdown,
	.sendmsg = unix_sendmsg,
	.recvmsg = unix_recvmsg,
	.inq = unix_inq,
	.outq = unix_outq,
	.scm_rights = true,
};

int unix_create(struct socket **out, int type, int protocol)
{
	if (protocol && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	switch (type) {
	case SOCK_RAW:
		type = SOCK_DGRAM; /* Linux's compatibility */
		break;
	case SOCK_STREAM:
	case SOCK_DGRAM:
	case SOCK_SEQPACKET:
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	struct socket *s = sock_alloc(AF_UNIX, type, 0, &unix_ops);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}
