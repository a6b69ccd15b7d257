/* --net=host: AF_INET and AF_INET6 sockets are host sockets that the
 * kernel opens and holds for the guest. The guest sees a socket file of
 * its own (net/socket.c) whose proto_ops here pass each call on to the
 * host socket; the host fd number never leaves the kernel.
 *
 * - Host sockets are non-blocking: a call that would block sleeps on the
 *   socket's wait queue, which a poller thread wakes when the host
 *   socket's state changes (below), so signals interrupt it with Linux's
 *   codes (sock_intr_errno: ERESTARTSYS, or EINTR under SO_RCVTIMEO /
 *   SO_SNDTIMEO, whose deadlines give EAGAIN) and a blocking call never
 *   holds a kernel thread in the host.
 * - Stream data moves straight between guest memory (the kernel's mapping
 *   of the memory file, under the guest memory lock during the
 *   non-blocking host call) and the host socket; datagrams go through a
 *   kernel buffer. The host never sees guest addresses.
 * - Options pass through an allow-list (host_opts below); SOL_SOCKET
 *   options that concern the kernel's side (timeouts, credentials,
 *   timestamps, marks, devices) are net/socket.c's. Control messages pass
 *   through an allow-list of IP-level ones; SOL_SOCKET ones (SCM_RIGHTS,
 *   SCM_CREDENTIALS) never reach the host (ctl_filter_send).
 * - Only TCP, UDP (and UDP-Lite, MPTCP) and ICMP "ping" datagram sockets
 *   (which the host allows by cocoon's groups: ping_group_range): raw and
 *   packet sockets are EPERM, as for an unprivileged user, even when
 *   cocoon runs as root. AF_UNIX stays the sandbox's own; AF_NETLINK
 *   is not there (EAFNOSUPPORT), so glibc's getaddrinfo with AI_ADDRCONFIG
 *   assumes IPv4 and IPv6 are both configured, as it does without
 *   netlink.
 *
 * Locking: s->lock guards s->host (the release may race with nothing
 * else: calls hold the socket's file, but the reference is taken under
 * the lock anyway). No lock is held across host calls or sleeps. */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include "fs/file.h"
#include "kernel/task.h"
#include "mm/uaccess.h"
#include "net/socket.h"

#define STREAM_MAX (4 << 20) /* bytes of a stream sent per host call */
/* ... and received: the range whose copy-on-write pages a receive makes
 * the process's own first (io_begin), whatever arrives. */
#define STREAM_RECV_MAX (1 << 20)
#define HOST_IOV_MAX 64      /* host iovecs per call (guest memory in the memory file) */
#define HOST_CHUNK 65536     /* MSG_TRUNC of a stream: discarded per call */
#define DGRAM_MAX 0xFFFF  /* Linux's udp_sendmsg/ping_sendmsg limit: EMSGSIZE above */
#define CTL_MAX 256       /* host control data per receive (sizeof recv_info.ctl) */
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

bool net_host;

int net_set_mode(const char *mode)
{
	if (!strcmp(mode, "host"))
		net_host = true;
	else if (!strcmp(mode, "none"))
		net_host = false;
	else
		return -EINVAL;
	return 0;
}

static const struct proto_ops host_ops;

/* ---- the host's wake-ups -------------------------------------------------
 *
 * Every host socket is in one host epoll, edge-triggered, for all its
 * events, from its creation to its release: whenever the host wakes the
 * socket's own wait queue (data, room, a connection, an error), the
 * poller thread wakes the guest socket's wait queue s->wq, on which
 * poll, select, epoll and the blocking calls queue as on the kernel's
 * own sockets. So an EPOLLET waiter of the guest sees an edge when the
 * host would give one, not each time it looks (fs/hostpoll.c's one-shot
 * arming would report a ready socket at every re-arm). Readiness itself
 * is a zero-timeout host poll().
 *
 * The host epoll's data is a slot number and generation, never a
 * pointer: an event read just before a release finds its slot empty or
 * reused. Locking: hs.lock (the slots) before waitq.lock. */
static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	int epfd;
	struct socket **slot;
	uint32_t *gen;
	unsigned nslots;
	unsigned free_hint;
} hs = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_ONCE_INIT, -1, NULL, NULL, 0, 0 };

#define HOST_EVENTS (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET)

static void *poller(void *unused)
{
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(hs.epfd, evs, 64, -1);
		pthread_mutex_lock(&hs.lock);
		for (int i = 0; i < n; i++) {
			uint32_t slot = (uint32_t)evs[i].data.u64, gen = evs[i].data.u64 >> 32;
			if (slot < hs.nslots && hs.gen[slot] == gen && hs.slot[slot])
				sock_wake(hs.slot[slot]);
		}
		pthread_mutex_unlock(&hs.lock);
	}
	return NULL;
}

