/* The socket system calls (Linux's net/socket.c): argument checks in
 * Linux's order, the socket file (read/write/poll/ioctl/fstat), msghdr and
 * control-message handling, SOL_SOCKET options, and dispatch to the
 * family's proto_ops (net/socket.h). */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/ktime.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"
#include "net/socket.h"

#define NPROTO 46
#define SOCK_MAX 11
#define SOCK_TYPE_MASK 0xf
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define MAX_RW_COUNT (INT_MAX & PAGE_MASK)
#define OPTMEM_MAX 131072
#define SCM_MAX_FD 253
#define SOCKFS_DEV_MINOR 9 /* sockfs is an anonymous device: 0:N */
/* Linux's minimums on x86-64: TCP_SKB_MIN_TRUESIZE (2048 + the aligned
 * struct sk_buff) and twice that. */
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF 4608
#define TCP_RMEM_MAX 33554432  /* net.ipv4.tcp_rmem[2] */

/* ---- socket objects -------------------------------------------------------- */

struct socket *sock_alloc(int family, int type, int protocol, const struct proto_ops *ops)
{
	static _Atomic uint64_t next_ino = 30000;
	struct socket *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->refs, 1);
	waitq_init(&s->wq);
	s->ops = ops;
	s->family = family;
	s->type = type;
	s->protocol = protocol;
	s->ino = atomic_fetch_add(&next_ino, 1);
	s->uid = current ? current->proc->uid : 0;
	s->gid = current ? current->proc->gid : 0;
	s->state = SK_CLOSE;
	s->sndbuf = s->rcvbuf = 212992; /* net.core.[wr]mem_default */
	s->peek_off = -1;
	s->acc_tail = &s->acc_head;
	skbq_init(&s->rq);
	for (int i = 0; i < NR_INT_OPTS; i++)
		s->int_opts[i] = INT_MIN; /* not set: the table's default */
	return s;
}

struct socket *sock_get(struct socket *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void sock_put(struct socket *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	skb_free_list(skbq_take_all(&s->rq));
	while (s->acc_head) { /* only if never released (cannot happen) */
		struct socket *c = s->acc_head;
		s->acc_head = c->acc_next;
		sock_put(c);
	}
	if (s->peer)
		sock_put(s->peer);
	if (s->uaddr)
		unix_addr_put(s->uaddr);
	free(s->inet);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void sock_unpin(void *obj)
{
	sock_put(obj);
}

void sock_wake(struct socket *s)
{
	if (waitq_active(&s->wq))
		waitq_wake_all(&s->wq);
}

void sock_wake_events(struct socket *s, unsigned events)
{
	if (waitq_active(&s->wq))
		waitq_wake_events(&s->wq, events);
}

struct sock_cred cred_current(bool real)
{
	struct process *p = current->proc;
	return (struct sock_cred){ p->pid, real ? p->ruid : p->uid, real ? p->rgid : p->gid };
}

int sock_take_err(struct socket *s)
{
	int e = s->err;
	s->err = 0;
	return -e;
}

void sock_sigpipe(int flags)
{
	if (!(flags & MSG_NOSIGNAL) && current)
		signal_raise(SIGPIPE);
}

/* ---- waiting ---------------------------------------------------------------- */

void sock_timeo_init(struct sock_timeo *t, struct socket *s, bool nonblock, bool rcv)
{
	int64_t us = rcv ? s->rcvtimeo_us : s->sndtimeo_us;
	t->nonblock = nonblock || us < 0;
	t->forever = us == 0;
	if (!t->nonblock && !t->forever) {
		struct timespec rel = { us / 1000000, (us % 1000000) * 1000 };
		t->end = deadline_after(&rel);
	}
}

int sock_wait(pthread_mutex_t *mu, struct waitq *q, bool (*cond)(void *), void *arg,
	      struct sock_timeo *t)
{
	if (cond(arg))
		return 0;
	if (t->nonblock)
		return -EAGAIN;
	struct wait_entry e;
	int r = 0;
	waitq_add(q, &e);
	for (;;) {
		uint32_t snap = sleep_prepare();
		if (cond(arg))
			break;
		pthread_mutex_unlock(mu);
		r = sleep_until(snap, t->forever ? NULL : &t->end);
		pthread_mutex_lock(mu);
		if (r) {
			if (cond(arg))
				r = 0;
			else if (r == -ETIMEDOUT)
				r = -EAGAIN;
			else /* Linux's sock_intr_errno */
				r = t->forever ? -ERESTARTSYS : -EINTR;
			break;
		}
	}
	waitq_remove(&e);
	return r;
}

/* ---- the interface ioctls ---------------------------------------------------- */

/* --net=none has one interface, lo: index 1, 127.0.0.1/8, mtu 65536,
 * up and running (Linux's dev_ioctl, devinet_ioctl and dev_ifconf as
 * sock_do_ioctl reaches them). */
#define LO_INDEX 1
#define LO_MTU 65536
#define LO_TXQLEN 1000
#define LO_FLAGS (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)
#define ARPHRD_LOOPBACK_ 772

/* SIOCGIFCONF: an ifreq per IPv4 address that fits; ifc_len becomes
 * what was written (or, with no buffer, what would be). */
static long ifconf_ioctl(gaddr_t arg)
{
	struct ifconf ic;
	if (copy_from_guest(&ic, arg, sizeof(ic)))
		return -EFAULT;
	int total = 0;
	if (!ic.ifc_buf) {
		total = sizeof(struct ifreq);
	} else if (ic.ifc_len >= (int)sizeof(struct ifreq)) {
		struct ifreq r;
		memset(&r, 0, sizeof(r));
		strcpy(r.ifr_name, "lo");
		struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (copy_to_guest((gaddr_t)(uintptr_t)ic.ifc_buf, &r, sizeof(r)))
			return -EFAULT;
		total = sizeof(r);
	}
	ic.ifc_len = total;
	return copy_to_guest(arg, &ic, sizeof(ic)) ? -EFAULT : 0;
}

/* The interface ioctls of a socket of family (they take an ifreq, copied
 * back whole on success), or -ENOTTY for another command. */
static long netdev_ioctl(int family, unsigned cmd, gaddr_t arg)
{
	struct ifreq r;
	bool inet_cmd = cmd == SIOCGIFADDR || cmd == SIOCGIFBRDADDR || cmd == SIOCGIFDSTADDR ||
			cmd == SIOCGIFNETMASK || cmd == SIOCGIFPFLAGS;
	if (cmd == SIOCGIFCONF)
		return ifconf_ioctl(arg);
	if (inet_cmd && family != AF_INET)
		return -ENOTTY; /* only inet_ioctl hands them to devinet_ioctl */
	switch (cmd) {
	case SIOCGIFNAME: case SIOCGIFFLAGS: case SIOCGIFMETRIC: case SIOCGIFMTU:
	case SIOCGIFSLAVE: case SIOCGIFMAP: case SIOCGIFINDEX: case SIOCGIFTXQLEN:
	case SIOCGIFHWADDR: case SIOCGIFADDR: case SIOCGIFBRDADDR: case SIOCGIFDSTADDR:
	case SIOCGIFNETMASK: case SIOCGIFPFLAGS:
		break;
	default:
		return -ENOTTY;
	}
	if (copy_from_guest(&r, arg, sizeof(r)))
		return -EFAULT;
	r.ifr_name[IFNAMSIZ - 1] = 0;
	if (cmd == SIOCGIFNAME) { /* dev_ifname */
		if (r.ifr_ifindex != LO_INDEX)
			return -ENODEV;
		strcpy(r.ifr_name, "lo");
		return copy_to_guest(arg, &r, sizeof(r)) ? -EFAULT : 0;
	}
	if (cmd == SIOCGIFPFLAGS)
		return -EINVAL; /* devinet_ioctl has no such command */
	/* The device is named without an alias (lo:0 is lo); an address
	 * belongs to the label (lo) itself. */
	char dev[IFNAMSIZ];
	memcpy(dev, r.ifr_name, IFNAMSIZ);
	char *colon = strchr(dev, ':');
	if (colon)
		*colon = 0;
	if (strcmp(dev, "lo"))
		return -ENODEV;
	if (inet_cmd) {
		if (strcmp(r.ifr_name, "lo"))
			return -EADDRNOTAVAIL;
		struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;
		uint32_t a = cmd == SIOCGIFADDR || cmd == SIOCGIFDSTADDR ? htonl(INADDR_LOOPBACK)
			: cmd == SIOCGIFNETMASK ? htonl(0xff000000) : 0;
		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = a;
		return copy_to_guest(arg, &r, sizeof(r)) ? -EFAULT : 0;
	}
	switch (cmd) {
	case SIOCGIFFLAGS:
		r.ifr_flags = LO_FLAGS;
		break;
	case SIOCGIFMETRIC:
		r.ifr_metric = 0;
		break;
	case SIOCGIFMTU:
		r.ifr_mtu = LO_MTU;
		break;
	case SIOCGIFSLAVE:
		return -EINVAL;
	case SIOCGIFMAP: /* dev_getifmap: every field 0, the padding kept */
		r.ifr_map.mem_start = r.ifr_map.mem_end = 0;
		r.ifr_map.base_addr = 0;
		r.ifr_map.irq = r.ifr_map.dma = r.ifr_map.port = 0;
		break;
	case SIOCGIFINDEX:
		r.ifr_ifindex = LO_INDEX;
		break;
	case SIOCGIFTXQLEN:
		r.ifr_qlen = LO_TXQLEN;
		break;
	case SIOCGIFHWADDR: /* an all-zero address of ETH_ALEN bytes */
		r.ifr_hwaddr.sa_family = ARPHRD_LOOPBACK_;
		memset(r.ifr_hwaddr.sa_data, 0, 6);
		break;
	}
	return copy_to_guest(arg, &r, sizeof(r)) ? -EFAULT : 0;
}

/* ---- the socket file ------------------------------------------------------- */

static const struct file_ops socket_file_ops;

static struct socket *SOCK(struct file *f) { return f->priv; }

static ssize_t sock_file_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct socket *s = SOCK(f);
	struct msg_iter it;
	struct recv_info ri = { 0 };
	iter_init(&it, false, iov, n);
	/* Linux's sock_read_iter: a read of nothing is 0 before the protocol
	 * sees it, whatever the state (a recv of nothing waits for data). */
	if (!it.left)
		return 0;
	ssize_t r = s->ops->recvmsg(s, &it, &ri, 0, (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT));
	scm_free(ri.scm); /* read(2) drops files in flight, like Linux */
	return r;
}

/* write(2) is send(2) without flags: the protocol raises SIGPIPE or not
 * (fs/rw.c leaves sockets alone). */
static ssize_t sock_file_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct socket *s = SOCK(f);
	struct msg_iter it;
	struct send_info si = { 0 };
	iter_init(&it, false, iov, n);
	return s->ops->sendmsg(s, &it, &si, 0, (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT));
}

