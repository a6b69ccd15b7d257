/* AF_INET and AF_INET6 with --net=none: loopback only, implemented here
 * (no host sockets). TCP runs on net/stream.c, UDP on net/dgram.c; this
 * file owns addresses and ports: 127.0.0.0/8 and ::1 are the machine's
 * addresses, INADDR_ANY/in6addr_any bind to them all (and as a
 * destination mean loopback, like Linux), anything else is unreachable
 * (ENETUNREACH) or not local (EADDRNOTAVAIL). IPv4-mapped addresses let
 * v6 sockets speak to v4 ones unless IPV6_V6ONLY.
 *
 * Addresses are kept as in6_addr (v4 ones mapped) with ports in host
 * order. One table holds every socket with a port, under inet_lock
 * (taken before socket locks; it also guards each socket's inet_bind). */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/ktime.h"
#include "kernel/task.h"
#include "net/socket.h"

#define TCP_SNDBUF_DEFAULT 16384  /* tcp_wmem[1] */
#define TCP_RCVBUF_DEFAULT 131072 /* tcp_rmem[1] */
#define UDP_MAX_V4 65507
#define UDP_MAX_V6 65527
#define LOOPBACK_MSS_V4 65483
#define LOOPBACK_MSS_V6 65476
#define SIN6_LEN_RFC2133 24

struct inet_bind {
	struct socket *next;       /* the port table */
	bool listed, listening;
	bool v6only;
	bool addr_lock, port_lock; /* bind named an address, a port (Linux's SOCK_BIND*_LOCK) */
	struct in6_addr laddr, raddr;
	uint16_t lport, rport;
	bool has_remote;
};

static pthread_mutex_t inet_lock = PTHREAD_MUTEX_INITIALIZER;
static struct socket *ports;

static const struct proto_ops tcp_ops, udp_ops;
static void tcp_release(struct socket *s);

/* ---- addresses ------------------------------------------------------------------- */