static void poller_start(void)
{
	hs.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hs.epfd < 0) {
		klog("hostsock: no host epoll (%m): waits on host sockets end only by timeouts");
		return;
	}
	pthread_t t;
	pthread_attr_t attr;
	sigset_t all, old;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* host signals are the kernel threads' */
	if (pthread_create(&t, &attr, poller, NULL))
		klog("hostsock: cannot start the poller thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* Watch s's host socket: 0 or -ENOMEM. */
static int watch_add(struct socket *s, int hostfd)
{
	pthread_once(&hs.once, poller_start);
	pthread_mutex_lock(&hs.lock);
	unsigned i = hs.free_hint;
	while (i < hs.nslots && hs.slot[i])
		i++;
	if (i == hs.nslots) {
		unsigned n = hs.nslots ? 2 * hs.nslots : 64;
		struct socket **sl = realloc(hs.slot, n * sizeof(*sl));
		if (sl)
			hs.slot = sl;
		uint32_t *g = sl ? realloc(hs.gen, n * sizeof(*g)) : NULL;
		if (!g) {
			pthread_mutex_unlock(&hs.lock);
			return -ENOMEM;
		}
		hs.gen = g;
		for (unsigned k = hs.nslots; k < n; k++) {
			hs.slot[k] = NULL;
			hs.gen[k] = 0;
		}
		hs.nslots = n;
	}
	hs.slot[i] = s;
	hs.free_hint = i + 1;
	s->host_slot = i;
	struct epoll_event ev = { .events = HOST_EVENTS, .data.u64 = (uint64_t)hs.gen[i] << 32 | i };
	if (hs.epfd >= 0)
		epoll_ctl(hs.epfd, EPOLL_CTL_ADD, hostfd, &ev);
	pthread_mutex_unlock(&hs.lock);
	return 0;
}

static void watch_del(struct socket *s, int hostfd)
{
	pthread_mutex_lock(&hs.lock);
	if (hs.epfd >= 0)
		epoll_ctl(hs.epfd, EPOLL_CTL_DEL, hostfd, NULL);
	unsigned i = s->host_slot;
	hs.slot[i] = NULL;
	hs.gen[i]++;
	if (i < hs.free_hint)
		hs.free_hint = i;
	pthread_mutex_unlock(&hs.lock);
}

/* ---- the host socket ------------------------------------------------------ */

/* The host fd as a counted file: it closes when the guest's socket is
 * released and no call is using it any more. */
static void hostsock_file_release(struct file *f)
{
	close(f->hostfd);
}

static const struct file_ops hostsock_file_ops = {
	.release = hostsock_file_release,
};

/* A reference to s's host file, or NULL once released. */
static struct file *host_of(struct socket *s)
{
	pthread_mutex_lock(&s->lock);
	struct file *f = s->host ? file_get(s->host) : NULL;
	pthread_mutex_unlock(&s->lock);
	return f;
}

/* A socket for the host fd (taken over, also on failure). */
static struct socket *host_socket_new(int hostfd, int family, int type, int protocol)
{
	struct file *f = file_new(&hostsock_file_ops, O_RDWR, S_IFSOCK, NULL);
	if (!f) {
		close(hostfd);
		return NULL;
	}
	f->hostfd = hostfd;
	f->no_pread = true;
	struct socket *s = sock_alloc(family, type, protocol, &host_ops);
	if (!s || watch_add(s, hostfd)) {
		sock_put(s);
		fput(f);
		return NULL;
	}
	s->host = f;
	return s;
}

int hostsock_create(struct socket **out, int family, int type, int protocol)
{
	int icmp = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	switch (type) {
	case SOCK_STREAM:
		if (protocol && protocol != IPPROTO_TCP && protocol != IPPROTO_MPTCP)
			return -EPROTONOSUPPORT;
		break;
	case SOCK_DGRAM:
		if (protocol && protocol != IPPROTO_UDP && protocol != IPPROTO_UDPLITE && protocol != icmp)
			return -EPROTONOSUPPORT;
		break;
	case SOCK_RAW:
	case SOCK_PACKET:
		return -EPERM;
	default:
		return -ESOCKTNOSUPPORT;
	}
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		return -errno;
	if (!protocol) /* what SO_PROTOCOL says */
		protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	struct socket *s = host_socket_new(fd, family, type, protocol);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

static void *closer(void *f)
{
	fput(f);
	return NULL;
}

/* The last close of a socket with SO_LINGER and a timeout waits in the
 * host until its data is sent: that wait is a thread's of its own, not
 * the guest's kernel thread (which could not be interrupted there). */
static void host_release(struct socket *s)
{
	pthread_mutex_lock(&s->lock);
	struct file *f = s->host;
	s->host = NULL;
	pthread_mutex_unlock(&s->lock);
	if (!f)
		return;
	watch_del(s, f->hostfd);
	struct linger l = { 0, 0 };
	socklen_t len = sizeof(l);
	if (getsockopt(f->hostfd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 && l.l_onoff && l.l_linger) {
		pthread_attr_t attr;
		pthread_t t;
		sigset_t all, old;
		sigfillset(&all);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		pthread_sigmask(SIG_SETMASK, &all, &old); /* host signals are the kernel threads' */
		int err = pthread_create(&t, &attr, closer, f);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (!err)
			return;
	}
	fput(f);
}

/* ---- waiting ---------------------------------------------------------------- */

/* The host socket's readiness now (Linux's poll bits). */
static unsigned host_ready(struct file *hf)
{
	struct pollfd p = { hf->hostfd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM |
			    POLLRDBAND | POLLWRNORM | POLLWRBAND, 0 };
	return poll(&p, 1, 0) == 1 ? (unsigned short)p.revents : 0;
}

#define SLOW_POLL_NS 10000000 /* see again() */

/* Wait until the host socket reports one of events, an error or a
 * hang-up (slow: until a short while has passed): 0, -EAGAIN when the
 * deadline passed or the call may not wait, or Linux's sock_intr_errno
 * on a signal. *ready: the host reported them before any sleep. */
static int host_wait(struct socket *s, struct file *hf, unsigned events, struct sock_timeo *t,
		     bool slow, bool *ready)
{
	*ready = false;
	if (t->nonblock)
		return -EAGAIN;
	struct wait_entry e;
	waitq_add(&s->wq, &e);
	uint32_t snap = sleep_prepare();
	int r = 0;
	if (slow) {
		struct timespec end = deadline_after(&(struct timespec){ 0, SLOW_POLL_NS });
		bool last = !t->forever && (t->end.tv_sec < end.tv_sec ||
					    (t->end.tv_sec == end.tv_sec && t->end.tv_nsec <= end.tv_nsec));
		r = sleep_until(snap, last ? &t->end : &end);
		if (r == -ETIMEDOUT && !last)
			r = 0;
	} else if (host_ready(hf) & (events | POLLERR | POLLHUP)) {
		*ready = true;
	} else {
		r = sleep_until(snap, t->forever ? NULL : &t->end);
	}
	waitq_remove(&e);
	if (r == -ETIMEDOUT)
		return -EAGAIN;
	if (r == -EINTR)
		return t->forever ? -ERESTARTSYS : -EINTR;
	return 0;
}

/* A host call on a blocking socket said EAGAIN: wait for events and let
 * the caller try again (0), or the error to return. Readiness counts
 * errors and hang-ups too, which may stay
 * while the call still says EAGAIN (an error queued for MSG_ERRQUEUE):
 * when the host was found ready at once twice running, look again every
 * 10 ms instead of spinning. *spin: the caller's state, false at first
 * and after any progress. */
static int again(struct socket *s, struct file *hf, unsigned events, struct sock_timeo *t,
		 bool *spin)
{
	bool ready;
	int r = host_wait(s, hf, events, t, *spin, &ready);
	*spin = ready;
	return r;
}

/* ---- addresses and connections ------------------------------------------------- */

static int unprivileged_port_start(void)
{
	static int start = -1;
	if (start < 0) {
		int v = 1024;
		FILE *fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
		if (fp) {
			if (fscanf(fp, "%d", &v) != 1)
				v = 1024;
			fclose(fp);
		}
		start = v;
	}
	return start;
}

/* Ports below ip_unprivileged_port_start are the guest's root's only,
 * whatever cocoon may do on the host. */
static int check_bind_port(const struct socket *s, const struct sock_addr *a)
{
	uint16_t port;
	if (a->len >= (int)sizeof(struct sockaddr_in) && a->sa.sa_family == AF_INET)
		port = ntohs(a->in.sin_port);
	else if (a->len >= (int)sizeof(struct sockaddr_in6) && a->sa.sa_family == AF_INET6)
		port = ntohs(a->in6.sin6_port);
	else
		return 0; /* malformed: the host says how */
	if (port && port < unprivileged_port_start() && current->proc->uid != 0)
		return -EACCES;
	return 0;
}

static int host_bind(struct socket *s, const struct sock_addr *a)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	int err = check_bind_port(s, a);
	if (!err && bind(hf->hostfd, &a->sa, a->len) < 0)
		err = -errno;
	fput(hf);
	return err;
}

/* Linux's inet_stream_connect: a blocking connect waits for the outcome
 * (SO_SNDTIMEO: then EINPROGRESS); interrupted, the connection goes on
 * and a restarted connect waits for it again. The outcome is asked of
 * the host by connecting again, as a non-blocking caller would: that
 * also moves the host socket out of its connecting state (a further
 * connect is EISCONN, or after a failure a fresh attempt). */
static int host_connect(struct socket *s, const struct sock_addr *a, bool nonblock)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, false);
	int first = 0;
	for (;;) {
		int err = connect(hf->hostfd, &a->sa, a->len) < 0 ? -errno : 0;
		if (!first)
			first = err;
		if (s->type != SOCK_STREAM || (err != -EINPROGRESS && err != -EALREADY)) {
			fput(hf);
			return err;
		}
		bool ready;
		int w = host_wait(s, hf, POLLOUT, &t, false, &ready);
		if (w) {
			fput(hf);
			/* At the deadline the first answer stands (EINPROGRESS
			 * or EALREADY). */
			return w == -EAGAIN ? first : w;
		}
	}
}