void sock_unpin_put(void *sock)
{
	sock_put(sock);
}

static unsigned sock_file_poll(struct file *f, struct poll_table *pt)
{
	struct socket *s = SOCK(f);
	if (pt && pt->queue)
		poll_wait_obj(&s->wq, pt, sock_unpin, sock_get(s));
	bool peer_full = s->family == AF_UNIX && s->type == SOCK_DGRAM && unix_dgram_peer_full(s, pt);
	unsigned mask = s->ops->poll(s);
	if (peer_full)
		mask &= ~(POLLOUT | POLLWRNORM | POLLWRBAND);
	return mask;
}

static long sock_file_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	struct socket *s = SOCK(f);
	long v;
	switch (cmd) {
	case SIOCINQ:
		v = s->ops->inq ? s->ops->inq(s) : -ENOTTY;
		break;
	case SIOCOUTQ:
		v = s->ops->outq ? s->ops->outq(s) : -ENOTTY;
		break;
	case SIOCATMARK:
		v = s->ops->atmark ? s->ops->atmark(s) : s->family == AF_UNIX ? -ENOTTY : 0;
		break;
	default:
		/* --net=host: the host's interfaces are not the kernel's lo. */
		return net_host ? -ENOTTY : netdev_ioctl(s->family, cmd, arg);
	}
	if (v < 0)
		return v;
	int iv = (int)v;
	return copy_to_guest(arg, &iv, sizeof(iv));
}

static int sock_file_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	struct socket *s = SOCK(f);
	memset(x, 0, sizeof(*x));
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_blksize = PAGE_SIZE;
	x->stx_nlink = 1;
	x->stx_mode = S_IFSOCK | 0777;
	x->stx_uid = s->uid;
	x->stx_gid = s->gid;
	x->stx_ino = s->ino;
	x->stx_dev_minor = SOCKFS_DEV_MINOR;
	return 0;
}

static void sock_file_release(struct file *f)
{
	struct socket *s = SOCK(f);
	eventpoll_release(f);
	s->ops->release(s);
	sock_put(s);
}

static const struct file_ops socket_file_ops = {
	.read = sock_file_read,
	.write = sock_file_write,
	.poll = sock_file_poll,
	.ioctl = sock_file_ioctl,
	.statx = sock_file_statx,
	.release = sock_file_release,
};

bool file_is_socket(const struct file *f)
{
	return f->ops == &socket_file_ops;
}