static bool is_mapped(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

static struct in6_addr mapped(uint32_t v4 /* network order */)
{
	struct in6_addr a = { 0 };
	a.s6_addr[10] = a.s6_addr[11] = 0xff;
	memcpy(&a.s6_addr[12], &v4, 4);
	return a;
}

static uint32_t v4_of(const struct in6_addr *a)
{
	uint32_t v;
	memcpy(&v, &a->s6_addr[12], 4);
	return v;
}

static bool any4(const struct in6_addr *a) { return is_mapped(a) && v4_of(a) == 0; }
static bool loop4(const struct in6_addr *a) { return is_mapped(a) && (ntohl(v4_of(a)) >> 24) == 127; }
static bool any6(const struct in6_addr *a) { return IN6_IS_ADDR_UNSPECIFIED(a); }
static bool loop6(const struct in6_addr *a) { return IN6_IS_ADDR_LOOPBACK(a); }
static bool addr_eq(const struct in6_addr *a, const struct in6_addr *b) { return !memcmp(a, b, 16); }

/* A socket address given to bind/connect/sendto as (addr, port). Linux's
 * length and family checks; wrong family: -EAFNOSUPPORT. */
static int parse(const struct socket *s, const struct sock_addr *a, struct in6_addr *addr,
		 uint16_t *port, bool bind)
{
	if (s->family == AF_INET) {
		if (a->len < (int)sizeof(struct sockaddr_in))
			return -EINVAL;
		if (a->in.sin_family != AF_INET &&
		    !(a->in.sin_family == AF_UNSPEC && (!bind || a->in.sin_addr.s_addr == INADDR_ANY)))
			return -EAFNOSUPPORT;
		*addr = mapped(a->in.sin_addr.s_addr);
		*port = ntohs(a->in.sin_port);
		return 0;
	}
	if (a->len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (a->in6.sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	*addr = a->in6.sin6_addr;
	*port = ntohs(a->in6.sin6_port);
	return 0;
}

static void fill(const struct socket *s, struct sock_addr *a, const struct in6_addr *addr,
		 uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (s->family == AF_INET) {
		a->len = sizeof(struct sockaddr_in);
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons(port);
		a->in.sin_addr.s_addr = v4_of(addr);
	} else {
		a->len = sizeof(struct sockaddr_in6);
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		a->in6.sin6_addr = *addr;
	}
}

/* A destination: loopback (the wildcard means loopback too) as its
 * canonical address and the source that reaches it, or -ENETUNREACH. */
static int route(const struct socket *s, struct in6_addr *dst, struct in6_addr *src)
{
	if (any4(dst))
		*dst = mapped(htonl(INADDR_LOOPBACK));
	else if (any6(dst))
		*dst = in6addr_loopback;
	if (loop4(dst)) {
		if (s->inet->v6only)
			return -ENETUNREACH;
		*src = mapped(htonl(INADDR_LOOPBACK));
		return 0;
	}
	if (loop6(dst) && s->family == AF_INET6) {
		*src = in6addr_loopback;
		return 0;
	}
	return -ENETUNREACH;
}

/* The route from a v6 socket bound to a v4-mapped address: :: is the
 * v4 loopback, an IPv6 destination is EAFNOSUPPORT (ip6_dst_lookup_tail);
 * then route() for everyone. */
static int route_from(const struct socket *s, const struct in6_addr *bound, struct in6_addr *dst,
		      struct in6_addr *src)
{
	if (s->family == AF_INET6 && is_mapped(bound)) {
		if (any6(dst))
			*dst = mapped(htonl(INADDR_LOOPBACK));
		else if (!is_mapped(dst))
			return -EAFNOSUPPORT;
	}
	return route(s, dst, src);
}

/* ---- the port table ----------------------------------------------------------------- */

static bool is_tcp(const struct socket *s) { return s->type == SOCK_STREAM; }

/* Whether two local addresses may receive the same packets. */
static bool overlap(const struct inet_bind *a, const struct inet_bind *b)
{
	const struct in6_addr *x = &a->laddr, *y = &b->laddr;
	bool xv4 = is_mapped(x), yv4 = is_mapped(y);
	if (any6(x) && !a->v6only)
		return true;
	if (any6(y) && !b->v6only)
		return true;
	if (any6(x))
		return !yv4;
	if (any6(y))
		return !xv4;
	if (xv4 != yv4)
		return false;
	if (xv4 && (any4(x) || any4(y)))
		return true;
	return addr_eq(x, y);
}

/* Linux's bind conflict rules (inet_csk_bind_conflict, udp_lib_lport_inuse). */
static bool conflicts_locked(struct socket *s, const struct inet_bind *want, uint16_t port)
{
	for (struct socket *o = ports; o; o = o->inet->next) {
		if (o == s || o->type != s->type || o->inet->lport != port || !overlap(o->inet, want))
			continue;
		bool reuse = s->reuseaddr && o->reuseaddr;
		if (reuse && (!is_tcp(s) || !o->inet->listening))
			continue;
		if (sock_opt_locked(s, SOL_SOCKET, SO_REUSEPORT) &&
		    sock_opt_locked(o, SOL_SOCKET, SO_REUSEPORT) && o->uid == s->uid)
			continue;
		return true;
	}
	return false;
}

static void list_locked(struct socket *s)
{
	if (s->inet->listed)
		return;
	s->inet->next = ports;
	ports = s;
	s->inet->listed = true;
}

static void unlist_locked(struct socket *s)
{
	if (!s->inet->listed)
		return;
	for (struct socket **pp = &ports; *pp; pp = &(*pp)->inet->next) {
		if (*pp == s) {
			*pp = s->inet->next;
			break;
		}
	}
	s->inet->listed = false;
	s->inet->listening = false;
}

/* Give s (not bound) the local address addr and port (0: an ephemeral
 * one). inet_lock held. */
static int get_port_locked(struct socket *s, const struct in6_addr *addr, uint16_t port)
{
	struct inet_bind want = *s->inet;
	want.laddr = *addr;
	if (port) {
		if (conflicts_locked(s, &want, port))
			return -EADDRINUSE;
	} else {
		unsigned range = SYSCTL_PORT_HI - SYSCTL_PORT_LO + 1, start = krandom_u64() % range;
		for (unsigned i = 0; i < range && !port; i++) {
			uint16_t p = SYSCTL_PORT_LO + (start + i) % range;
			if (!conflicts_locked(s, &want, p))
				port = p;
		}
		if (!port)
			return -EADDRINUSE;
	}
	s->inet->laddr = *addr;
	s->inet->lport = port;
	list_locked(s);
	return 0;
}

static int inet_bind(struct socket *s, const struct sock_addr *a)
{
	struct in6_addr addr;
	uint16_t port;
	int err = parse(s, a, &addr, &port, true);
	if (err)
		return err;
	if (s->family == AF_INET6 && is_mapped(&addr) && s->inet->v6only)
		return -EINVAL;
	if (s->family == AF_INET6 &&
	    (IN6_IS_ADDR_LINKLOCAL(&addr) || IN6_IS_ADDR_MC_LINKLOCAL(&addr))) {
		/* __inet6_bind: a link-local address needs an interface
		 * (the scope id); only lo exists, without such addresses. */
		uint32_t scope = a->len >= (int)sizeof(struct sockaddr_in6) ? a->in6.sin6_scope_id : 0;
		return !scope ? -EINVAL : scope != 1 ? -ENODEV : -EADDRNOTAVAIL;
	}
	if (!any4(&addr) && !loop4(&addr) && !any6(&addr) && !loop6(&addr))
		return -EADDRNOTAVAIL;
	if (port && port < SYSCTL_PROT_SOCK && current->proc->uid != 0)
		return -EACCES;
	pthread_mutex_lock(&inet_lock);
	if (s->inet->listed)
		err = -EINVAL;
	else
		err = get_port_locked(s, &addr, port);
	if (!err) {
		s->inet->addr_lock = !any4(&addr) && !any6(&addr);
		s->inet->port_lock = port != 0;
	}
	pthread_mutex_unlock(&inet_lock);
	return err;
}

static int inet_getname(struct socket *s, struct sock_addr *a, bool peer)
{
	int err = 0;
	pthread_mutex_lock(&inet_lock);
	struct inet_bind b = *s->inet;
	pthread_mutex_unlock(&inet_lock);
	if (peer) {
		pthread_mutex_lock(&s->lock);
		bool gone = is_tcp(s) && tcp_closed_locked(s);
		pthread_mutex_unlock(&s->lock);
		if (!b.has_remote || gone)
			err = -ENOTCONN;
		else
			fill(s, a, &b.raddr, b.rport);
	} else {
		/* An unlisted socket keeps a port it gave back (tcp_shutdown). */
		bool has = b.listed || b.lport;
		struct in6_addr any = s->family == AF_INET ? mapped(0) : in6addr_any;
		fill(s, a, has ? &b.laddr : &any, has ? b.lport : 0);
	}
	return err;
}

/* Bind s to an ephemeral port if it has none: on the address bind named
 * if it keeps one (a port given back), else on the wildcard. */
static int autobind_locked(struct socket *s)
{
	if (s->inet->listed)
		return 0;
	struct in6_addr any = s->family == AF_INET ? mapped(0) : in6addr_any;
	return get_port_locked(s, s->inet->addr_lock ? &s->inet->laddr : &any, 0);
}

/* A hash of a 4-tuple for picking a member of a SO_REUSEPORT group
 * (Linux's inet_ehashfn/udp_ehashfn with its boot-time secret): the same
 * tuple always picks the same member of an unchanged group. */
static uint32_t tuple_hash(const struct in6_addr *src, uint16_t sport,
			   const struct in6_addr *dst, uint16_t dport)
{
	static uint64_t secret;
	if (!secret)
		secret = krandom_u64() | 1; /* inet_lock held */
	uint64_t h = secret ^ ((uint64_t)sport << 16 | dport);
	const struct in6_addr *a[2] = { src, dst };
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 16; j += 8) {
			uint64_t w;
			memcpy(&w, &a[i]->s6_addr[j], 8);
			h = (h ^ w) * 0x9e3779b97f4a7c15ull;
			h ^= h >> 29;
		}
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	return (uint32_t)(h >> 32);
}

/* Whether o may be picked for a packet from src:sport, and how well it
 * matches (Linux's compute_score: the exact address beats the v4
 * wildcard beats the v6 one; a UDP socket connected to src:sport gains
 * more than any address; one connected elsewhere is no candidate). 0: no. */
static int score_locked(const struct socket *o, int type, const struct in6_addr *dst,
			uint16_t port, const struct in6_addr *src, uint16_t sport)
{
	const struct inet_bind *b = o->inet;
	if (o->type != type || b->lport != port)
		return 0;
	if (type == SOCK_STREAM && !b->listening)
		return 0;
	int score;
	if (addr_eq(&b->laddr, dst))
		score = 3;
	else if (is_mapped(dst) && any4(&b->laddr))
		score = 2;
	else if (any6(&b->laddr) && (!is_mapped(dst) || !b->v6only))
		score = 1;
	else
		return 0;
	if (type == SOCK_DGRAM && b->has_remote) {
		if (!addr_eq(&b->raddr, src))
			return 0;
		score += 4;
		if (b->rport) {
			if (b->rport != sport)
				return 0;
			score += 4;
		}
	}
	return score;
}

/* Whether o is in best's SO_REUSEPORT group (Linux's
 * inet_reuseport_add_sock and udp_reuseport_add_sock: the same family,
 * v6only, port and exact address, both with SO_REUSEPORT, the same
 * owner) and may be picked from it (reuseport_select_sock_by_hash skips
 * connected members; TCP takes listeners only). */
static bool reuseport_member_locked(const struct socket *o, const struct socket *best)
{
	const struct inet_bind *a = o->inet, *b = best->inet;
	if (o->type != best->type || o->family != best->family || a->v6only != b->v6only ||
	    a->lport != b->lport || !addr_eq(&a->laddr, &b->laddr) || o->uid != best->uid)
		return false;
	if (o->type == SOCK_STREAM ? !a->listening : a->has_remote)
		return false;
	return sock_opt_locked(o, SOL_SOCKET, SO_REUSEPORT) != 0;
}

/* The socket of type at (dst, port) for a packet from (src, sport),
 * counted: the best scored (above); when that is a member of a
 * SO_REUSEPORT group, the member a hash of the 4-tuple picks (Linux's
 * reuseport_select_sock, reciprocal_scale over the group), so a group's
 * listeners or UDP sockets share the load. */
static struct socket *lookup(int type, const struct in6_addr *dst, uint16_t port,
			     const struct in6_addr *src, uint16_t sport)
{
	struct socket *best = NULL;
	int best_score = 0;
	pthread_mutex_lock(&inet_lock);
	for (struct socket *o = ports; o; o = o->inet->next) {
		int score = score_locked(o, type, dst, port, src, sport);
		if (score > best_score) {
			best = o;
			best_score = score;
		}
	}
	if (best && reuseport_member_locked(best, best)) {
		unsigned n = 0;
		for (struct socket *o = ports; o; o = o->inet->next)
			n += reuseport_member_locked(o, best);
		unsigned pick = (unsigned)(((uint64_t)tuple_hash(src, sport, dst, port) * n) >> 32);
		for (struct socket *o = ports; o; o = o->inet->next) {
			if (reuseport_member_locked(o, best) && pick-- == 0) {
				best = o;
				break;
			}
		}
	}
	if (best)
		sock_get(best);
	pthread_mutex_unlock(&inet_lock);
	return best;
}

static struct inet_bind *bind_new(void)
{
	return calloc(1, sizeof(struct inet_bind));
}

/* ---- TCP -------------------------------------------------------------------------------- */

static int tcp_connect(struct socket *s, const struct sock_addr *a, bool nonblock)
{
	if (a->len < (int)sizeof(sa_family_t))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	int err = 0;
	if (s->connecting) { /* the answer to an earlier EINPROGRESS */
		s->connecting = false;
		if (s->state == SK_ESTABLISHED)
			err = 0;
		else if (!(err = sock_take_err(s)))
			err = -ECONNABORTED;
		pthread_mutex_unlock(&s->lock);
		return err;
	}
	/* A listener too: Linux's __inet_stream_connect wants TCP_CLOSE. */
	if (s->state == SK_ESTABLISHED || s->state == SK_LISTEN)
		err = -EISCONN;
	pthread_mutex_unlock(&s->lock);
	if (err)
		return err;
	if (a->sa.sa_family == AF_UNSPEC)
		return 0; /* nothing to disconnect */
	struct in6_addr dst, src;
	uint16_t port;
	if ((err = parse(s, a, &dst, &port, false)))
		return err;
	if ((err = route(s, &dst, &src)))
		return err;
	pthread_mutex_lock(&inet_lock);
	if (!s->inet->listed)
		err = get_port_locked(s, &src, 0);
	else if (any4(&s->inet->laddr) || any6(&s->inet->laddr))
		s->inet->laddr = src;
	struct inet_bind me = *s->inet;
	pthread_mutex_unlock(&inet_lock);
	if (err)
		return -EADDRNOTAVAIL;
	struct socket *l = lookup(SOCK_STREAM, &dst, port, &me.laddr, me.lport);
	if (!l) {
		if (!nonblock)
			return -ECONNREFUSED;
		pthread_mutex_lock(&s->lock);
		s->err = ECONNREFUSED;
		s->connecting = true;
		s->shutdown = SHUTDOWN_MASK;
		pthread_mutex_unlock(&s->lock);
		sock_wake(s);
		return -EINPROGRESS;
	}
	/* The server side, as the listener would make it. */
	struct socket *child = sock_alloc(l->family, SOCK_STREAM, IPPROTO_TCP, &tcp_ops);
	struct inet_bind *cb = child ? bind_new() : NULL;
	if (!cb) {
		sock_put(child);
		sock_put(l);
		return -ENOMEM;
	}
	child->inet = cb;
	pthread_mutex_lock(&l->lock);
	child->sndbuf = l->sndbuf;
	child->rcvbuf = l->rcvbuf;
	child->sndbuf_set = l->sndbuf_set;
	child->linger = l->linger;
	memcpy(child->int_opts, l->int_opts, sizeof(child->int_opts));
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_lock(&inet_lock);
	cb->v6only = l->inet->v6only;
	cb->laddr = dst;
	cb->lport = port;
	cb->raddr = me.laddr;
	cb->rport = me.lport;
	cb->has_remote = true;
	list_locked(child);
	s->inet->raddr = dst;
	s->inet->rport = port;
	s->inet->has_remote = true;
	pthread_mutex_unlock(&inet_lock);
	pthread_mutex_lock(&s->lock);
	stream_join(s, child);
	s->shutdown = 0;
	s->connecting = nonblock;
	pthread_mutex_unlock(&s->lock);
	struct sock_timeo t = { .nonblock = true };
	err = stream_enqueue_child(l, child, &t, true);
	sock_put(l);
	if (err) { /* the listener went away meanwhile */
		tcp_release(child);
		sock_put(child);
		pthread_mutex_lock(&s->lock);
		s->connecting = false;
		pthread_mutex_unlock(&s->lock);
		return -ECONNREFUSED;
	}
	return nonblock ? -EINPROGRESS : 0;
}

static int tcp_listen(struct socket *s, int backlog)
{
	int err = 0;
	pthread_mutex_lock(&s->lock);
	bool ok = s->state == SK_CLOSE || s->state == SK_LISTEN;
	bool connected = s->ever_connected;
	pthread_mutex_unlock(&s->lock);
	if (!ok || connected)
		return -EINVAL;
	pthread_mutex_lock(&inet_lock);
	err = autobind_locked(s);
	if (!err && !s->inet->listening) {
		struct inet_bind want = *s->inet;
		want.listening = true;
		if (conflicts_locked(s, &want, s->inet->lport))
			err = -EADDRINUSE;
		else
			s->inet->listening = true;
	}
	pthread_mutex_unlock(&inet_lock);
	if (!err)
		err = stream_listen(s, backlog);
	return err;
}

static int tcp_accept(struct socket *s, struct socket **out, bool nonblock)
{
	return stream_accept(s, out, nonblock);
}

static int tcp_shutdown(struct socket *s, int how)
{
	int err = stream_shutdown(s, how);
	pthread_mutex_lock(&s->lock);
	bool closed = s->state == SK_CLOSE;
	pthread_mutex_unlock(&s->lock);
	if (closed) {
		pthread_mutex_lock(&inet_lock);
		if (s->inet->listening) {
			/* A listener stopped (tcp_disconnect): TCP_CLOSE gives
			 * back a port the kernel chose (tcp_set_state's
			 * inet_put_port without SOCK_BINDPORT_LOCK) and an
			 * address bind did not name; getsockname still shows
			 * the old port (inet_sport stays). */
			s->inet->listening = false;
			if (!s->inet->port_lock)
				unlist_locked(s);
			if (!s->inet->addr_lock)
				s->inet->laddr = s->family == AF_INET ? mapped(0) : in6addr_any;
		}
		pthread_mutex_unlock(&inet_lock);
	}
	return err;
}

static void inet_unlist(struct socket *s)
{
	pthread_mutex_lock(&inet_lock);
	unlist_locked(s);
	pthread_mutex_unlock(&inet_lock);
}

static void tcp_release(struct socket *s)
{
	inet_unlist(s);
	stream_release(s);
}

static long tcp_outq(struct socket *s) { return stream_outq(s); }

/* The error of the first SOL_SOCKET control message sock_cmsg_check
 * refuses (si->bad_cmsg says there is one). */
static int sol_cmsg_error(struct socket *s, const struct send_info *si)
{
	struct { uint64_t len; int level, type; } h;
	for (size_t off = 0; si->ctl && off + sizeof(h) <= si->ctllen;) {
		memcpy(&h, si->ctl + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > si->ctllen - off)
			break;
		if (h.level == SOL_SOCKET) {
			int err = sock_cmsg_check(s, h.type, si->ctl + off + sizeof(h), h.len - sizeof(h));
			if (err)
				return err;
		}
		off += (h.len + 7) & ~(size_t)7;
	}
	return -EINVAL;
}

/* tcp_sendmsg: a refused SOL_SOCKET control message fails the send after
 * the connection's own errors (stream_sendmsg's EINVAL for bad_cmsg)
 * with sock_cmsg_send's error (EPERM for SO_MARK unprivileged). */
static ssize_t tcp_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si,
			   int flags, bool nonblock)
{
	ssize_t r = stream_sendmsg(s, it, si, flags, nonblock);
	return r == -EINVAL && si->bad_cmsg ? sol_cmsg_error(s, si) : r;
}

/* The TCP state Linux would report (s->lock held). Loopback answers at
 * once: our FIN is acknowledged as it is sent (FIN_WAIT2, not
 * FIN_WAIT1); the peer's FIN leaves us in CLOSE_WAIT; both FINs, in
 * either order, end in TCP_CLOSE for a socket with a file (LAST_ACK and
 * TIME_WAIT pass at once or belong to a timewait socket). */
static int tcp_state_locked(const struct socket *s)
{
	if (s->state == SK_LISTEN)
		return TCP_LISTEN;
	if (tcp_closed_locked(s))
		return TCP_CLOSE;
	if (s->fin)
		return TCP_CLOSE_WAIT;
	if (s->shutdown & SEND_SHUTDOWN)
		return TCP_FIN_WAIT2;
	return TCP_ESTABLISHED;
}

/* tcp_info: the state and little else (loopback has no round trips). */
static int tcp_info(struct socket *s, void *val, int *len)
{
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	pthread_mutex_lock(&s->lock);
	ti.tcpi_state = tcp_state_locked(s);
	pthread_mutex_unlock(&s->lock);
	ti.tcpi_snd_mss = ti.tcpi_rcv_mss = s->family == AF_INET ? LOOPBACK_MSS_V4 : LOOPBACK_MSS_V6;
	memcpy(val, &ti, sizeof(ti));
	*len = sizeof(ti);
	return 0;
}

/* ---- options of the IP levels ------------------------------------------------------------- */

#define INET_ECN_MASK 3
#define MAX_TCP_KEEPIDLE 32767
#define MAX_TCP_KEEPINTVL 32767
#define MAX_TCP_KEEPCNT 127
#define MAX_TCP_SYNCNT 127
#define TCP_FIN_TIMEOUT 60      /* net.ipv4.tcp_fin_timeout */
#define TCP_FIN_TIMEOUT_MAX 120 /* seconds */
#define TCP_TIMEOUT_INIT 1      /* seconds */
#define TCP_RTO_MAX 120         /* seconds */
#define SOCK_MIN_RCVBUF 2304    /* see net/socket.c */

/* Linux's ip_tos2prio: the SO_PRIORITY a TOS value gives. */
static const unsigned char tos2prio[16] = { 0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4 };

/* TCP_DEFER_ACCEPT is kept as SYN-ACK retransmissions (Linux's
 * secs_to_retrans and retrans_to_secs). */
static int secs_to_retrans(int seconds)
{
	int res = 0;
	if (seconds > 0) {
		int timeout = TCP_TIMEOUT_INIT, period = timeout;
		res = 1;
		while (seconds > period && res < 255) {
			res++;
			timeout = MIN(timeout << 1, TCP_RTO_MAX);
			period += timeout;
		}
	}
	return res;
}

static int retrans_to_secs(int retrans)
{
	int period = 0;
	if (retrans > 0) {
		int timeout = TCP_TIMEOUT_INIT;
		period = timeout;
		while (--retrans) {
			timeout = MIN(timeout << 1, TCP_RTO_MAX);
			period += timeout;
		}
	}
	return period;
}

/* Whether level is one of s's protocol levels: Linux hands the others
 * to ip_{set,get}sockopt (ENOPROTOOPT, or EOPNOTSUPP for a v4 socket's
 * getsockopt) or ipv6_{set,get}sockopt (ENOPROTOOPT). */
static bool inet_level(const struct socket *s, int level)
{
	return level == IPPROTO_IP || (level == IPPROTO_IPV6 && s->family == AF_INET6) ||
	       level == (is_tcp(s) ? IPPROTO_TCP : IPPROTO_UDP);
}

/* The value a TCP or IP-level option is stored as (do_tcp_setsockopt,
 * do_ip_setsockopt, do_ipv6_setsockopt): 0 or -EINVAL. */
static int inet_opt_value(struct socket *s, int level, int name, int *v)
{
	int old;
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_KEEPIDLE:
			return *v < 1 || *v > MAX_TCP_KEEPIDLE ? -EINVAL : 0;
		case TCP_KEEPINTVL:
			return *v < 1 || *v > MAX_TCP_KEEPINTVL ? -EINVAL : 0;
		case TCP_KEEPCNT:
			return *v < 1 || *v > MAX_TCP_KEEPCNT ? -EINVAL : 0;
		case TCP_SYNCNT:
			return *v < 1 || *v > MAX_TCP_SYNCNT ? -EINVAL : 0;
		case TCP_USER_TIMEOUT:
			return *v < 0 ? -EINVAL : 0;
		case TCP_LINGER2: /* 0 reads back as tcp_fin_timeout */
			*v = *v < 0 ? -1 : *v == 0 ? TCP_FIN_TIMEOUT : MIN(*v, TCP_FIN_TIMEOUT_MAX);
			return 0;
		case TCP_DEFER_ACCEPT:
			*v = secs_to_retrans(*v);
			return 0;
		case TCP_WINDOW_CLAMP: /* tcp_set_window_clamp */
			if (*v == 0) {
				pthread_mutex_lock(&s->lock);
				bool closed = s->state != SK_LISTEN && tcp_closed_locked(s);
				pthread_mutex_unlock(&s->lock);
				return closed ? 0 : -EINVAL;
			}
			*v = MAX(*v, SOCK_MIN_RCVBUF / 2);
			return 0;
		}
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		/* __ip_sock_set_tos: TCP keeps its ECN bits; the priority follows. */
		*v &= 0xff;
		if (is_tcp(s) && !sock_int_opt(s, level, name, &old, false))
			*v = (*v & ~INET_ECN_MASK) | (old & INET_ECN_MASK);
		int prio = tos2prio[(*v & 0x1e) >> 1];
		sock_int_opt(s, SOL_SOCKET, SO_PRIORITY, &prio, true);
	} else if (level == IPPROTO_IPV6 && (name == IPV6_TCLASS || name == IPV6_UNICAST_HOPS)) {
		if (*v < -1 || *v > 255)
			return -EINVAL;
		if (name == IPV6_UNICAST_HOPS) {
			if (*v == -1)
				*v = 64; /* the route's hop limit */
		} else {
			if (*v == -1)
				*v = 0;
			if (is_tcp(s) && !sock_int_opt(s, level, name, &old, false))
				*v = (*v & ~INET_ECN_MASK) | (old & INET_ECN_MASK);
		}
	}
	return 0;
}