static int host_listen(struct socket *s, int backlog)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	int err = listen(hf->hostfd, backlog) < 0 ? -errno : 0;
	fput(hf);
	return err;
}

static int host_accept(struct socket *s, struct socket **out, bool nonblock)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, true);
	bool spin = false;
	int err;
	for (;;) {
		int fd = accept4(hf->hostfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			struct socket *ns = host_socket_new(fd, s->family, s->type, s->protocol);
			err = ns ? 0 : -ENOMEM;
			if (ns)
				*out = ns;
			break;
		}
		err = -errno;
		if (err != -EAGAIN || (err = again(s, hf, POLLIN, &t, &spin)))
			break;
	}
	fput(hf);
	return err;
}

static int host_getname(struct socket *s, struct sock_addr *a, bool peer)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	memset(a, 0, sizeof(*a));
	socklen_t l = sizeof(a->ss);
	int r = peer ? getpeername(hf->hostfd, &a->sa, &l) : getsockname(hf->hostfd, &a->sa, &l);
	fput(hf);
	if (r < 0)
		return -errno;
	a->len = MIN(l, (socklen_t)sizeof(a->ss));
	return 0;
}

static unsigned host_poll(struct socket *s)
{
	struct file *hf = host_of(s);
	if (!hf)
		return POLLNVAL;
	unsigned mask = host_ready(hf);
	fput(hf);
	return mask;
}