/* A file for s (the socket's reference taken over), installed: the fd. */
static int sock_install(struct socket *s, int flags)
{
	struct file *f = file_new(&socket_file_ops, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0),
				  S_IFSOCK, s);
	if (!f) {
		s->ops->release(s);
		sock_put(s);
		return -ENOMEM;
	}
	f->no_pread = true;
	f->may_block = true; /* data is copied under socket locks: no guest memory lock */
	int fd = fd_install(f, 0, flags & SOCK_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

/* The file of a socket fd (a reference) or NULL with *err. */
static struct file *sock_fget(int fd, long *err)
{
	struct file *f = fget(fd);
	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (f->ops != &socket_file_ops) {
		fput(f);
		*err = -ENOTSOCK;
		return NULL;
	}
	return f;
}

struct socket *sockfd_get(int fd, int *err)
{
	long e;
	struct file *f = sock_fget(fd, &e);
	if (!f) {
		*err = e;
		return NULL;
	}
	struct socket *s = sock_get(SOCK(f));
	fput(f);
	return s;
}

/* ---- creating ------------------------------------------------------------------ */

static int sock_create(int family, int type, int protocol, struct socket **out)
{
	if (family < 0 || family >= NPROTO)
		return -EAFNOSUPPORT;
	if (type < 0 || type >= SOCK_MAX)
		return -EINVAL;
	switch (family) {
	case AF_UNIX:
		return unix_create(out, type, protocol);
	case AF_INET:
	case AF_INET6:
		if (net_host)
			return hostsock_create(out, family, type, protocol);
		return inet_create(out, family, type, protocol);
	default:
		return -EAFNOSUPPORT;
	}
}

long sys_socket(const struct sysargs *a)
{
	int family = a->a[0], type = a->a[1], protocol = a->a[2];
	int flags = type & ~SOCK_TYPE_MASK;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	struct socket *s;
	int err = sock_create(family, type & SOCK_TYPE_MASK, protocol, &s);
	if (err)
		return err;
	return sock_install(s, flags);
}

long sys_socketpair(const struct sysargs *a)
{
	int family = a->a[0], type = a->a[1], protocol = a->a[2];
	gaddr_t usv = a->a[3];
	int flags = type & ~SOCK_TYPE_MASK;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	type &= SOCK_TYPE_MASK;
	/* Linux takes the two fds and writes them before making the sockets. */
	int err = fd_check_free();
	if (err)
		return err;
	int probe[2] = { 0, 0 };
	if (copy_from_guest(probe, usv, sizeof(probe)) || copy_to_guest(usv, probe, sizeof(probe)))
		return -EFAULT;
	struct socket *s1, *s2;
	if ((err = sock_create(family, type, protocol, &s1)))
		return err;
	if ((err = sock_create(family, type, protocol, &s2))) {
		s1->ops->release(s1);
		sock_put(s1);
		return err;
	}
	err = s1->ops->socketpair ? s1->ops->socketpair(s1, s2) : -EOPNOTSUPP;
	if (err) {
		s1->ops->release(s1);
		sock_put(s1);
		s2->ops->release(s2);
		sock_put(s2);
		return err;
	}
	int fd1 = sock_install(s1, flags);
	if (fd1 < 0) {
		s2->ops->release(s2);
		sock_put(s2);
		return fd1;
	}
	int fd2 = sock_install(s2, flags);
	if (fd2 < 0) {
		sys_close(&(struct sysargs){ .a = { fd1 } });
		return fd2;
	}
	int sv[2] = { fd1, fd2 };
	if (copy_to_guest(usv, sv, sizeof(sv))) { /* unmapped meanwhile */
		sys_close(&(struct sysargs){ .a = { fd1 } });
		sys_close(&(struct sysargs){ .a = { fd2 } });
		return -EFAULT;
	}
	return 0;
}

/* ---- addresses ------------------------------------------------------------------ */

/* Linux's move_addr_to_kernel. */
static int addr_from_guest(struct sock_addr *k, gaddr_t uaddr, int64_t len)
{
	if (len < 0 || len > (int64_t)sizeof(struct sockaddr_storage))
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->len = len;
	if (len && copy_from_guest(&k->ss, uaddr, len))
		return -EFAULT;
	return 0;
}

/* Linux's move_addr_to_user: copy at most the guest's length, report
 * the whole. */
static int addr_to_guest(const struct sock_addr *k, gaddr_t uaddr, gaddr_t ulen)
{
	int len;
	if (copy_from_guest(&len, ulen, sizeof(len)))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (len > k->len)
		len = k->len;
	if (len && copy_to_guest(uaddr, &k->ss, len))
		return -EFAULT;
	return copy_to_guest(ulen, &k->len, sizeof(k->len));
}

long sys_bind(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct sock_addr k;
	err = addr_from_guest(&k, a->a[1], (int)a->a[2]);
	if (!err)
		err = SOCK(f)->ops->bind(SOCK(f), &k);
	fput(f);
	return err;
}

long sys_connect(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct sock_addr k;
	err = addr_from_guest(&k, a->a[1], (int)a->a[2]);
	if (!err)
		err = SOCK(f)->ops->connect(SOCK(f), &k, f->flags & O_NONBLOCK);
	fput(f);
	return err;
}

long sys_listen(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	int backlog = a->a[1];
	if ((unsigned)backlog > SYSCTL_SOMAXCONN)
		backlog = SYSCTL_SOMAXCONN;
	err = SOCK(f)->ops->listen ? SOCK(f)->ops->listen(SOCK(f), backlog) : -EOPNOTSUPP;
	fput(f);
	return err;
}

static long do_accept(int fd, gaddr_t uaddr, gaddr_t ulen, int flags)
{
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	long err;
	struct file *f = sock_fget(fd, &err);
	if (!f)
		return err;
	struct socket *s = SOCK(f), *ns;
	if ((err = fd_check_free()))
		goto out;
	if (!s->ops->accept) {
		err = -EOPNOTSUPP;
		goto out;
	}
	if ((err = s->ops->accept(s, &ns, f->flags & O_NONBLOCK)))
		goto out;
	int nfd = sock_install(ns, flags);
	if (nfd < 0) {
		err = nfd;
		goto out;
	}
	if (uaddr) {
		struct sock_addr k;
		if (ns->ops->getname(ns, &k, true) < 0)
			err = -ECONNABORTED;
		else
			err = addr_to_guest(&k, uaddr, ulen);
		if (err) { /* Linux drops the new connection too */
			sys_close(&(struct sysargs){ .a = { nfd } });
			goto out;
		}
	}
	err = nfd;
out:
	fput(f);
	return err;
}

long sys_accept(const struct sysargs *a) { return do_accept(a->a[0], a->a[1], a->a[2], 0); }
long sys_accept4(const struct sysargs *a) { return do_accept(a->a[0], a->a[1], a->a[2], a->a[3]); }

static long do_getname(const struct sysargs *a, bool peer)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct sock_addr k;
	err = SOCK(f)->ops->getname(SOCK(f), &k, peer);
	if (!err)
		err = addr_to_guest(&k, a->a[1], a->a[2]);
	fput(f);
	return err;
}

long sys_getsockname(const struct sysargs *a) { return do_getname(a, false); }
long sys_getpeername(const struct sysargs *a) { return do_getname(a, true); }

