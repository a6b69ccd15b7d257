/* Sockets: the objects behind socket fds, and what the address families
 * (net/unix.c, net/inet.c) and the two shared transports (net/stream.c:
 * connection-oriented byte streams and records; net/dgram.c: datagrams)
 * provide to the system calls (net/socket.c).
 *
 * --net=none: every socket lives in the kernel. AF_UNIX binds into the
 * sandbox's VFS or the abstract namespace; AF_INET/AF_INET6 know only
 * loopback (127.0.0.0/8, ::1, wildcards meaning loopback).
 * --net=host: AF_INET/AF_INET6 are host sockets the kernel holds for the
 * guest (net/hostsock.c, its own proto_ops; nothing of the model below
 * applies to them but the file, options kept here and the waiting rules).
 *
 * Model (Linux's, simplified): data moves in skbs (chunks with optional
 * ancillary data) queued on the *receiving* socket's rq. A sender is
 * charged (wmem) for what it queued until the receiver consumes it, which
 * is its flow control. A connected socket holds a counted reference to
 * its peer; release marks a socket dead and leaves the peer's reference
 * in place (getpeername still answers), so the pair is freed when both
 * are closed.
 *
 * Locking: socket.lock is taken alone (never two socket locks at once);
 * guest memory is copied under it (socket.lock -> mm.lock), so nothing
 * may take a socket lock with the guest memory lock held: socket files
 * are may_block (fs/rw.c bounces their data). The tables of bound
 * addresses (unix_lock, inet_lock) come before socket locks. Files (fds
 * in flight) are never released under a socket lock: skbs are freed after
 * unlocking. waitq.lock is a leaf as everywhere. */
#ifndef COCOON_NET_SOCKET_H
#define COCOON_NET_SOCKET_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include "kernel/kernel.h"
#include "kernel/waitq.h"
#include "fs/vfs.h"

struct file;
struct poll_table;
struct socket;

#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3

/* Connection states (Linux's TCP states where they apply to all). */
enum sock_state { SK_CLOSE, SK_LISTEN, SK_ESTABLISHED };

/* ---- moving data: an iterator over kernel or guest iovecs ---------------- */

struct msg_iter {
	bool guest;              /* iov_base values are guest addresses */
	const struct iovec *iov;
	int n;
	size_t off;              /* into iov[0] */
	size_t left;
};
void iter_init(struct msg_iter *it, bool guest, const struct iovec *iov, int n);
/* Copy into / out of the iterator: the bytes moved, short only on a fault. */
size_t iter_to(struct msg_iter *it, const void *src, size_t len);
size_t iter_from(struct msg_iter *it, void *dst, size_t len);
/* Skip len bytes (MSG_TRUNC of TCP). */
void iter_skip(struct msg_iter *it, size_t len);

/* ---- ancillary data ------------------------------------------------------- */

struct sock_cred {
	int pid;
	uint32_t uid, gid;
};

/* What rides along an skb: the sender's credentials (AF_UNIX, always)
 * and files in flight (SCM_RIGHTS). */
struct scm {
	struct sock_cred cred;
	int nfiles;
	struct file **files;
};
void scm_free(struct scm *s);        /* drops the files */
struct scm *scm_dup(const struct scm *s); /* MSG_PEEK: new references */
/* A new scm with the sender's credentials and no files. */
struct scm *scm_new(struct sock_cred cred);
/* Files in flight (SCM_RIGHTS) of the whole sandbox: Linux refuses more
 * (ETOOMANYREFS) past RLIMIT_NOFILE unless privileged. */
int unix_inflight(void);
void unix_inflight_add(int n);

/* ---- skbs and queues ----------------------------------------------------- */

#define SKB_ADDR_MAX 112 /* a sockaddr_un or a sockaddr_in6 */

struct skb {
	struct skb *next;
	size_t len, off;          /* bytes; consumed (streams read partially) */
	struct socket *owner;     /* charged for it (counted), or NULL */
	size_t charge;
	struct scm *scm;
	int addrlen;              /* datagrams: the sender's address (UDP: and what
				   * net/inet.c reports in control messages,
				   * after it: dgram_recvmsg hands it all back) */
	char addr[SKB_ADDR_MAX];
	char data[];
};

struct skb_queue {
	struct skb *head, **tail;
	size_t bytes;             /* unread bytes */
	unsigned count;
};

struct skb *skb_alloc(size_t len);
/* Free an skb: uncharge its owner (waking it) and drop the scm. Never
 * with a socket lock held (the scm may hold the last reference to a
 * file). */