static int host_shutdown(struct socket *s, int how)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	int err = shutdown(hf->hostfd, how - 1) < 0 ? -errno : 0; /* RCV_SHUTDOWN -> SHUT_RD... */
	fput(hf);
	return err;
}

/* ---- control messages ------------------------------------------------------------ */

/* IP-level control messages a guest may send and receive. */
static bool ctl_allowed(int level, int type, bool send)
{
	switch (level) {
	case IPPROTO_IP:
		switch (type) {
		case IP_PKTINFO: case IP_TTL: case IP_TOS:
			return true;
		case IP_RECVERR: case IP_ORIGDSTADDR: case IP_RECVFRAGSIZE:
			return !send;
		}
		return false;
	case IPPROTO_IPV6:
		switch (type) {
		case IPV6_PKTINFO: case IPV6_HOPLIMIT: case IPV6_TCLASS: case IPV6_DONTFRAG:
			return true;
		case IPV6_RECVERR: case IPV6_ORIGDSTADDR: case IPV6_RECVFRAGSIZE:
			return !send;
		}
		return false;
	case SOL_TCP:
		return !send && type == TCP_CM_INQ;
	case SOL_UDP:
		return !send && type == UDP_GRO;
	}
	return false;
}

/* The guest's control messages for a datagram send, filtered into buf:
 * its length, or -EINVAL for an IP-level message the allow-list does not
 * take (Linux's ip_cmsg_send refuses unknown ones too); other levels are
 * ignored, as the IP protocols ignore them. SOL_SOCKET ones (SCM_RIGHTS,
 * SCM_CREDENTIALS: bad_cmsg) never reach the host: an empty SCM_RIGHTS
 * header stands for them, which the host refuses (EINVAL) at the point
 * Linux would, after its own checks of the destination and state. */
static long ctl_filter_send(const struct send_info *si, char *buf, size_t cap)
{
	size_t out = 0;
	if (si->bad_cmsg) {
		struct cmsghdr refused = { CMSG_LEN(0), SOL_SOCKET, SCM_RIGHTS };
		memcpy(buf, &refused, sizeof(refused));
		out = CMSG_SPACE(0);
	}
	for (size_t off = 0; si->ctl && off + sizeof(struct cmsghdr) <= si->ctllen;) {
		struct cmsghdr h;
		memcpy(&h, si->ctl + off, sizeof(h));
		if (h.cmsg_len < sizeof(h) || h.cmsg_len > si->ctllen - off)
			return -EINVAL;
		if (h.cmsg_level == IPPROTO_IP || h.cmsg_level == IPPROTO_IPV6) {
			if (!ctl_allowed(h.cmsg_level, h.cmsg_type, true))
				return -EINVAL;
			size_t sp = CMSG_ALIGN(h.cmsg_len);
			if (out + sp > cap)
				return -ENOBUFS;
			memcpy(buf + out, si->ctl + off, h.cmsg_len);
			memset(buf + out + h.cmsg_len, 0, sp - h.cmsg_len);
			out += sp;
		}
		off += CMSG_ALIGN(h.cmsg_len);
	}
	return out;
}

/* The host's control messages of a receive into ri, keeping the allowed
 * ones. */
static void ctl_filter_recv(const struct msghdr *m, struct recv_info *ri)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (!ctl_allowed(c->cmsg_level, c->cmsg_type, false))
			continue;
		size_t sp = CMSG_ALIGN(c->cmsg_len);
		if (ri->ctllen + sp > sizeof(ri->ctl)) {
			ri->msg_flags |= MSG_CTRUNC;
			break;
		}
		memcpy(ri->ctl + ri->ctllen, c, c->cmsg_len);
		memset(ri->ctl + ri->ctllen + c->cmsg_len, 0, sp - c->cmsg_len);
		ri->ctllen += sp;
	}
}

/* ---- sending ------------------------------------------------------------------------ */

#define SEND_FLAGS (MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM)
#define RECV_FLAGS (MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE)

/* Streams move data straight between guest memory and the host socket:
 * the next bytes of an iterator as iovecs into the kernel's mapping of
 * the memory file, with the guest memory lock held from io_begin to
 * io_end (the host call in between never blocks), or the kernel's own
 * buffers (read and write through fs/rw.c's bounce). */