long sys_shutdown(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	int how = (int)a->a[1] + 1; /* SHUT_RD -> RCV_SHUTDOWN... */
	if (how <= 0 || how > SHUTDOWN_MASK)
		err = -EINVAL;
	else
		err = SOCK(f)->ops->shutdown(SOCK(f), how);
	fput(f);
	return err;
}

/* ---- messages ---------------------------------------------------------------------- */

struct guest_msghdr {
	uint64_t name;
	int32_t namelen;
	uint32_t pad1;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
	int32_t flags;
	uint32_t pad2;
};

struct guest_cmsghdr {
	uint64_t len;
	int32_t level, type;
};
#define CMSG_HDR 16
#define CMSG_ALIGN8(n) (((n) + 7) & ~(size_t)7)

static bool access_ok(uint64_t addr, uint64_t len)
{
	return len <= TASK_SIZE_MAX && addr <= TASK_SIZE_MAX - len;
}

/* Linux's import_iovec on guest iovecs (kept as guest addresses). */
static long import_iov(gaddr_t uiov, uint64_t n, struct iovec *iov)
{
	if (n > UIO_MAXIOV)
		return -EMSGSIZE;
	struct { uint64_t base, len; } seg[UIO_MAXIOV];
	if (n && copy_from_guest(seg, uiov, n * sizeof(seg[0])))
		return -EFAULT;
	size_t total = 0;
	for (uint64_t i = 0; i < n; i++) {
		if ((int64_t)seg[i].len < 0)
			return -EINVAL;
		if (!access_ok(seg[i].base, seg[i].len))
			return -EFAULT;
		size_t l = MIN(seg[i].len, MAX_RW_COUNT - total);
		iov[i] = (struct iovec){ (void *)(uintptr_t)seg[i].base, l };
		total += l;
	}
	return total;
}

/* SCM_CREDENTIALS given by a sender: its own pid and one of its ids,
 * unless it is root (CAP_SYS_ADMIN/CAP_SETUID/CAP_SETGID). */
static int check_creds(const struct ucred *u)
{
	struct process *p = current->proc;
	bool root = p->uid == 0;
	if (u->pid != p->pid && !root)
		return -EPERM;
	if (u->uid != p->ruid && u->uid != p->uid && u->uid != p->suid && !root)
		return -EPERM;
	if (u->gid != p->rgid && u->gid != p->gid && u->gid != p->sgid && !root)
		return -EPERM;
	return 0;
}

#ifndef SCM_TS_OPT_ID
#define SCM_TS_OPT_ID 78
#endif
#ifndef SCM_DEVMEM_DMABUF
#define SCM_DEVMEM_DMABUF 79
#endif
#define SOF_TSTAMP_TX_RECORD_MASK (1 << 0 | 1 << 1 | 1 << 8 | 1 << 9 | 1 << 18) /* ..._TX_COMPLETION */