void skb_free(struct skb *skb);
void skb_free_list(struct skb *list);
void skb_charge(struct skb *skb, struct socket *owner);
void skbq_init(struct skb_queue *q);
void skbq_append(struct skb_queue *q, struct skb *skb);
struct skb *skbq_pop(struct skb_queue *q);
/* Take everything (freed by the caller after unlocking). */
struct skb *skbq_take_all(struct skb_queue *q);

/* ---- socket options kept as plain integers (net/socket.c's table) -------- */

#define NR_INT_OPTS 56

/* Receive timestamps (Linux's SOCK_RCVTSTAMP, SOCK_RCVTSTAMPNS and
 * SOCK_TSTAMP_NEW flags): which of SO_TIMESTAMP{,NS}_{OLD,NEW} was set. */
#define SOCK_TSTAMP_ON 1
#define SOCK_TSTAMP_NS 2
#define SOCK_TSTAMP_NEW 4

/* ---- the socket ------------------------------------------------------------ */

struct unix_addr;
struct inet_bind;

struct proto_ops;

struct socket {
	pthread_mutex_t lock;
	atomic_int refs;
	struct waitq wq;           /* every event of the socket */
	const struct proto_ops *ops;
	int family, type, protocol;
	uint64_t ino;
	uint32_t uid, gid;         /* its creator (fstat) */

	enum sock_state state;
	bool dead;                 /* its file is gone */
	bool connecting;           /* TCP: EINPROGRESS given, connect not yet reported */
	bool ever_connected;
	bool fin;                  /* TCP: the peer's FIN came (Linux's SOCK_DONE) */
	bool embryo;               /* in an accept queue, never accepted */
	int shutdown;              /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	int err;                   /* pending error (SO_ERROR) */

	/* Options. */
	int sndbuf, rcvbuf;
	bool sndbuf_set;           /* SO_SNDBUF given: no autotuning (TCP) */
	bool rcvbuf_set;           /* SO_RCVBUF given (Linux's SOCK_RCVBUF_LOCK) */
	unsigned tstamp;           /* SO_TIMESTAMP* state: SOCK_TSTAMP_* bits */
	bool reuseaddr, passcred;
	int64_t rcvtimeo_us, sndtimeo_us; /* 0: forever; <0: do not wait */
	struct linger linger;
	int peek_off;              /* SO_PEEK_OFF; -1 off */
	int int_opts[NR_INT_OPTS];

	/* Data. */
	struct skb_queue rq;
	atomic_size_t wmem;        /* charged for skbs still queued elsewhere */
	struct socket *peer;       /* counted: connected peer (stream) or default destination (dgram) */

	/* Listening: the accept queue of new connected sockets. */
	struct socket *acc_head, **acc_tail, *acc_next;
	int acc_len, backlog;

	/* SO_PEERCRED, and the credentials a listener hands its children. */
	struct sock_cred peercred, owncred;
	bool has_peercred;

	/* Family state. */
	struct unix_addr *uaddr;   /* AF_UNIX: bound address (counted) */
	struct socket *unix_next;  /* unix_lock: chain of bound sockets */
	struct inode *unix_inode;  /* path-bound: the node (its key) */
	struct inet_bind *inet;    /* AF_INET/6: addresses and ports */
	struct file *host;         /* --net=host: the host socket (net/hostsock.c) */
	unsigned host_slot;        /* ... its slot in hostsock.c's poller */
};

struct sock_addr {
	int len;
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	};
};

/* What recvmsg hands back besides the data. */
struct recv_info {
	struct sock_addr from;     /* len 0: none */
	int msg_flags;             /* MSG_TRUNC, MSG_CTRUNC, MSG_EOR... */
	struct scm *scm;           /* files to install (taken over), or NULL */
	struct sock_cred cred;     /* the sender's, when has_cred */
	bool has_cred;
	/* Further control messages the family made, in the guest's layout
	 * (cmsghdr after cmsghdr, aligned), delivered as they are. */
	size_t ctllen;
	char ctl[256];
};

/* What sendmsg got from the guest besides the data. */
struct send_info {
	const struct sock_addr *to; /* NULL: none */
	struct scm *scm;            /* parsed control data, or NULL */
	bool explicit_cred;         /* SCM_CREDENTIALS given */
	bool bad_cmsg;              /* a control message the family rejects (EINVAL; a
				     * SOL_SOCKET one of an IP socket: sock_cmsg_check) */
	const char *ctl;            /* all control messages as the guest gave them */
	size_t ctllen;
};