struct host_io {
	struct iovec iov[HOST_IOV_MAX];
	int n;
	size_t len; /* bytes spanned: short at the first byte the guest may not access */
	bool fault; /* that is why it is short (not the iovecs' limit) */
	bool locked;
};

static void io_begin(struct host_io *io, const struct msg_iter *it, size_t max, bool to_guest)
{
	io->n = 0;
	io->len = 0;
	io->fault = false;
	io->locked = it->guest;
	if (it->guest) {
		size_t off = it->off, left = max;
		for (int i = 0; i < it->n && left; i++, off = 0) {
			size_t len = MIN(it->iov[i].iov_len - off, left);
			if (to_guest) /* the process's own copy of copy-on-write pages */
				guest_prepare_write((gaddr_t)(uintptr_t)it->iov[i].iov_base + off, len);
			left -= len;
		}
		guest_mem_lock();
	}
	size_t off = it->off;
	for (int i = 0; i < it->n && io->len < max && io->n < HOST_IOV_MAX; i++, off = 0) {
		size_t len = MIN(it->iov[i].iov_len - off, max - io->len);
		char *base = (char *)it->iov[i].iov_base + off;
		if (!it->guest) {
			io->iov[io->n++] = (struct iovec){ base, len };
			io->len += len;
			continue;
		}
		size_t cov;
		io->n += guest_iovecs((gaddr_t)(uintptr_t)base, len, to_guest, io->iov + io->n,
				      HOST_IOV_MAX - io->n, &cov);
		io->len += cov;
		if (cov < len) {
			io->fault = io->n < HOST_IOV_MAX;
			break;
		}
	}
}

static void io_end(struct host_io *io)
{
	if (io->locked)
		guest_mem_unlock();
}

/* A byte stream: everything, waiting for room unless non-blocking; the
 * bytes sent so far when interrupted or out of room. */
static ssize_t stream_send(struct socket *s, struct file *hf, struct msg_iter *it,
			   const struct send_info *si, int flags, bool nonblock)
{
	int hflags = (flags & SEND_FLAGS) | MSG_DONTWAIT | MSG_NOSIGNAL;
	struct cmsghdr refused = { CMSG_LEN(0), SOL_SOCKET, SCM_RIGHTS };
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, false);
	size_t sent = 0;
	bool spin = false;
	ssize_t err = 0;
	for (;;) {
		struct host_io io;
		io_begin(&io, it, MIN(it->left, (size_t)STREAM_MAX), false);
		/* A fault in what is left: the host's answer to an empty send
		 * first (the connection's state), else EFAULT, nothing sent
		 * (Linux fails the chunk it copies; most sends are one). */
		bool fault = io.fault || (!io.len && it->left);
		struct msghdr m = { .msg_iov = io.iov, .msg_iovlen = fault ? 0 : io.n };
		if (si->to) {
			m.msg_name = (void *)&si->to->ss;
			m.msg_namelen = si->to->len;
		}
		if (si->bad_cmsg) { /* see ctl_filter_send */
			m.msg_control = &refused;
			m.msg_controllen = sizeof(refused);
		}
		ssize_t r = sendmsg(hf->hostfd, &m, hflags);
		err = r < 0 ? -errno : 0;
		io_end(&io);
		if (r >= 0 && fault) {
			err = -EFAULT;
			break;
		}
		if (r >= 0) {
			sent += r;
			iter_skip(it, r);
			spin = false;
			if (!it->left)
				break;
			continue;
		}
		if (err != -EAGAIN || (err = again(s, hf, POLLOUT, &t, &spin)))
			break;
	}
	if (sent)
		return sent;
	if (err == -EPIPE)
		sock_sigpipe(flags);
	return err;
}

/* One datagram, whole or not at all. */
static ssize_t dgram_send(struct socket *s, struct file *hf, struct msg_iter *it,
			  struct send_info *si, int flags, bool nonblock)
{
	size_t len = it->left;
	if (len > DGRAM_MAX)
		return -EMSGSIZE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	char ctl[CTL_MAX];
	long ctllen = ctl_filter_send(si, ctl, sizeof(ctl));
	if (ctllen < 0)
		return ctllen;
	char *buf = malloc(MAX(len, (size_t)1));
	if (!buf)
		return -ENOBUFS;
	ssize_t err;
	if (iter_from(it, buf, len) < len) {
		err = -EFAULT;
		goto out;
	}
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctllen ? ctl : NULL,
			    .msg_controllen = ctllen };
	if (si->to) {
		m.msg_name = (void *)&si->to->ss;
		m.msg_namelen = si->to->len;
	}
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, false);
	bool spin = false;
	for (;;) {
		err = sendmsg(hf->hostfd, &m, (flags & SEND_FLAGS) | MSG_DONTWAIT | MSG_NOSIGNAL);
		if (err >= 0)
			break;
		err = -errno;
		if (err != -EAGAIN || (err = again(s, hf, POLLOUT, &t, &spin)))
			break;
	}
	/* A datagram socket's EPIPE (after its SHUT_WR) raises no SIGPIPE
	 * (sock_alloc_send_pskb); SEQPACKET's neither. */
out:
	free(buf);
	return err;
}