int sock_cmsg_check(struct socket *s, int type, const void *data, size_t dlen)
{
	uint32_t v = 0;
	if (dlen == sizeof(v))
		memcpy(&v, data, sizeof(v));
	switch (type) {
	case SO_MARK:
		if (!capable(CAP_NET_RAW) && !capable(CAP_NET_ADMIN))
			return -EPERM;
		return dlen == sizeof(v) ? 0 : -EINVAL;
	case SO_TIMESTAMPING_OLD:
	case SO_TIMESTAMPING_NEW:
		return dlen == sizeof(v) && !(v & ~SOF_TSTAMP_TX_RECORD_MASK) ? 0 : -EINVAL;
	case SCM_TXTIME:    /* wants SO_TXTIME, which the kernel does not take */
	case SCM_TS_OPT_ID: /* wants SOF_TIMESTAMPING_OPT_ID, likewise */
		return -EINVAL;
	case SCM_RIGHTS: /* semantically SOL_UNIX: ignored */
	case SCM_CREDENTIALS:
		return 0;
	case SO_PRIORITY: /* sk_set_prio_allowed */
		if (dlen != sizeof(v))
			return -EINVAL;
		return v <= 6 || capable(CAP_NET_RAW) || capable(CAP_NET_ADMIN) ? 0 : -EPERM;
	case SCM_DEVMEM_DMABUF: /* used only by MSG_ZEROCOPY sends */
		return dlen == sizeof(v) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* Parse control messages (Linux's __scm_send for AF_UNIX; the inet
 * families check SOL_SOCKET ones as __sock_cmsg_send and ignore other
 * levels). */
static int scm_parse(struct socket *s, const char *ctl, size_t len, struct send_info *si)
{
	struct scm *scm = NULL;
	int err = 0;
	for (size_t off = 0; len >= CMSG_HDR && off <= len - CMSG_HDR;) {
		struct guest_cmsghdr h;
		memcpy(&h, ctl + off, sizeof(h));
		if (h.len < CMSG_HDR || h.len > len - off) {
			err = -EINVAL;
			break;
		}
		const char *data = ctl + off + CMSG_HDR;
		size_t dlen = h.len - CMSG_HDR;
		if (h.level == SOL_SOCKET) {
			if (!s->ops->scm_rights) {
				/* The IP protocols fail only after their own checks
				 * (UDP checks them again, in order, for the error). */
				if (sock_cmsg_check(s, h.type, data, dlen))
					si->bad_cmsg = true;
				off += CMSG_ALIGN8(h.len);
				continue;
			}
			if (!scm && !(scm = scm_new(cred_current(true)))) {
				err = -ENOMEM;
				break;
			}
			if (h.type == SCM_RIGHTS) {
				int n = dlen / sizeof(int);
				if (n > 0) {
					if (n + scm->nfiles > SCM_MAX_FD) {
						err = -EINVAL;
						break;
					}
					struct file **fs = realloc(scm->files, (scm->nfiles + n) * sizeof(*fs));
					if (!fs) {
						err = -ENOMEM;
						break;
					}
					scm->files = fs;
					for (int i = 0; i < n; i++) {
						int fd;
						memcpy(&fd, data + i * sizeof(int), sizeof(int));
						struct file *f = fget_raw(fd);
						if (!f) {
							err = -EBADF;
							break;
						}
						scm->files[scm->nfiles++] = f;
						unix_inflight_add(1);
					}
					if (err)
						break;
				}
			} else if (h.type == SCM_CREDENTIALS) {
				struct ucred u;
				if (dlen != sizeof(u)) {
					err = -EINVAL;
					break;
				}
				memcpy(&u, data, sizeof(u));
				if ((err = check_creds(&u)))
					break;
				scm->cred = (struct sock_cred){ u.pid, u.uid, u.gid };
				si->explicit_cred = true;
			} else {
				err = -EINVAL;
				break;
			}
		}
		off += CMSG_ALIGN8(h.len);
	}
	if (!err && scm && scm->nfiles && current->proc->uid != 0 &&
	    unix_inflight() - scm->nfiles > (int)nofile_limit())
		err = -ETOOMANYREFS;
	if (err) {
		scm_free(scm);
		return err;
	}
	si->scm = scm;
	return 0;
}

/* Control data out (Linux's put_cmsg and scm_detach_fds). */
struct cmsg_out {
	gaddr_t ptr;
	size_t space;
	int *msg_flags;
};

static void put_cmsg(struct cmsg_out *o, int level, int type, const void *data, size_t len)
{
	size_t cmlen = CMSG_HDR + len;
	if (o->space < CMSG_HDR) {
		*o->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (o->space < cmlen) {
		*o->msg_flags |= MSG_CTRUNC;
		cmlen = o->space;
	}
	struct guest_cmsghdr h = { cmlen, level, type };
	if (copy_to_guest(o->ptr, &h, sizeof(h)) ||
	    copy_to_guest(o->ptr + CMSG_HDR, data, cmlen - CMSG_HDR))
		return;
	size_t adv = MIN(CMSG_ALIGN8(CMSG_HDR + len), o->space);
	o->ptr += adv;
	o->space -= adv;
}

static void detach_fds(struct cmsg_out *o, struct scm *scm, bool cloexec)
{
	int fdmax = o->space > CMSG_HDR ? (o->space - CMSG_HDR) / sizeof(int) : 0;
	int i = 0;
	for (; i < scm->nfiles && i < fdmax; i++) {
		int fd = fd_install(scm->files[i], 0, cloexec);
		if (fd < 0)
			break;
		scm->files[i] = NULL; /* the fd table has it now */
		unix_inflight_add(-1);
		if (copy_to_guest(o->ptr + CMSG_HDR + i * sizeof(int), &fd, sizeof(fd))) {
			i++;
			break;
		}
	}
	if (i > 0) {
		struct guest_cmsghdr h = { CMSG_HDR + i * sizeof(int), SOL_SOCKET, SCM_RIGHTS };
		copy_to_guest(o->ptr, &h, sizeof(h));
		size_t adv = MIN(CMSG_ALIGN8(CMSG_HDR + i * sizeof(int)), o->space);
		o->ptr += adv;
		o->space -= adv;
	}
	if (i < scm->nfiles)
		*o->msg_flags |= MSG_CTRUNC;
	/* What was not installed is dropped by scm_free; compact it first. */
	int k = 0;
	for (int j = 0; j < scm->nfiles; j++)
		if (scm->files[j])
			scm->files[k++] = scm->files[j];
	scm->nfiles = k;
}

/* After a receive: control messages into the guest's buffer. Returns the
 * control bytes used. */
static size_t deliver_control(struct socket *s, struct recv_info *ri, gaddr_t control,
			      size_t controllen, int flags)
{
	struct cmsg_out o = { control, control ? controllen : 0, &ri->msg_flags };
	bool passcred = s->passcred && s->ops->scm_rights;
	if (!control) {
		if (passcred || (ri->scm && ri->scm->nfiles) || ri->ctllen)
			ri->msg_flags |= MSG_CTRUNC;
	} else {
		if (passcred) {
			struct ucred u = { 0, 0, 0 };
			if (ri->has_cred)
				u = (struct ucred){ ri->cred.pid, ri->cred.uid, ri->cred.gid };
			put_cmsg(&o, SOL_SOCKET, SCM_CREDENTIALS, &u, sizeof(u));
		}
		for (size_t off = 0; off + CMSG_HDR <= ri->ctllen;) {
			struct guest_cmsghdr h;
			memcpy(&h, ri->ctl + off, sizeof(h));
			if (h.len < CMSG_HDR || h.len > ri->ctllen - off)
				break;
			put_cmsg(&o, h.level, h.type, ri->ctl + off + CMSG_HDR, h.len - CMSG_HDR);
			off += CMSG_ALIGN8(h.len);
		}
		if (ri->scm && ri->scm->nfiles)
			detach_fds(&o, ri->scm, flags & MSG_CMSG_CLOEXEC);
	}
	scm_free(ri->scm);
	ri->scm = NULL;
	return control ? controllen - o.space : 0;
}

/* One sendmsg given the guest's header (sendmsg, sendmmsg). */
static long send_one(struct file *f, const struct guest_msghdr *m, int flags)
{
	struct socket *s = SOCK(f);
	struct sock_addr to;
	struct send_info si = { 0 };
	struct iovec iov[UIO_MAXIOV];
	int namelen = m->namelen;
	if (namelen < 0)
		return -EINVAL;
	if (namelen > (int)sizeof(struct sockaddr_storage))
		namelen = sizeof(struct sockaddr_storage);
	if (m->name && namelen) {
		long err = addr_from_guest(&to, m->name, namelen);
		if (err)
			return err;
		si.to = &to;
	}
	long total = import_iov(m->iov, m->iovlen, iov);
	if (total < 0)
		return total;
	if (m->controllen > INT_MAX || m->controllen > OPTMEM_MAX)
		return -ENOBUFS;
	char *ctl = NULL;
	if (m->controllen) {
		ctl = malloc(m->controllen);
		if (!ctl)
			return -ENOBUFS;
		long err = copy_from_guest(ctl, m->control, m->controllen);
		if (!err)
			err = scm_parse(s, ctl, m->controllen, &si);
		if (err) {
			free(ctl);
			return err;
		}
		si.ctl = ctl;
		si.ctllen = m->controllen;
	}
	struct msg_iter it;
	iter_init(&it, true, iov, m->iovlen);
	bool nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	long r = s->ops->sendmsg(s, &it, &si, flags, nonblock);
	scm_free(si.scm); /* what the transport did not take */
	free(ctl);
	return r;
}

/* One recvmsg; writes back msg_namelen, msg_controllen and msg_flags at
 * umsg. */
static long recv_one(struct file *f, gaddr_t umsg, const struct guest_msghdr *m, int flags)
{
	struct socket *s = SOCK(f);
	struct iovec iov[UIO_MAXIOV];
	if (m->namelen < 0)
		return -EINVAL;
	long total = import_iov(m->iov, m->iovlen, iov);
	if (total < 0)
		return total;
	struct msg_iter it;
	struct recv_info ri = { 0 };
	iter_init(&it, true, iov, m->iovlen);
	bool nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	long r = s->ops->recvmsg(s, &it, &ri, flags, nonblock);
	if (r < 0) {
		scm_free(ri.scm);
		return r;
	}
	if (m->name) {
		long err = addr_to_guest(&ri.from, m->name, umsg + offsetof(struct guest_msghdr, namelen));
		if (err) {
			scm_free(ri.scm);
			return err;
		}
	}
	uint64_t used = deliver_control(s, &ri, m->control, m->controllen, flags);
	/* ____sys_recvmsg starts msg_flags from the call's MSG_CMSG_CLOEXEC. */
	int32_t mf = ri.msg_flags | (flags & MSG_CMSG_CLOEXEC);
	if (copy_to_guest(umsg + offsetof(struct guest_msghdr, flags), &mf, sizeof(mf)) ||
	    copy_to_guest(umsg + offsetof(struct guest_msghdr, controllen), &used, sizeof(used)))
		return -EFAULT;
	return r;
}

long sys_sendmsg(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct guest_msghdr m;
	if (copy_from_guest(&m, a->a[1], sizeof(m)))
		err = -EFAULT;
	else
		err = send_one(f, &m, (int)a->a[2]);
	fput(f);
	return err;
}

long sys_recvmsg(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct guest_msghdr m;
	if (copy_from_guest(&m, a->a[1], sizeof(m)))
		err = -EFAULT;
	else
		err = recv_one(f, a->a[1], &m, (int)a->a[2]);
	fput(f);
	return err;
}

/* Linux imports the buffer before it looks at the fd. */
long sys_sendto(const struct sysargs *a)
{
	uint64_t buf = a->a[1], len = MIN(a->a[2], (uint64_t)MAX_RW_COUNT);
	if (!access_ok(buf, len))
		return -EFAULT;
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct socket *s = SOCK(f);
	struct sock_addr to;
	struct send_info si = { 0 };
	if (a->a[4]) {
		if ((err = addr_from_guest(&to, a->a[4], (int)a->a[5])))
			goto out;
		si.to = &to;
	}
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msg_iter it;
	iter_init(&it, true, &iov, 1);
	int flags = a->a[3];
	err = s->ops->sendmsg(s, &it, &si, flags, (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT));
out:
	fput(f);
	return err;
}

long sys_recvfrom(const struct sysargs *a)
{
	uint64_t buf = a->a[1], len = MIN(a->a[2], (uint64_t)MAX_RW_COUNT);
	if (!access_ok(buf, len))
		return -EFAULT;
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct socket *s = SOCK(f);
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msg_iter it;
	struct recv_info ri = { 0 };
	iter_init(&it, true, &iov, 1);
	int flags = a->a[3];
	err = s->ops->recvmsg(s, &it, &ri, flags, (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT));
	scm_free(ri.scm);
	if (err >= 0 && a->a[4]) {
		long e = addr_to_guest(&ri.from, a->a[4], a->a[5]);
		if (e)
			err = e;
	}
	fput(f);
	return err;
}

struct guest_mmsghdr {
	struct guest_msghdr hdr;
	uint32_t len;
	uint32_t pad;
};

long sys_sendmmsg(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	unsigned vlen = MIN((unsigned)a->a[2], UIO_MAXIOV);
	int flags = a->a[3];
	gaddr_t vec = a->a[1];
	unsigned done = 0;
	err = 0;
	for (; done < vlen; done++) {
		gaddr_t um = vec + done * sizeof(struct guest_mmsghdr);
		struct guest_msghdr m;
		if (copy_from_guest(&m, um, sizeof(m))) {
			err = -EFAULT;
			break;
		}
		long r = send_one(f, &m, flags);
		if (r < 0) {
			err = r;
			break;
		}
		uint32_t l = r;
		if (copy_to_guest(um + offsetof(struct guest_mmsghdr, len), &l, sizeof(l))) {
			err = -EFAULT;
			break;
		}
	}
	fput(f);
	return done ? (long)done : err;
}

long sys_recvmmsg(const struct sysargs *a)
{
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	unsigned vlen = MIN((unsigned)a->a[2], UIO_MAXIOV), done = 0;
	int flags = a->a[3];
	gaddr_t vec = a->a[1], utimeout = a->a[4];
	struct timespec end;
	bool timed = false;
	if (utimeout) {
		struct timespec ts;
		if (copy_from_guest(&ts, utimeout, sizeof(ts))) {
			err = -EFAULT;
			goto out;
		}
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) {
			err = -EINVAL;
			goto out;
		}
		end = deadline_after(&ts);
		timed = true;
	}
	err = 0;
	for (; done < vlen; done++) {
		gaddr_t um = vec + done * sizeof(struct guest_mmsghdr);
		struct guest_msghdr m;
		if (copy_from_guest(&m, um, sizeof(m))) {
			err = -EFAULT;
			break;
		}
		long r = recv_one(f, um, &m, flags);
		if (r < 0) {
			err = r;
			break;
		}
		uint32_t l = r;
		if (copy_to_guest(um + offsetof(struct guest_mmsghdr, len), &l, sizeof(l))) {
			err = -EFAULT;
			break;
		}
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timed) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
				done++;
				break;
			}
		}
	}
	if (done && err == -EAGAIN)
		err = 0;