struct proto_ops {
	/* The file is gone: disconnect, unbind, free what is queued. */
	void (*release)(struct socket *s);
	int (*bind)(struct socket *s, const struct sock_addr *a);
	int (*connect)(struct socket *s, const struct sock_addr *a, bool nonblock);
	int (*socketpair)(struct socket *a, struct socket *b);
	int (*listen)(struct socket *s, int backlog);
	/* A new socket (counted) taken from the accept queue. */
	int (*accept)(struct socket *s, struct socket **out, bool nonblock);
	/* The local (peer false) or peer address; 0 or -ENOTCONN. */
	int (*getname)(struct socket *s, struct sock_addr *a, bool peer);
	unsigned (*poll)(struct socket *s);
	int (*shutdown)(struct socket *s, int how); /* RCV_/SEND_SHUTDOWN bits */
	ssize_t (*sendmsg)(struct socket *s, struct msg_iter *it, struct send_info *si,
			   int flags, bool nonblock);
	ssize_t (*recvmsg)(struct socket *s, struct msg_iter *it, struct recv_info *ri,
			   int flags, bool nonblock);
	/* Options of the family's levels (SOL_SOCKET is net/socket.c's,
	 * unless all_levels): -ENOPROTOOPT for unknown ones; NULL:
	 * -EOPNOTSUPP. */
	int (*setsockopt)(struct socket *s, int level, int name, const void *val, int len);
	int (*getsockopt)(struct socket *s, int level, int name, void *val, int *len);
	/* SIOCINQ (FIONREAD) and SIOCOUTQ: a count or -errno. */
	long (*inq)(struct socket *s);
	long (*outq)(struct socket *s);
	/* SIOCATMARK: 0/1 or -errno; NULL: 0 (-ENOTTY for AF_UNIX). */
	long (*atmark)(struct socket *s);
	bool scm_rights;            /* AF_UNIX: SCM_RIGHTS and SCM_CREDENTIALS */
	/* Host sockets: SOL_SOCKET options go to the family too, which
	 * answers SOCKOPT_GENERIC for those net/socket.c keeps; getsockopt
	 * is given the guest's length (at most the buffer's), not the
	 * buffer's. */
	bool all_levels;
};

#define SOCKOPT_GENERIC 1

/* ---- lifetime and shared helpers (net/socket.c) ---------------------------- */

struct socket *sock_alloc(int family, int type, int protocol, const struct proto_ops *ops);
struct socket *sock_get(struct socket *s);
void sock_put(struct socket *s);
void sock_wake(struct socket *s);
/* Wake s's sleepers and the epoll items that want one of events. */
void sock_wake_events(struct socket *s, unsigned events);
/* The socket of a guest fd: a counted reference, or NULL with *err
 * EBADF/ENOTSOCK. */
struct socket *sockfd_get(int fd, int *err);
/* The credentials of the calling process, for SO_PEERCRED (effective
 * ids) and SCM_CREDENTIALS (real ids). */
struct sock_cred cred_current(bool real);
/* Take and clear the pending error (SO_ERROR; sock_error). Lock held. */
int sock_take_err(struct socket *s);

/* Deadlines of blocking calls: SO_RCVTIMEO/SO_SNDTIMEO or non-blocking. */
struct sock_timeo {
	bool nonblock, forever;
	struct timespec end;
};
void sock_timeo_init(struct sock_timeo *t, struct socket *s, bool nonblock, bool rcv);
/* Sleep on q with mu held (dropped while asleep) until cond(arg) holds:
 * 0; -EAGAIN when the deadline passed or the call may not wait;
 * -ERESTARTSYS (no timeout) or -EINTR (a timeout set) on a signal. */
int sock_wait(pthread_mutex_t *mu, struct waitq *q, bool (*cond)(void *), void *arg,
	      struct sock_timeo *t);

/* AF_UNIX readiness for output (Linux's unix_writable): at most a
 * quarter of the send buffer in flight, the socket itself counting one
 * (sk_wmem_alloc starts at 1). A send is accepted below the whole
 * buffer; poll says POLLOUT only from here. */
static inline bool unix_writable(struct socket *s)
{
	return s->state != SK_LISTEN && ((atomic_load(&s->wmem) + 1) << 2) <= (size_t)s->sndbuf;
}

/* A SOL_SOCKET control message of a send on a socket that takes no
 * SCM_RIGHTS (Linux's __sock_cmsg_send): 0 (SCM_RIGHTS and
 * SCM_CREDENTIALS are ignored), -EINVAL or -EPERM. */