static ssize_t host_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si, int flags,
			    bool nonblock)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	ssize_t r = s->type == SOCK_STREAM ? stream_send(s, hf, it, si, flags, nonblock)
					   : dgram_send(s, hf, it, si, flags, nonblock);
	fput(hf);
	return r;
}

/* ---- receiving ------------------------------------------------------------------------ */

/* One host recvmsg into iov: its result (or -errno); the sender's
 * address, the message flags and the allowed control messages into ri. */
static ssize_t recv_once(struct file *hf, struct iovec *iov, int n, int flags, struct recv_info *ri)
{
	char ctl[CTL_MAX];
	struct msghdr m = { .msg_name = &ri->from.ss, .msg_namelen = sizeof(ri->from.ss),
			    .msg_iov = iov, .msg_iovlen = n, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t r = recvmsg(hf->hostfd, &m, (flags & RECV_FLAGS) | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0)
		return -errno;
	ri->from.len = MIN(m.msg_namelen, (socklen_t)sizeof(ri->from.ss));
	ri->msg_flags |= m.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_EOR | MSG_OOB | MSG_ERRQUEUE);
	ri->ctllen = 0;
	ctl_filter_recv(&m, ri);
	return r;
}

/* A byte stream: what is there (MSG_WAITALL: until the buffer is full,
 * the end of the stream, an error or a signal). Only into what the guest
 * can have written: Linux leaves what it cannot copy in the queue. */
static ssize_t stream_recv(struct socket *s, struct file *hf, struct msg_iter *it,
			   struct recv_info *ri, int flags, bool nonblock)
{
	static char discarded[HOST_CHUNK]; /* MSG_TRUNC: the bytes nobody reads */
	bool discard = flags & MSG_TRUNC;
	bool waitall = (flags & MSG_WAITALL) && !(flags & (MSG_PEEK | MSG_OOB | MSG_ERRQUEUE));
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, true);
	size_t got = 0;
	ssize_t err = 0;
	bool spin = false;
	for (;;) {
		struct host_io io;
		bool fault = false;
		if (!discard) {
			io_begin(&io, it, MIN(it->left, (size_t)STREAM_RECV_MAX), true);
			/* Nothing writable: EFAULT only if there is data to copy
			 * (the end of the stream or an error come first). */
			fault = !io.len && it->left;
		}
		if (discard || fault) {
			if (fault)
				io_end(&io);
			io = (struct host_io){ .n = 1, .len = fault ? 1 : MIN(it->left, sizeof(discarded)) };
			io.iov[0] = (struct iovec){ discarded, io.len };
		}
		ssize_t r = recv_once(hf, io.iov, io.n, flags | (fault ? MSG_PEEK : 0), ri);
		io_end(&io);
		if (r > 0 && fault) {
			err = -EFAULT;
			break;
		}
		if (r > 0) {
			iter_skip(it, MIN((size_t)r, it->left));
			got += r;
			spin = false;
			if (!waitall || !it->left)
				break;
			continue;
		}
		if (r == 0)
			break;
		err = r;
		/* Urgent data and the error queue never wait (tcp_recv_urg). */
		if (err != -EAGAIN || (flags & (MSG_OOB | MSG_ERRQUEUE)) ||
		    (err = again(s, hf, POLLIN, &t, &spin)))
			break;
	}
	return got ? (ssize_t)got : err;
}

/* One datagram (its whole length with MSG_TRUNC). */
static ssize_t dgram_recv(struct socket *s, struct file *hf, struct msg_iter *it,
			  struct recv_info *ri, int flags, bool nonblock)
{
	size_t cap = MIN(it->left, (size_t)DGRAM_MAX + 1);
	char *buf = malloc(MAX(cap, (size_t)1));
	if (!buf)
		return -ENOBUFS;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, true);
	bool spin = false;
	ssize_t r;
	for (;;) {
		struct iovec iov = { buf, cap };
		r = recv_once(hf, &iov, 1, flags, ri);
		if (r >= 0 || r != -EAGAIN || (flags & MSG_ERRQUEUE) || t.nonblock)
			break;
		/* Shut down for reading: a blocking receive ends with 0. */
		if (host_ready(hf) & POLLRDHUP) {
			r = 0;
			break;
		}
		if ((r = again(s, hf, POLLIN, &t, &spin)))
			break;
	}
	if (r >= 0) {
		size_t n = MIN((size_t)r, cap);
		if (iter_to(it, buf, n) < n)
			r = -EFAULT;
	}
	free(buf);
	return r;
}

static ssize_t host_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri, int flags,
			    bool nonblock)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	ssize_t r = s->type == SOCK_STREAM ? stream_recv(s, hf, it, ri, flags, nonblock)
					   : dgram_recv(s, hf, it, ri, flags, nonblock);
	fput(hf);
	return r;
}

/* ---- options ---------------------------------------------------------------------------- */

enum {
	HO_GET = 1,
	HO_SET = 2,
	HO_BOTH = 3,
};

/* The options passed to the host socket. Left out: what only privileged
 * users may set (IP_TRANSPARENT, TCP_REPAIR, SO_MARK...: cocoon may be
 * root on the host while its guest is not), what would hand the host
 * something of the kernel's (BPF filters, kTLS, zero-copy completions)
 * and what the kernel keeps itself (SOL_SOCKET timeouts, credentials,
 * timestamps, devices: net/socket.c). */