out:
	fput(f);
	return done ? (long)done : err;
}

/* ---- options ------------------------------------------------------------------------- */

/* Options that are a plain integer stored and read back: which level and
 * name, the value before any set, whether it reads back as 0/1, and which
 * sockets take it. */
enum { OPT_ALL = 0, OPT_INET = 1, OPT_TCP = 2, OPT_UDP = 4, OPT_V6 = 8 };
static const struct int_opt {
	int level, name, def;
	bool boolean;
	int only;
} int_opts[] = {
	{ SOL_SOCKET, SO_DEBUG, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_DONTROUTE, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_BROADCAST, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_KEEPALIVE, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_OOBINLINE, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_NO_CHECK, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_PRIORITY, 0, false, OPT_ALL },
	{ SOL_SOCKET, SO_REUSEPORT, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_PASSSEC, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_RXQ_OVFL, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_RCVLOWAT, 1, false, OPT_ALL },
	{ SOL_SOCKET, SO_BUSY_POLL, 0, false, OPT_ALL },
	{ SOL_SOCKET, SO_INCOMING_CPU, -1, false, OPT_ALL },
	{ SOL_SOCKET, SO_ZEROCOPY, 0, true, OPT_ALL },
	{ SOL_SOCKET, SO_MARK, 0, false, OPT_ALL },
	{ IPPROTO_TCP, TCP_NODELAY, 0, true, OPT_TCP },
	{ IPPROTO_TCP, TCP_CORK, 0, true, OPT_TCP },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 7200, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_KEEPINTVL, 75, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_KEEPCNT, 9, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_SYNCNT, 6, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_LINGER2, 60, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, 0, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_WINDOW_CLAMP, 0, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_QUICKACK, 1, true, OPT_TCP },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 0, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_FASTOPEN, 0, false, OPT_TCP },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 0, true, OPT_TCP },
	{ IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 0, true, OPT_TCP },
	{ IPPROTO_IP, IP_TOS, 0, false, OPT_INET },
	{ IPPROTO_IP, IP_TTL, 64, false, OPT_INET },
	{ IPPROTO_IP, IP_RECVERR, 0, true, OPT_INET },
	{ IPPROTO_IP, IP_PKTINFO, 0, true, OPT_INET },
	{ IPPROTO_IP, IP_RECVTTL, 0, true, OPT_INET },
	{ IPPROTO_IP, IP_RECVTOS, 0, true, OPT_INET },
	{ IPPROTO_IP, IP_MTU_DISCOVER, 1, false, OPT_INET },
	{ IPPROTO_IP, IP_FREEBIND, 0, true, OPT_INET },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0, true, OPT_INET },
	{ IPPROTO_IP, IP_MULTICAST_TTL, 1, false, OPT_INET },
	{ IPPROTO_IP, IP_MULTICAST_LOOP, 1, true, OPT_INET },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, 64, false, OPT_V6 },
	{ IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1, false, OPT_V6 },
	{ IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1, true, OPT_V6 },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, 0, true, OPT_V6 },
	{ IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 0, true, OPT_V6 },
	{ IPPROTO_IPV6, IPV6_RECVTCLASS, 0, true, OPT_V6 },
	{ IPPROTO_IPV6, IPV6_TCLASS, 0, false, OPT_V6 },
};
_Static_assert(ARRAY_SIZE(int_opts) <= NR_INT_OPTS, "socket.int_opts too small");