int sock_cmsg_check(struct socket *s, int type, const void *data, size_t dlen);

/* The pending SIGPIPE of EPIPE, unless MSG_NOSIGNAL. */
void sock_sigpipe(int flags);

/* ---- the shared transports ------------------------------------------------- */

/* Connection-oriented (net/stream.c): AF_UNIX SOCK_STREAM and
 * SOCK_SEQPACKET, TCP. What differs between them is in the rules. */
struct stream_rules {
	bool records;          /* SOCK_SEQPACKET: one skb is one message */
	bool unix_shutdown;    /* shutdown sets the peer's opposite bit; unconnected recv is EINVAL */
	bool tcp;              /* RST on close with unread data, EPIPE after writing to a closed peer */
};
const struct stream_rules *stream_rules_of(const struct socket *s);
/* Join two fresh sockets (socketpair, connect's new server side). */
void stream_join(struct socket *a, struct socket *b);
ssize_t stream_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si, int flags,
		       bool nonblock);
ssize_t stream_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri, int flags,
		       bool nonblock);
/* Close a connected or listening socket (the file is gone). */
void stream_release(struct socket *s);
int stream_shutdown(struct socket *s, int how);
unsigned stream_poll(struct socket *s);
/* TCP: not connected any more, as Linux's TCP_CLOSE (s->lock held). */
bool tcp_closed_locked(const struct socket *s);
/* Listening: mark s listening; queue a child; take one. */
int stream_listen(struct socket *s, int backlog);
/* Queue the new server side `child` on listener l (both set up, child
 * joined to the client). Waits for room within t (-EAGAIN), or
 * exceeds the backlog when overfill (TCP). 0, -ECONNREFUSED (not
 * listening any more), or the wait's error. */
int stream_enqueue_child(struct socket *l, struct socket *child, struct sock_timeo *t,
			 bool overfill);
int stream_accept(struct socket *s, struct socket **out, bool nonblock);
long stream_inq(struct socket *s);
long stream_outq(struct socket *s);

/* Datagrams (net/dgram.c): AF_UNIX SOCK_DGRAM and UDP. */
/* Queue skb on dst. unix: a full queue makes the sender wait (or
 * -EAGAIN); otherwise a full queue drops it. 0 or -errno (the skb is
 * freed on error). */
int dgram_deliver(struct socket *s, struct socket *dst, struct skb *skb, bool unix_flow,
		  bool nonblock);
ssize_t dgram_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri, int flags,
		      bool nonblock);
unsigned dgram_poll(struct socket *s, bool writable);
struct poll_table;
/* AF_UNIX datagrams: whether s's connected peer, not connected back to
 * s, holds a full queue, so s is not writable (Linux's unix_dgram_poll);
 * queues pt's owner on the peer too. */
bool unix_dgram_peer_full(struct socket *s, struct poll_table *pt);
/* A poll-table unpin that drops a socket reference. */
void sock_unpin_put(void *sock);
long dgram_inq(struct socket *s);
void dgram_purge(struct socket *s);

/* ---- families ---------------------------------------------------------------- */

int unix_create(struct socket **out, int type, int protocol);
int inet_create(struct socket **out, int family, int type, int protocol);
/* --net=host (net/hostsock.c): whether AF_INET/AF_INET6 are host
 * sockets, and making one. */
extern bool net_host;
/* --net=MODE of the command line: 0, or -EINVAL for an unknown mode. */
int net_set_mode(const char *mode);
int hostsock_create(struct socket **out, int family, int type, int protocol);
void unix_addr_put(struct unix_addr *a);

/* Integer options table (net/socket.c): index of (level, name) or -1;
 * get or set one: 0, or -ENOPROTOOPT if s does not take it. */
int int_opt_index(int level, int name);
int sock_int_opt(struct socket *s, int level, int name, int *val, bool set);
/* The value of a table option with s->lock held. */
int sock_opt_locked(const struct socket *s, int level, int name);

/* The network sysctls of the sandbox's own loopback stack, as
 * /proc/sys/net shows them (fs/procfs.c). */
#define SYSCTL_SOMAXCONN 4096   /* net.core.somaxconn: listen's backlog cap */
#define SYSCTL_BUF_MAX 4194304  /* net.core.rmem_max and wmem_max */
#define SYSCTL_PORT_LO 32768    /* net.ipv4.ip_local_port_range */
#define SYSCTL_PORT_HI 60999
#define SYSCTL_PROT_SOCK 1024   /* net.ipv4.ip_unprivileged_port_start */

#endif