static const struct host_opt {
	int level, name, how;
} host_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, HO_BOTH },
	{ SOL_SOCKET, SO_REUSEPORT, HO_BOTH },
	{ SOL_SOCKET, SO_KEEPALIVE, HO_BOTH },
	{ SOL_SOCKET, SO_BROADCAST, HO_BOTH },
	{ SOL_SOCKET, SO_LINGER, HO_BOTH },
	{ SOL_SOCKET, SO_SNDBUF, HO_BOTH },
	{ SOL_SOCKET, SO_RCVBUF, HO_BOTH },
	{ SOL_SOCKET, SO_SNDBUFFORCE, HO_SET },
	{ SOL_SOCKET, SO_RCVBUFFORCE, HO_SET },
	{ SOL_SOCKET, SO_RCVLOWAT, HO_BOTH },
	{ SOL_SOCKET, SO_SNDLOWAT, HO_BOTH },
	{ SOL_SOCKET, SO_OOBINLINE, HO_BOTH },
	{ SOL_SOCKET, SO_DONTROUTE, HO_BOTH },
	{ SOL_SOCKET, SO_PRIORITY, HO_BOTH },
	{ SOL_SOCKET, SO_NO_CHECK, HO_BOTH },
	{ SOL_SOCKET, SO_PEEK_OFF, HO_BOTH },
	{ SOL_SOCKET, SO_INCOMING_CPU, HO_BOTH },
	{ SOL_SOCKET, SO_ERROR, HO_GET },
	{ SOL_SOCKET, SO_TYPE, HO_GET },
	{ SOL_SOCKET, SO_PROTOCOL, HO_GET },
	{ SOL_SOCKET, SO_DOMAIN, HO_GET },
	{ SOL_SOCKET, SO_ACCEPTCONN, HO_GET },

	{ IPPROTO_IP, IP_TOS, HO_BOTH },
	{ IPPROTO_IP, IP_TTL, HO_BOTH },
	{ IPPROTO_IP, IP_OPTIONS, HO_BOTH },
	{ IPPROTO_IP, IP_PKTINFO, HO_BOTH },
	{ IPPROTO_IP, IP_RECVTTL, HO_BOTH },
	{ IPPROTO_IP, IP_RECVTOS, HO_BOTH },
	{ IPPROTO_IP, IP_RECVERR, HO_BOTH },
	{ IPPROTO_IP, IP_RECVORIGDSTADDR, HO_BOTH },
	{ IPPROTO_IP, IP_RECVFRAGSIZE, HO_BOTH },
	{ IPPROTO_IP, IP_MTU_DISCOVER, HO_BOTH },
	{ IPPROTO_IP, IP_MTU, HO_GET },
	{ IPPROTO_IP, IP_FREEBIND, HO_BOTH },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, HO_BOTH },
	{ IPPROTO_IP, IP_LOCAL_PORT_RANGE, HO_BOTH },
	{ IPPROTO_IP, IP_UNICAST_IF, HO_BOTH },
	{ IPPROTO_IP, IP_MULTICAST_TTL, HO_BOTH },
	{ IPPROTO_IP, IP_MULTICAST_LOOP, HO_BOTH },
	{ IPPROTO_IP, IP_MULTICAST_IF, HO_BOTH },
	{ IPPROTO_IP, IP_MULTICAST_ALL, HO_BOTH },
	{ IPPROTO_IP, IP_ADD_MEMBERSHIP, HO_SET },
	{ IPPROTO_IP, IP_DROP_MEMBERSHIP, HO_SET },
	{ IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, HO_SET },
	{ IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, HO_SET },
	{ IPPROTO_IP, IP_BLOCK_SOURCE, HO_SET },
	{ IPPROTO_IP, IP_UNBLOCK_SOURCE, HO_SET },
	{ IPPROTO_IP, MCAST_JOIN_GROUP, HO_SET },
	{ IPPROTO_IP, MCAST_LEAVE_GROUP, HO_SET },
	{ IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, HO_SET },
	{ IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP, HO_SET },
	{ IPPROTO_IP, MCAST_BLOCK_SOURCE, HO_SET },
	{ IPPROTO_IP, MCAST_UNBLOCK_SOURCE, HO_SET },

	{ IPPROTO_IPV6, IPV6_V6ONLY, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_MULTICAST_HOPS, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_MULTICAST_LOOP, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_MULTICAST_IF, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_MULTICAST_ALL, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, HO_SET },
	{ IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, HO_SET },
	{ IPPROTO_IPV6, MCAST_JOIN_GROUP, HO_SET },
	{ IPPROTO_IPV6, MCAST_LEAVE_GROUP, HO_SET },
	{ IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, HO_SET },
	{ IPPROTO_IPV6, MCAST_LEAVE_SOURCE_GROUP, HO_SET },
	{ IPPROTO_IPV6, MCAST_BLOCK_SOURCE, HO_SET },
	{ IPPROTO_IPV6, MCAST_UNBLOCK_SOURCE, HO_SET },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_RECVHOPLIMIT, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_RECVTCLASS, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_TCLASS, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_RECVERR, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_RECVFRAGSIZE, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_MTU, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_DONTFRAG, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_UNICAST_IF, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_FREEBIND, HO_BOTH },
	{ IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, HO_BOTH },

	{ IPPROTO_TCP, TCP_NODELAY, HO_BOTH },
	{ IPPROTO_TCP, TCP_MAXSEG, HO_BOTH },
	{ IPPROTO_TCP, TCP_CORK, HO_BOTH },
	{ IPPROTO_TCP, TCP_KEEPIDLE, HO_BOTH },
	{ IPPROTO_TCP, TCP_KEEPINTVL, HO_BOTH },
	{ IPPROTO_TCP, TCP_KEEPCNT, HO_BOTH },
	{ IPPROTO_TCP, TCP_SYNCNT, HO_BOTH },
	{ IPPROTO_TCP, TCP_LINGER2, HO_BOTH },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, HO_BOTH },
	{ IPPROTO_TCP, TCP_WINDOW_CLAMP, HO_BOTH },
	{ IPPROTO_TCP, TCP_INFO, HO_GET },
	{ IPPROTO_TCP, TCP_QUICKACK, HO_BOTH },
	{ IPPROTO_TCP, TCP_CONGESTION, HO_BOTH },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, HO_BOTH },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, HO_BOTH },
	{ IPPROTO_TCP, TCP_FASTOPEN, HO_BOTH },
	{ IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, HO_BOTH },
	{ IPPROTO_TCP, TCP_INQ, HO_BOTH },

	{ IPPROTO_UDP, UDP_CORK, HO_BOTH },
	{ IPPROTO_UDP, UDP_SEGMENT, HO_BOTH },
	{ IPPROTO_UDP, UDP_GRO, HO_BOTH },
};