static int inet_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	int v = 0;
	if (!inet_level(s, level))
		return -ENOPROTOOPT;
	if (level == IPPROTO_TCP && is_tcp(s) && name == TCP_CONGESTION) {
		char algo[16] = { 0 };
		memcpy(algo, val, MIN(len, 15));
		return !strcmp(algo, "cubic") || !strcmp(algo, "reno") ? 0 : -ENOENT;
	}
	if (len >= (int)sizeof(int))
		memcpy(&v, val, sizeof(v));
	else if (level == IPPROTO_IP && len > 0) /* Linux takes a byte there */
		v = *(const unsigned char *)val;
	else
		return -EINVAL;
	if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		pthread_mutex_lock(&inet_lock);
		int err = s->inet->listed ? -EINVAL : 0;
		if (!err)
			s->inet->v6only = v != 0;
		pthread_mutex_unlock(&inet_lock);
		return err;
	}
	if (level == IPPROTO_IP && name == IP_TTL && (v < -1 || v == 0 || v > 255))
		return -EINVAL;
	if (level == IPPROTO_IP && name == IP_TTL && v == -1)
		v = 64;
	if (level == IPPROTO_TCP && is_tcp(s) && name == TCP_MAXSEG)
		return v < 88 || v > 65535 ? -EINVAL : 0;
	if (int_opt_index(level, name) < 0)
		return -ENOPROTOOPT;
	int err = inet_opt_value(s, level, name, &v);
	return err ? err : sock_int_opt(s, level, name, &v, true);
}