int int_opt_index(int level, int name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(int_opts); i++)
		if (int_opts[i].level == level && int_opts[i].name == name)
			return i;
	return -1;
}

static bool int_opt_applies(const struct socket *s, const struct int_opt *o)
{
	bool inet = s->family == AF_INET || s->family == AF_INET6;
	switch (o->only) {
	case OPT_INET: return inet;
	case OPT_TCP: return inet && s->type == SOCK_STREAM;
	case OPT_V6: return s->family == AF_INET6;
	default: return true;
	}
}

int sock_opt_locked(const struct socket *s, int level, int name)
{
	int i = int_opt_index(level, name);
	if (i < 0)
		return 0;
	return s->int_opts[i] == INT_MIN ? int_opts[i].def : s->int_opts[i];
}

int sock_int_opt(struct socket *s, int level, int name, int *val, bool set)
{
	int i = int_opt_index(level, name);
	if (i < 0 || !int_opt_applies(s, &int_opts[i]))
		return -ENOPROTOOPT;
	pthread_mutex_lock(&s->lock);
	if (set)
		s->int_opts[i] = int_opts[i].boolean ? !!*val : *val;
	else
		*val = s->int_opts[i] == INT_MIN ? int_opts[i].def : s->int_opts[i];
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* An option value copied from the guest: up to its length, as far as it
 * is readable (a handler needing more than `have` gives EFAULT, more than
 * `len` EINVAL, as Linux's copy of just what the option needs). */
struct optval {
	char b[256];
	int len, have;
};

static int opt_need(const struct optval *o, int n)
{
	if (o->len < n)
		return -EINVAL;
	return o->have < n ? -EFAULT : 0;
}

/* Linux's sock_set_timeout: the timeout in whole jiffies (rounded up),
 * kept here as the microseconds those jiffies make. */
static int64_t timeval_to_us(const struct timeval *tv, int *err)
{
	if (tv->tv_usec < 0 || tv->tv_usec >= 1000000) {
		*err = -EDOM;
		return 0;
	}
	*err = 0;
	if (tv->tv_sec < 0)
		return -1; /* Linux: a zero timeout, i.e. never wait */
	if (tv->tv_sec == 0 && tv->tv_usec == 0)
		return 0;
	if (tv->tv_sec > INT32_MAX)
		return 0;
	int64_t hz = ktime_hz(), usec_per_tick = 1000000 / hz;
	int64_t ticks = tv->tv_sec * hz + (tv->tv_usec + usec_per_tick - 1) / usec_per_tick;
	return ticks / hz * 1000000 + ticks % hz * 1000000 / hz;
}

/* SO_SNDBUF/SO_RCVBUF (sk_setsockopt): the value as unsigned, at most
 * the sysctl maximum (not for the FORCE variants, where a negative value
 * is 0), doubled, at least the minimum. */
static int buf_value(int v, bool force, int min)
{
	unsigned u = force ? (unsigned)MAX(v, 0) : MIN((unsigned)v, (unsigned)SYSCTL_BUF_MAX);
	u = MIN(u, (unsigned)INT_MAX / 2);
	return MAX((int)u * 2, min);
}

/* Linux's sock_set_timestamp. */
static void set_tstamp(struct socket *s, int name, bool on)
{
	pthread_mutex_lock(&s->lock);
	if (!on)
		s->tstamp = 0;
	else
		s->tstamp = SOCK_TSTAMP_ON |
			    (name == SO_TIMESTAMPNS_OLD || name == SO_TIMESTAMPNS_NEW ? SOCK_TSTAMP_NS : 0) |
			    (name == SO_TIMESTAMP_NEW || name == SO_TIMESTAMPNS_NEW ? SOCK_TSTAMP_NEW : 0);
	pthread_mutex_unlock(&s->lock);
}

static int sol_setsockopt(struct socket *s, int name, struct optval *o)
{
	int err = opt_need(o, sizeof(int)), v;
	if (err)
		return err;
	memcpy(&v, o->b, sizeof(v));
	switch (name) {
	case SO_REUSEADDR:
		s->reuseaddr = v != 0;
		return 0;
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		if ((name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE) && current->proc->uid != 0)
			return -EPERM;
		pthread_mutex_lock(&s->lock);
		if (name == SO_SNDBUF || name == SO_SNDBUFFORCE) {
			s->sndbuf = buf_value(v, name == SO_SNDBUFFORCE, SOCK_MIN_SNDBUF);
			s->sndbuf_set = true;
		} else {
			s->rcvbuf = buf_value(v, name == SO_RCVBUFFORCE, SOCK_MIN_RCVBUF);
			s->rcvbuf_set = true;
		}
		pthread_mutex_unlock(&s->lock);
		sock_wake(s);
		return 0;
	case SO_PASSCRED:
		s->passcred = v != 0;
		return 0;
	case SO_LINGER: {
		struct linger l;
		if ((err = opt_need(o, sizeof(l))))
			return err;
		memcpy(&l, o->b, sizeof(l));
		/* Linux keeps the time only when turning it on; a negative
		 * one is MAX_SCHEDULE_TIMEOUT, read back in seconds. */
		s->linger.l_onoff = l.l_onoff != 0;
		if (l.l_onoff)
			s->linger.l_linger = l.l_linger >= 0 ? l.l_linger : (int)(LONG_MAX / ktime_hz());
		return 0;
	}
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMP_NEW:
	case SO_TIMESTAMPNS_OLD:
	case SO_TIMESTAMPNS_NEW:
		set_tstamp(s, name, v != 0);
		return 0;
	case SO_RCVTIMEO_OLD:
	case SO_SNDTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW: {
		struct timeval tv;
		if ((err = opt_need(o, sizeof(tv))))
			return err;
		memcpy(&tv, o->b, sizeof(tv));
		int64_t us = timeval_to_us(&tv, &err);
		if (err)
			return err;
		if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)
			s->rcvtimeo_us = us;
		else
			s->sndtimeo_us = us;
		return 0;
	}
	case SO_PEEK_OFF:
		if (s->family != AF_UNIX)
			return -EOPNOTSUPP;
		pthread_mutex_lock(&s->lock);
		s->peek_off = v < 0 ? -1 : v;
		pthread_mutex_unlock(&s->lock);
		return 0;
	case SO_MARK:
		if (current->proc->uid != 0)
			return -EPERM;
		break;
	case SO_SNDLOWAT:
		return -ENOPROTOOPT;
	case SO_RCVLOWAT:
		if (v < 0)
			v = INT_MAX;
		if ((s->family == AF_INET || s->family == AF_INET6) && s->type == SOCK_STREAM) {
			/* tcp_set_rcvlowat: at most half the receive buffer
			 * (or of tcp_rmem[2]), which grows to twice the
			 * value unless SO_RCVBUF was set. */
			pthread_mutex_lock(&s->lock);
			v = MIN(v, (s->rcvbuf_set ? s->rcvbuf : TCP_RMEM_MAX) >> 1);
			if (!s->rcvbuf_set && (int64_t)v * 2 > s->rcvbuf)
				s->rcvbuf = v * 2;
			pthread_mutex_unlock(&s->lock);
		}
		if (v == 0)
			v = 1;
		break;
	}
	return sock_int_opt(s, SOL_SOCKET, name, &v, true);
}

/* The value of a SOL_SOCKET option into buf: its length or -errno. */
static int sol_getsockopt(struct socket *s, int name, void *buf)
{
	int v = 0;
	switch (name) {
	case SO_TYPE: v = s->type; break;
	case SO_PROTOCOL: v = s->protocol; break;
	case SO_DOMAIN: v = s->family; break;
	case SO_ERROR:
		pthread_mutex_lock(&s->lock);
		v = -sock_take_err(s);
		pthread_mutex_unlock(&s->lock);
		break;
	case SO_ACCEPTCONN: v = s->state == SK_LISTEN; break;
	case SO_REUSEADDR: v = s->reuseaddr; break;
	case SO_PASSCRED: v = s->passcred; break;
	case SO_SNDBUF: v = s->sndbuf; break;
	case SO_RCVBUF: v = s->rcvbuf; break;
	case SO_SNDLOWAT: v = 1; break;
	case SO_PEEK_OFF: v = s->peek_off; break;
	case SO_LINGER: {
		struct linger l = s->linger;
		memcpy(buf, &l, sizeof(l));
		return sizeof(l);
	}
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMP_NEW:
	case SO_TIMESTAMPNS_OLD:
	case SO_TIMESTAMPNS_NEW: {
		/* Linux's: set for the very option last turned on. */
		pthread_mutex_lock(&s->lock);
		unsigned t = s->tstamp;
		pthread_mutex_unlock(&s->lock);
		bool ns = name == SO_TIMESTAMPNS_OLD || name == SO_TIMESTAMPNS_NEW;
		bool neu = name == SO_TIMESTAMP_NEW || name == SO_TIMESTAMPNS_NEW;
		v = (t & SOCK_TSTAMP_ON) && !(t & SOCK_TSTAMP_NS) == !ns && !(t & SOCK_TSTAMP_NEW) == !neu;
		break;
	}
	case SO_BINDTODEVICE:
		return 0; /* never bound to a device: an empty name */
	case SO_BINDTOIFINDEX: v = 0; break;
	case SO_RCVTIMEO_OLD:
	case SO_SNDTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW: {
		int64_t us = (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW) ? s->rcvtimeo_us
										: s->sndtimeo_us;
		struct timeval tv = { 0, 0 };
		if (us > 0)
			tv = (struct timeval){ us / 1000000, us % 1000000 };
		memcpy(buf, &tv, sizeof(tv));
		return sizeof(tv);
	}
	case SO_PEERCRED: {
		struct ucred u = { 0, (uid_t)-1, (gid_t)-1 };
		pthread_mutex_lock(&s->lock);
		if (s->has_peercred)
			u = (struct ucred){ s->peercred.pid, s->peercred.uid, s->peercred.gid };
		pthread_mutex_unlock(&s->lock);
		memcpy(buf, &u, sizeof(u));
		return sizeof(u);
	}
	case SO_COOKIE: {
		uint64_t c = s->ino;
		memcpy(buf, &c, sizeof(c));
		return sizeof(c);
	}
	default: {
		int err = sock_int_opt(s, SOL_SOCKET, name, &v, false);
		if (err)
			return err;
	}
	}
	memcpy(buf, &v, sizeof(v));
	return sizeof(v);
}

long sys_setsockopt(const struct sysargs *a)
{
	int level = a->a[1], name = a->a[2], optlen = a->a[4];
	gaddr_t uval = a->a[3];
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	if (optlen < 0) {
		fput(f);
		return -EINVAL;
	}
	struct socket *s = SOCK(f);
	struct optval o;
	o.len = optlen;
	o.have = guest_accessible_len(uval, MIN(optlen, (int)sizeof(o.b)), false);
	if (o.have && copy_from_guest(o.b, uval, o.have))
		o.have = 0;
	if (level == SOL_SOCKET && !s->ops->all_levels) {
		err = sol_setsockopt(s, name, &o);
	} else if (!s->ops->setsockopt) {
		err = -EOPNOTSUPP;
	} else {
		err = opt_need(&o, MIN(optlen, (int)sizeof(o.b)));
		/* Host sockets hand the value to the host: no more than was copied. */
		int len = s->ops->all_levels ? MIN(optlen, (int)sizeof(o.b)) : optlen;
		if (!err)
			err = s->ops->setsockopt(s, level, name, o.b, len);
		if (err == SOCKOPT_GENERIC)
			err = sol_setsockopt(s, name, &o);
	}
	fput(f);
	return err;
}

long sys_getsockopt(const struct sysargs *a)
{
	int level = a->a[1], name = a->a[2];
	gaddr_t uval = a->a[3], ulen = a->a[4];
	long err;
	struct file *f = sock_fget(a->a[0], &err);
	if (!f)
		return err;
	struct socket *s = SOCK(f);
	char buf[256];
	int len, vlen = sizeof(buf);
	if (copy_from_guest(&len, ulen, sizeof(len))) {
		err = -EFAULT;
		goto out;
	}
	if (s->ops->all_levels)
		vlen = MIN(len, vlen);
	if (level == SOL_SOCKET && !s->ops->all_levels) {
		if (len < 0) {
			err = -EINVAL;
			goto out;
		}
		err = vlen = sol_getsockopt(s, name, buf);
	} else if (!s->ops->getsockopt) {
		err = -EOPNOTSUPP;
	} else {
		err = s->ops->getsockopt(s, level, name, buf, &vlen);
		if (err == SOCKOPT_GENERIC) {
			if (len < 0) {
				err = -EINVAL;
				goto out;
			}
			vlen = sizeof(buf);
			err = vlen = sol_getsockopt(s, name, buf);
		} else if (len < 0) { /* the protocols take it as unsigned */
			len = vlen;
		}
	}
	if (err < 0)
		goto out;
	len = MIN(len, vlen);
	if ((len && copy_to_guest(uval, buf, len)) || copy_to_guest(ulen, &len, sizeof(len)))
		err = -EFAULT;
	else
		err = 0;
out:
	fput(f);
	return err;
}