static const struct host_opt *host_opt_find(int level, int name)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_opts); i++)
		if (host_opts[i].level == level && host_opts[i].name == name)
			return &host_opts[i];
	return NULL;
}

static int host_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	int v = 0;
	if (len >= (int)sizeof(int))
		memcpy(&v, val, sizeof(v));
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_BINDTODEVICE:
		case SO_BINDTOIFINDEX:
			return -EPERM; /* CAP_NET_RAW */
		case SO_SNDBUFFORCE:
		case SO_RCVBUFFORCE: /* the guest's root: the plain option (capped by the host) */
			if (current->proc->uid != 0)
				return -EPERM;
			name = name == SO_SNDBUFFORCE ? SO_SNDBUF : SO_RCVBUF;
			break;
		case SO_PRIORITY:
			if (len >= (int)sizeof(int) && (v < 0 || v > 6) && current->proc->uid != 0)
				return -EPERM; /* CAP_NET_ADMIN */
			break;
		}
	}
	const struct host_opt *o = host_opt_find(level, name);
	if (!o || !(o->how & HO_SET))
		return level == SOL_SOCKET ? SOCKOPT_GENERIC : -ENOPROTOOPT;
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	int err = setsockopt(hf->hostfd, level, name, val, len) < 0 ? -errno : 0;
	fput(hf);
	return err;
}

static int host_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	if (level == SOL_SOCKET && (name == SO_BINDTODEVICE || name == SO_BINDTOIFINDEX)) {
		if (*len < 0)
			return -EINVAL;
		if (name == SO_BINDTOIFINDEX) { /* never bound to a device */
			int zero = 0;
			memcpy(val, &zero, sizeof(zero));
			*len = sizeof(zero);
		} else {
			*len = 0;
		}
		return 0;
	}
	const struct host_opt *o = host_opt_find(level, name);
	if (!o || !(o->how & HO_GET))
		return level == SOL_SOCKET ? SOCKOPT_GENERIC : -ENOPROTOOPT;
	if (*len < 0)
		return -EINVAL;
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	socklen_t l = *len;
	int err = getsockopt(hf->hostfd, level, name, val, &l) < 0 ? -errno : 0;
	fput(hf);
	if (!err)
		*len = MIN((int)l, *len);
	return err;
}

/* ---- ioctls ------------------------------------------------------------------------------- */

static long host_queue(struct socket *s, unsigned long cmd)
{
	struct file *hf = host_of(s);
	if (!hf)
		return -EBADF;
	int n = 0;
	long r = ioctl(hf->hostfd, cmd, &n) < 0 ? -errno : n;
	fput(hf);
	return r;
}

static long host_inq(struct socket *s) { return host_queue(s, SIOCINQ); }
static long host_outq(struct socket *s) { return host_queue(s, SIOCOUTQ); }
static long host_atmark(struct socket *s) { return host_queue(s, SIOCATMARK); }

static const struct proto_ops host_ops = {
	.release = host_release,
	.bind = host_bind,
	.connect = host_connect,
	.listen = host_listen,
	.accept = host_accept,
	.getname = host_getname,
	.poll = host_poll,
	.shutdown = host_shutdown,
	.sendmsg = host_sendmsg,
	.recvmsg = host_recvmsg,
	.setsockopt = host_setsockopt,
	.getsockopt = host_getsockopt,
	.inq = host_inq,
	.outq = host_outq,
	.atmark = host_atmark,
	.all_levels = true,
};