static int inet_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	int v;
	if (!inet_level(s, level))
		return s->family == AF_INET ? -EOPNOTSUPP : -ENOPROTOOPT;
	if (level == IPPROTO_TCP && is_tcp(s)) {
		if (name == TCP_INFO)
			return tcp_info(s, val, len);
		if (name == TCP_CONGESTION) {
			char algo[16] = "cubic";
			memcpy(val, algo, sizeof(algo));
			*len = sizeof(algo);
			return 0;
		}
		if (name == TCP_MAXSEG) {
			pthread_mutex_lock(&s->lock);
			bool conn = s->state == SK_ESTABLISHED;
			pthread_mutex_unlock(&s->lock);
			v = !conn ? 536 /* TCP_MSS_DEFAULT */ : s->family == AF_INET ? LOOPBACK_MSS_V4 : LOOPBACK_MSS_V6;
			goto out;
		}
	}
	if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		pthread_mutex_lock(&inet_lock);
		v = s->inet->v6only;
		pthread_mutex_unlock(&inet_lock);
		goto out;
	}
	int err = sock_int_opt(s, level, name, &v, false);
	if (err)
		return err;
	if (level == IPPROTO_TCP && name == TCP_DEFER_ACCEPT)
		v = retrans_to_secs(v);
out:
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

/* ---- UDP ------------------------------------------------------------------------------------ */

static int udp_connect(struct socket *s, const struct sock_addr *a, bool nonblock)
{
	if (a->len < (int)sizeof(sa_family_t))
		return -EINVAL;
	if (a->sa.sa_family == AF_UNSPEC) { /* dissolve the association */
		pthread_mutex_lock(&inet_lock);
		s->inet->has_remote = false;
		/* What bind did not name goes too (Linux's udp_disconnect). */
		if (!s->inet->addr_lock)
			s->inet->laddr = s->family == AF_INET ? mapped(0) : in6addr_any;
		if (!s->inet->port_lock) {
			unlist_locked(s);
			s->inet->lport = 0;
		}
		pthread_mutex_unlock(&inet_lock);
		pthread_mutex_lock(&s->lock);
		s->state = SK_CLOSE;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	struct in6_addr dst, src;
	uint16_t port;
	int err;
	pthread_mutex_lock(&inet_lock);
	struct in6_addr bound = s->inet->laddr;
	bool v6only = s->inet->v6only;
	pthread_mutex_unlock(&inet_lock);
	if (s->family == AF_INET6 && a->sa.sa_family == AF_INET) {
		/* __ip6_datagram_connect hands it to __ip4_datagram_connect. */
		if (v6only)
			return -EAFNOSUPPORT;
		if (a->len < (int)sizeof(struct sockaddr_in))
			return -EINVAL;
		dst = mapped(a->in.sin_addr.s_addr);
		port = ntohs(a->in.sin_port);
	} else if ((err = parse(s, a, &dst, &port, false))) {
		return err;
	}
	if ((err = route_from(s, &bound, &dst, &src)))
		return err;
	pthread_mutex_lock(&inet_lock);
	if (!s->inet->listed)
		err = get_port_locked(s, &src, 0);
	else if (any4(&s->inet->laddr) || any6(&s->inet->laddr))
		s->inet->laddr = src;
	if (!err) {
		s->inet->raddr = dst;
		s->inet->rport = port;
		s->inet->has_remote = true;
	}
	pthread_mutex_unlock(&inet_lock);
	if (err)
		return -EAGAIN; /* Linux: no free port for an implicit bind */
	pthread_mutex_lock(&s->lock);
	s->state = SK_ESTABLISHED;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* A table option's value (s->lock not held). */
static int opt_get(struct socket *s, int level, int name)
{
	int v = 0;
	sock_int_opt(s, level, name, &v, false);
	return v;
}

/* What a receiver's control messages report of a datagram, riding in
 * skb->addr after the sender's sockaddr_in6 (dgram_recvmsg hands the
 * whole back in recv_info.from). */
struct udp_rxinfo {
	struct timespec stamp;     /* CLOCK_REALTIME when queued */
	struct in6_addr dst;       /* the destination address */
	int ttl, tos;              /* TTL/TOS, or hop limit/traffic class */
};
#define UDP_RXINFO_OFF 32
#define UDP_ADDRLEN (UDP_RXINFO_OFF + (int)sizeof(struct udp_rxinfo))
_Static_assert(UDP_ADDRLEN <= SKB_ADDR_MAX, "skb.addr too small");

/* The destination of a UDP sendmsg. AF_INET6 sockets as udpv6_sendmsg:
 * a sockaddr_in goes to udp_sendmsg (sent as IPv4 unless IPV6_V6ONLY),
 * AF_UNSPEC is no address. *to becomes NULL without one. */
static int udp_dest(struct socket *s, const struct sock_addr **to, struct in6_addr *dst,
		    uint16_t *port)
{
	const struct sock_addr *a = *to;
	if (s->family == AF_INET6) {
		if (a->len < (int)offsetof(struct sockaddr, sa_data))
			return -EINVAL;
		switch (a->sa.sa_family) {
		case AF_INET6:
			break;
		case AF_INET:
			pthread_mutex_lock(&inet_lock);
			bool v6only = s->inet->v6only;
			pthread_mutex_unlock(&inet_lock);
			if (v6only)
				return -ENETUNREACH;
			if (a->len < (int)sizeof(struct sockaddr_in))
				return -EINVAL;
			*dst = mapped(a->in.sin_addr.s_addr);
			*port = ntohs(a->in.sin_port);
			return *port ? 0 : -EINVAL;
		case AF_UNSPEC:
			*to = NULL;
			return 0;
		default:
			return -EINVAL;
		}
	}
	int err = parse(s, a, dst, port, false);
	if (err)
		return err;
	return *port ? 0 : -EINVAL;
}

/* The control messages of a send in order (ip_cmsg_send's IP_TTL and
 * IP_TOS; ip6_datagram_send_ctl's IPV6_HOPLIMIT and IPV6_TCLASS, where
 * -1 means the socket's; SOL_SOCKET ones as __sock_cmsg_send): 0 or
 * -EINVAL (-EPERM for a privileged SOL_SOCKET one). */
static int udp_send_cmsgs(struct socket *s, const struct send_info *si, bool v4, int *ttl,
			  int *tos)
{
	struct { uint64_t len; int level, type; } h;
	for (size_t off = 0; si->ctl && off + sizeof(h) <= si->ctllen;) {
		memcpy(&h, si->ctl + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > si->ctllen - off)
			return -EINVAL;
		const char *data = si->ctl + off + sizeof(h);
		size_t dlen = h.len - sizeof(h);
		int v = 0;
		if (dlen == sizeof(int))
			memcpy(&v, data, sizeof(v));
		else if (dlen == 1)
			v = *(const unsigned char *)data;
		if (h.level == SOL_SOCKET) {
			int err = sock_cmsg_check(s, h.type, data, dlen);
			if (err)
				return err;
		} else if (v4 && h.level == IPPROTO_IP && h.type == IP_TTL) {
			if (dlen != sizeof(int) || v < 1 || v > 255)
				return -EINVAL;
			*ttl = v;
		} else if (v4 && h.level == IPPROTO_IP && h.type == IP_TOS) {
			if ((dlen != sizeof(int) && dlen != 1) || v < 0 || v > 255)
				return -EINVAL;
			*tos = v;
		} else if (!v4 && h.level == IPPROTO_IPV6 &&
			   (h.type == IPV6_HOPLIMIT || h.type == IPV6_TCLASS)) {
			if (dlen != sizeof(int) || v < -1 || v > 255)
				return -EINVAL;
			if (v >= 0)
				*(h.type == IPV6_HOPLIMIT ? ttl : tos) = v;
		}
		off += (h.len + 7) & ~(size_t)7;
	}
	return 0;
}

static ssize_t udp_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si,
			   int flags, bool nonblock)
{
	size_t len = it->left;
	struct in6_addr dst, src;
	uint16_t port;
	/* Linux's inet_sendmsg binds a port before the protocol looks at
	 * anything, so even a send that fails leaves the socket bound. */
	pthread_mutex_lock(&inet_lock);
	int err = autobind_locked(s);
	pthread_mutex_unlock(&inet_lock);
	if (err)
		return -EAGAIN;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	const struct sock_addr *to = si->to;
	if (to && (err = udp_dest(s, &to, &dst, &port)))
		return err;
	bool v4 = s->family == AF_INET || (to && is_mapped(&dst));
	if (len > (v4 ? UDP_MAX_V4 : UDP_MAX_V6))
		return -EMSGSIZE;
	if (!to) {
		pthread_mutex_lock(&inet_lock);
		bool conn = s->inet->has_remote;
		dst = s->inet->raddr;
		port = s->inet->rport;
		pthread_mutex_unlock(&inet_lock);
		if (!conn)
			return -EDESTADDRREQ;
		v4 = is_mapped(&dst);
	}
	/* The socket's TTL and TOS, or hop limit and traffic class. */
	int ttl = opt_get(s, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_TTL : IPV6_UNICAST_HOPS);
	int tos = opt_get(s, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_TOS : IPV6_TCLASS);
	if ((err = udp_send_cmsgs(s, si, v4, &ttl, &tos)))
		return err;
	pthread_mutex_lock(&inet_lock);
	struct in6_addr bound = s->inet->laddr;
	pthread_mutex_unlock(&inet_lock);
	if ((err = route_from(s, &bound, &dst, &src)))
		return err;
	pthread_mutex_lock(&inet_lock);
	err = autobind_locked(s); /* again: a disconnect may have unbound it */
	struct inet_bind me = *s->inet;
	pthread_mutex_unlock(&inet_lock);
	if (err)
		return -EAGAIN;
	if (!any4(&me.laddr) && !any6(&me.laddr))
		src = me.laddr;
	/* sock_alloc_send_pskb: a pending error (an earlier send's port
	 * unreachable) first, then the socket's own SHUT_WR (no SIGPIPE). */
	pthread_mutex_lock(&s->lock);
	err = sock_take_err(s);
	bool shut = s->shutdown & SEND_SHUTDOWN;
	pthread_mutex_unlock(&s->lock);
	if (err || shut)
		return err ? err : -EPIPE;
	struct skb *skb = skb_alloc(len);
	if (!skb)
		return -ENOBUFS;
	if (iter_from(it, skb->data, len) < len) {
		skb_free(skb);
		return -EFAULT;
	}
	struct sockaddr_in6 from = { .sin6_family = AF_INET6, .sin6_port = htons(me.lport),
				     .sin6_addr = src };
	struct udp_rxinfo rx = { .dst = dst, .ttl = ttl, .tos = tos };
	ktime_get(CLOCK_REALTIME, &rx.stamp);
	memcpy(skb->addr, &from, sizeof(from));
	memcpy(skb->addr + UDP_RXINFO_OFF, &rx, sizeof(rx));
	skb->addrlen = UDP_ADDRLEN;
	struct socket *d = lookup(SOCK_DGRAM, &dst, port, &src, me.lport);
	if (!d) {
		skb_free(skb);
		/* The port unreachable answer reaches connected sockets only. */
		if (me.has_remote && addr_eq(&me.raddr, &dst) && me.rport == port) {
			pthread_mutex_lock(&s->lock);
			s->err = ECONNREFUSED;
			pthread_mutex_unlock(&s->lock);
			sock_wake(s);
		}
		return len;
	}
	err = dgram_deliver(s, d, skb, false, nonblock);
	sock_put(d);
	return err ? (err == -ECONNREFUSED ? (ssize_t)len : err) : (ssize_t)len;
}

/* A control message into ri->ctl (the guest's layout), as put_cmsg. */
static void ctl_put(struct recv_info *ri, int level, int type, const void *data, size_t len)
{
	struct { uint64_t len; int level, type; } h = { sizeof(h) + len, level, type };
	size_t space = (sizeof(h) + len + 7) & ~(size_t)7;
	if (ri->ctllen + space > sizeof(ri->ctl))
		return;
	memset(ri->ctl + ri->ctllen, 0, space);
	memcpy(ri->ctl + ri->ctllen, &h, sizeof(h));
	memcpy(ri->ctl + ri->ctllen + sizeof(h), data, len);
	ri->ctllen += space;
}

/* The receive side's control messages in Linux's order: sock_recv_cmsgs
 * (the timestamp), then for a v6 socket ip6_datagram_recv_common_ctl
 * (IPV6_PKTINFO), then ip_cmsg_recv_offset for an IPv4 datagram
 * (IP_PKTINFO, IP_TTL, IP_TOS) or ip6_datagram_recv_specific_ctl
 * (IPV6_HOPLIMIT, IPV6_TCLASS). The interface is lo (1). */
static void udp_recv_cmsgs(struct socket *s, struct recv_info *ri, const struct udp_rxinfo *rx)
{
	pthread_mutex_lock(&s->lock);
	unsigned ts = s->tstamp;
	pthread_mutex_unlock(&s->lock);
	if (ts & SOCK_TSTAMP_ON) {
		if (ts & SOCK_TSTAMP_NS) {
			struct { int64_t sec, nsec; } t = { rx->stamp.tv_sec, rx->stamp.tv_nsec };
			ctl_put(ri, SOL_SOCKET, ts & SOCK_TSTAMP_NEW ? SO_TIMESTAMPNS_NEW : SO_TIMESTAMPNS_OLD,
				&t, sizeof(t));
		} else {
			struct { int64_t sec, usec; } t = { rx->stamp.tv_sec, rx->stamp.tv_nsec / 1000 };
			ctl_put(ri, SOL_SOCKET, ts & SOCK_TSTAMP_NEW ? SO_TIMESTAMP_NEW : SO_TIMESTAMP_OLD,
				&t, sizeof(t));
		}
	}
	bool v4 = is_mapped(&rx->dst);
	int one = 1;
	if (s->family == AF_INET6 && opt_get(s, IPPROTO_IPV6, IPV6_RECVPKTINFO)) {
		struct in6_pktinfo pi = { rx->dst, one };
		ctl_put(ri, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	if (v4) {
		if (opt_get(s, IPPROTO_IP, IP_PKTINFO)) {
			struct in_pktinfo pi = { one, { v4_of(&rx->dst) }, { v4_of(&rx->dst) } };
			ctl_put(ri, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
		if (opt_get(s, IPPROTO_IP, IP_RECVTTL))
			ctl_put(ri, IPPROTO_IP, IP_TTL, &rx->ttl, sizeof(rx->ttl));
		if (opt_get(s, IPPROTO_IP, IP_RECVTOS)) {
			unsigned char tos = rx->tos;
			ctl_put(ri, IPPROTO_IP, IP_TOS, &tos, 1);
		}
	} else {
		if (opt_get(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT))
			ctl_put(ri, IPPROTO_IPV6, IPV6_HOPLIMIT, &rx->ttl, sizeof(rx->ttl));
		if (opt_get(s, IPPROTO_IPV6, IPV6_RECVTCLASS))
			ctl_put(ri, IPPROTO_IPV6, IPV6_TCLASS, &rx->tos, sizeof(rx->tos));
	}
}

static ssize_t udp_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri,
			   int flags, bool nonblock)
{
	ssize_t r = dgram_recvmsg(s, it, ri, flags, nonblock);
	if (r >= 0 && ri->from.len >= (int)sizeof(struct sockaddr_in6)) {
		if (ri->from.len == UDP_ADDRLEN) {
			struct udp_rxinfo rx;
			memcpy(&rx, (char *)&ri->from.ss + UDP_RXINFO_OFF, sizeof(rx));
			udp_recv_cmsgs(s, ri, &rx);
		}
		struct sockaddr_in6 from = ri->from.in6;
		fill(s, &ri->from, &from.sin6_addr, ntohs(from.sin6_port));
	}
	return r;
}

static unsigned udp_poll(struct socket *s) { return dgram_poll(s, true); }

static int udp_shutdown(struct socket *s, int how)
{
	pthread_mutex_lock(&s->lock);
	int err = s->state == SK_ESTABLISHED ? 0 : -ENOTCONN;
	s->shutdown |= how;
	pthread_mutex_unlock(&s->lock);
	sock_wake(s);
	return err;
}

static void udp_release(struct socket *s)
{
	inet_unlist(s);
	pthread_mutex_lock(&s->lock);
	s->dead = true;
	pthread_mutex_unlock(&s->lock);
	dgram_purge(s);
}

static long udp_outq(struct socket *s) { return 0; }

static const struct proto_ops tcp_ops = {
	.release = tcp_release,
	.bind = inet_bind,
	.connect = tcp_connect,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.getname = inet_getname,
	.poll = stream_poll,
	.shutdown = tcp_shutdown,
	.sendmsg = tcp_sendmsg,
	.recvmsg = stream_recvmsg,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
	.inq = stream_inq,
	.outq = tcp_outq,
};

static const struct proto_ops udp_ops = {
	.release = udp_release,
	.bind = inet_bind,
	.connect = udp_connect,
	.getname = inet_getname,
	.poll = udp_poll,
	.shutdown = udp_shutdown,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
	.inq = dgram_inq,
	.outq = udp_outq,
};

int inet_create(struct socket **out, int family, int type, int protocol)
{
	const struct proto_ops *ops;
	switch (type) {
	case SOCK_STREAM:
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		ops = &tcp_ops;
		protocol = IPPROTO_TCP;
		break;
	case SOCK_DGRAM:
		if (protocol == (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6))
			return -EACCES; /* ping sockets: net.ipv4.ping_group_range */
		if (protocol && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		ops = &udp_ops;
		protocol = IPPROTO_UDP;
		break;
	case SOCK_RAW:
		return current->proc->uid != 0 ? -EPERM : -EPROTONOSUPPORT;
	default:
		return -ESOCKTNOSUPPORT;
	}
	struct socket *s = sock_alloc(family, type, protocol, ops);
	struct inet_bind *b = s ? bind_new() : NULL;
	if (!b) {
		sock_put(s);
		return -ENOMEM;
	}
	s->inet = b;
	if (type == SOCK_STREAM) {
		s->sndbuf = TCP_SNDBUF_DEFAULT;
		s->rcvbuf = TCP_RCVBUF_DEFAULT;
	}
	*out = s;
	return 0;
}
