/* The connection-oriented transport shared by AF_UNIX SOCK_STREAM,
 * SOCK_SEQPACKET and loopback TCP: two joined sockets, each sending skbs
 * into the other's receive queue, charged to the sender until read (its
 * flow control); listeners with an accept queue of sockets already
 * joined to their clients (connect completes without accept, like
 * Linux). Where the families differ (records, how shutdown and close
 * reach the peer) the rules say so. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "net/socket.h"

#define STREAM_CHUNK (64 * 1024)
/* AF_UNIX SOCK_STREAM skbs (unix_stream_sendmsg): at most half the send
 * buffer less 64 ("two messages in the pipe"), and at most a page's
 * head (SKB_MAX_HEAD(0): 4096 less the 320-byte skb_shared_info) plus
 * 32 KiB of fragments. The skb size decides when a non-blocking send
 * stops short and when the sender is writable again. */
#define UNIX_STREAM_SKB_MAX (4096 - 320 + 32768)
#define TCP_AUTOTUNED_SNDBUF (4 << 20) /* tcp_wmem's max: the in-flight limit until SO_SNDBUF */

const struct stream_rules *stream_rules_of(const struct socket *s)
{
	static const struct stream_rules unix_stream = { false, true, false },
		unix_seqpacket = { true, true, false }, tcp = { false, false, true };
	if (s->family == AF_UNIX)
		return s->type == SOCK_SEQPACKET ? &unix_seqpacket : &unix_stream;
	return &tcp;
}

void stream_join(struct socket *a, struct socket *b)
{
	a->peer = sock_get(b);
	b->peer = sock_get(a);
	a->state = b->state = SK_ESTABLISHED;
	a->ever_connected = b->ever_connected = true;
}

static size_t send_limit(const struct socket *s)
{
	if (stream_rules_of(s)->tcp && !s->sndbuf_set)
		return TCP_AUTOTUNED_SNDBUF;
	return s->sndbuf;
}

/* ---- sending ------------------------------------------------------------------ */

/* The most one skb of a byte stream carries. */
static size_t chunk_max(const struct socket *s, const struct stream_rules *r)
{
	if (r->tcp)
		return STREAM_CHUNK;
	int half = (s->sndbuf >> 1) - 64;
	return MIN((size_t)MAX(half, 1), (size_t)UNIX_STREAM_SKB_MAX);
}

static bool can_send(void *arg)
{
	struct socket *s = arg;
	return atomic_load(&s->wmem) < send_limit(s) || s->err || (s->shutdown & SEND_SHUTDOWN) ||
	       s->state != SK_ESTABLISHED;
}

/* Why s cannot send now, or 0 (lock held). */
static int send_error(struct socket *s, const struct stream_rules *r, const struct send_info *si)
{
	if (r->tcp) {
		if (s->err)
			return sock_take_err(s);
		if (s->state != SK_ESTABLISHED || (s->shutdown & SEND_SHUTDOWN))
			return -EPIPE;
		return 0;
	}
	if (!r->records && si->to && si->to->len)
		return s->state == SK_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
	/* unix_seqpacket_sendmsg: a pending error (the peer closed with
	 * data unread: ECONNRESET) comes first, once. */
	if (r->records && s->err)
		return sock_take_err(s);
	if (s->state != SK_ESTABLISHED)
		return -ENOTCONN;
	if (s->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	return 0;
}

ssize_t stream_sendmsg(struct socket *s, struct msg_iter *it, struct send_info *si, int flags,
		       bool nonblock)
{
	const struct stream_rules *r = stream_rules_of(s);
	size_t total = it->left, sent = 0;
	struct sock_timeo t;
	ssize_t err = 0;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	sock_timeo_init(&t, s, nonblock, false);
	pthread_mutex_lock(&s->lock);
	err = send_error(s, r, si);
	if (!err && r->records && total > (size_t)s->sndbuf - 32)
		err = -EMSGSIZE;
	if (!err && si->bad_cmsg)
		err = -EINVAL;
	struct socket *peer = !err && s->peer ? sock_get(s->peer) : NULL;
	pthread_mutex_unlock(&s->lock);
	if (err) {
		if (err == -EPIPE && !r->records) /* SEQPACKET: unix_dgram_sendmsg's, no SIGPIPE */
			sock_sigpipe(flags);
		return err;
	}
	struct scm *scm = si->scm; /* rides on the first skb */
	si->scm = NULL;
	bool first = true;
	while (sent < total || (r->records && first)) {
		size_t chunk = r->records ? total : MIN(total - sent, chunk_max(s, r));
		pthread_mutex_lock(&s->lock);
		err = sock_wait(&s->lock, &s->wq, can_send, s, &t);
		if (!err)
			err = send_error(s, r, si);
		pthread_mutex_unlock(&s->lock);
		if (err)
			break;
		struct skb *skb = skb_alloc(chunk);
		if (!skb) {
			err = -ENOBUFS;
			break;
		}
		if (iter_from(it, skb->data, chunk) < chunk) {
			skb_free(skb);
			err = -EFAULT;
			break;
		}
		if (!r->tcp) { /* AF_UNIX: every skb carries the sender's credentials */
			skb->scm = scm ? scm : scm_new(scm ? scm->cred : cred_current(true));
			scm = NULL;
			if (!skb->scm) {
				skb_free(skb);
				err = -ENOBUFS;
				break;
			}
		}
		skb_charge(skb, s);
		pthread_mutex_lock(&peer->lock);
		bool gone = peer->dead || peer->peer != s;
		if (!r->tcp && (gone || (peer->shutdown & RCV_SHUTDOWN))) {
			pthread_mutex_unlock(&peer->lock);
			skb_free(skb);
			err = -EPIPE;
			break;
		}
		if (gone) {
			/* TCP to a closed peer: the data is lost and the reset
			 * that answers it ends the connection; the next send
			 * fails with EPIPE. */
			pthread_mutex_unlock(&peer->lock);
			skb_free(skb);
			pthread_mutex_lock(&s->lock);
			if (s->state == SK_ESTABLISHED) {
				s->err = (s->shutdown & RCV_SHUTDOWN) ? EPIPE : ECONNRESET;
				s->shutdown = SHUTDOWN_MASK;
				s->state = SK_CLOSE;
			}
			pthread_mutex_unlock(&s->lock);
			sock_wake(s);
			sent = total;
			break;
		}
		skbq_append(&peer->rq, skb);
		pthread_mutex_unlock(&peer->lock);
		sock_wake(peer);
		sent += chunk;
		first = false;
	}
	scm_free(scm);
	if (peer)
		sock_put(peer);
	if (err == -EPIPE && !sent && !r->records)
		sock_sigpipe(flags);
	return sent ? (ssize_t)sent : err;
}

/* ---- receiving ------------------------------------------------------------------ */

struct recv_wait {
	struct socket *s;
	size_t pos; /* bytes already looked at (MSG_PEEK) */
	bool records;
};

static bool can_recv(void *arg)
{
	struct recv_wait *w = arg;
	struct socket *s = w->s;
	bool more = w->records ? s->rq.count > w->pos : s->rq.bytes > w->pos;
	return more || s->err || (s->shutdown & RCV_SHUTDOWN) || s->state != SK_ESTABLISHED;
}

/* The skb holding byte pos of the unread data, and the offset in it. */
static struct skb *locate(struct socket *s, size_t pos, bool records, size_t *in)
{
	for (struct skb *skb = s->rq.head; skb; skb = skb->next) {
		size_t avail = skb->len - skb->off;
		if (records) {
			if (pos-- == 0) {
				*in = 0;
				return skb;
			}
			continue;
		}
		if (pos < avail) {
			*in = pos;
			return skb;
		}
		pos -= avail;
	}
	return NULL;
}

static bool same_cred(const struct sock_cred *a, const struct sock_cred *b)
{
	return a->pid == b->pid && a->uid == b->uid && a->gid == b->gid;
}

ssize_t stream_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri, int flags,
		       bool nonblock)
{
	const struct stream_rules *r = stream_rules_of(s);
	size_t len = it->left, copied = 0;
	ssize_t err = 0, ret = -1;
	struct skb *done = NULL, **done_tail = &done;
	bool peek = flags & MSG_PEEK;
	/* tcp_recvmsg hands MSG_ERRQUEUE to inet_recv_error before anything
	 * else (state, MSG_OOB): nothing is ever on the error queue, EAGAIN
	 * whatever the state. AF_UNIX never looks at the flag. */
	if (r->tcp && (flags & MSG_ERRQUEUE))
		return -EAGAIN;
	if (flags & MSG_OOB)
		return r->tcp ? -EINVAL : -EOPNOTSUPP;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, true);
	pthread_mutex_lock(&s->lock);
	if (r->tcp ? s->state == SK_LISTEN : s->state != SK_ESTABLISHED) {
		err = r->tcp || r->records ? -ENOTCONN : -EINVAL;
		goto out;
	}
	int lowat = sock_opt_locked(s, SOL_SOCKET, SO_RCVLOWAT);
	/* sock_rcvlowat's "v ?: 1": at least one byte, so a recv with an
	 * empty buffer waits for data (or is EAGAIN) and then returns 0,
	 * leaving the data queued. */
	size_t target = MAX((flags & MSG_WAITALL) ? len : MIN((size_t)lowat, len), (size_t)1);
	size_t skip = peek && s->peek_off >= 0 && !r->records ? (size_t)s->peek_off : 0;
	for (;;) {
		size_t in = 0, pos = peek && !r->records ? skip + copied : 0;
		struct skb *skb = locate(s, pos, r->records, &in);
		if (!skb) {
			if (copied >= target || (copied && r->records))
				break;
			if (r->tcp) {
				if (s->fin)
					break;
				if (s->err) {
					err = sock_take_err(s);
					break;
				}
				if (s->shutdown & RCV_SHUTDOWN)
					break;
				if (s->state != SK_ESTABLISHED) {
					if (!s->ever_connected)
						err = -ENOTCONN;
					break;
				}
			} else {
				if (s->err) {
					err = sock_take_err(s);
					break;
				}
				if (s->shutdown & RCV_SHUTDOWN)
					break;
			}
			struct recv_wait w = { s, pos, r->records };
			err = sock_wait(&s->lock, &s->wq, can_recv, &w, &t);
			if (err)
				break;
			continue;
		}
		if (!r->tcp && skb->scm && s->passcred) { /* never glue different writers */
			if (ri->has_cred && !same_cred(&ri->cred, &skb->scm->cred))
				break;
			ri->cred = skb->scm->cred;
			ri->has_cred = true;
		}
		size_t avail = skb->len - skb->off - in;
		size_t n = MIN(avail, len - copied);
		size_t moved;
		if (r->tcp && (flags & MSG_TRUNC)) {
			iter_skip(it, n);
			moved = n;
		} else {
			moved = iter_to(it, skb->data + skb->off + in, n);
		}
		if (moved < n && !moved && !copied) {
			err = -EFAULT;
			break;
		}
		copied += moved;
		if (r->records) {
			if (skb->len > len)
				ri->msg_flags |= MSG_TRUNC;
			ret = (flags & MSG_TRUNC) ? (ssize_t)skb->len : (ssize_t)moved;
		}
		if (skb->scm && skb->scm->nfiles && !ri->scm) {
			if (peek) {
				ri->scm = scm_dup(skb->scm);
			} else {
				ri->scm = skb->scm;
				skb->scm = NULL;
			}
		}
		bool had_files = ri->scm != NULL;
		if (!peek) {
			size_t used = r->records ? avail : moved;
			skb->off += used;
			s->rq.bytes -= used;
			if (skb->off == skb->len) {
				skbq_pop(&s->rq);
				*done_tail = skb;
				done_tail = &skb->next;
			}
		}
		if (moved < n || had_files || r->records || copied >= len)
			break;
	}
	if (s->peek_off >= 0) {
		if (peek)
			s->peek_off += copied;
		else
			s->peek_off -= MIN((size_t)s->peek_off, copied);
	}
out:
	pthread_mutex_unlock(&s->lock);
	skb_free_list(done);
	if (r->records && ret >= 0)
		return ret;
	return copied ? (ssize_t)copied : err;
}

/* ---- closing ------------------------------------------------------------------------ */

/* How a socket's end reaches its peer: closed (gone) or shut down (how). */
static void tell_peer(struct socket *s, struct socket *peer, const struct stream_rules *r,
		      bool gone, int how, bool reset)
{
	pthread_mutex_lock(&peer->lock);
	if (peer->peer == s && !peer->dead) {
		if (!r->tcp) {
			if (gone) {
				peer->shutdown = SHUTDOWN_MASK;
				if (reset)
					peer->err = ECONNRESET;
			} else {
				if (how & RCV_SHUTDOWN)
					peer->shutdown |= SEND_SHUTDOWN;
				if (how & SEND_SHUTDOWN)
					peer->shutdown |= RCV_SHUTDOWN;
			}
		} else if (reset && peer->state == SK_ESTABLISHED) {
			peer->err = (peer->shutdown & RCV_SHUTDOWN) ? EPIPE : ECONNRESET;
			peer->shutdown = SHUTDOWN_MASK;
			peer->state = SK_CLOSE;
		} else if (gone || (how & SEND_SHUTDOWN)) {
			peer->shutdown |= RCV_SHUTDOWN; /* a FIN */
			peer->fin = true;
		}
	}
	pthread_mutex_unlock(&peer->lock);
	sock_wake(peer);
}

static struct socket *take_accept_queue(struct socket *s)
{
	struct socket *list = s->acc_head;
	s->acc_head = NULL;
	s->acc_tail = &s->acc_head;
	s->acc_len = 0;
	return list;
}

/* Connections never accepted (embryos): their clients see a reset. */
static void release_children(struct socket *list)
{
	while (list) {
		struct socket *c = list;
		list = c->acc_next;
		c->acc_next = NULL;
		c->ops->release(c);
		sock_put(c);
	}
}

void stream_release(struct socket *s)
{
	const struct stream_rules *r = stream_rules_of(s);
	pthread_mutex_lock(&s->lock);
	s->dead = true;
	struct skb *unread = skbq_take_all(&s->rq);
	struct socket *children = take_accept_queue(s);
	struct socket *peer = s->peer;
	s->peer = NULL;
	s->shutdown = SHUTDOWN_MASK;
	s->state = SK_CLOSE;
	bool reset = unread || s->embryo || (s->linger.l_onoff && !s->linger.l_linger);
	pthread_mutex_unlock(&s->lock);
	if (peer) {
		tell_peer(s, peer, r, true, 0, reset);
		sock_put(peer);
	}
	skb_free_list(unread);
	release_children(children);
	sock_wake(s);
}

int stream_shutdown(struct socket *s, int how)
{
	const struct stream_rules *r = stream_rules_of(s);
	struct socket *children = NULL, *peer = NULL;
	int err = 0;
	pthread_mutex_lock(&s->lock);
	if (r->tcp && s->state == SK_LISTEN) {
		if (how & RCV_SHUTDOWN) { /* stops listening */
			s->state = SK_CLOSE;
			children = take_accept_queue(s);
		}
	} else {
		if (r->tcp && tcp_closed_locked(s))
			err = -ENOTCONN;
		/* TCP tells the peer only with its one FIN (tcp_shutdown: a
		 * SHUT_RD or a second SHUT_WR sends nothing, so the peer's
		 * edge-triggered pollers see no new edge); AF_UNIX's
		 * unix_shutdown wakes the peer every time. */
		bool tell = !r->tcp || (how & SEND_SHUTDOWN & ~s->shutdown);
		s->shutdown |= how;
		if (tell && s->state == SK_ESTABLISHED && s->peer)
			peer = sock_get(s->peer);
	}
	pthread_mutex_unlock(&s->lock);
	if (peer) {
		tell_peer(s, peer, r, false, how, false);
		sock_put(peer);
	}
	release_children(children);
	sock_wake(s);
	return err;
}

/* ---- readiness ------------------------------------------------------------------------- */

bool tcp_closed_locked(const struct socket *s)
{
	/* Both FINs exchanged: Linux's ends are in TCP_CLOSE then (LAST_ACK
	 * and TIME_WAIT end there at once on loopback for a socket with a file). */
	return s->state != SK_ESTABLISHED || ((s->shutdown & SEND_SHUTDOWN) && s->fin);
}

unsigned stream_poll(struct socket *s)
{
	const struct stream_rules *r = stream_rules_of(s);
	unsigned mask = 0;
	pthread_mutex_lock(&s->lock);
	bool writable = atomic_load(&s->wmem) < send_limit(s);
	if (r->tcp) {
		if (s->state == SK_LISTEN) {
			mask = s->acc_head ? POLLIN | POLLRDNORM : 0;
		} else {
			if (s->shutdown == SHUTDOWN_MASK || s->state == SK_CLOSE)
				mask |= POLLHUP;
			if (s->shutdown & RCV_SHUTDOWN)
				mask |= POLLIN | POLLRDNORM | POLLRDHUP;
			/* Readable from SO_RCVLOWAT bytes on, as tcp_poll's target. */
			int lowat = sock_opt_locked(s, SOL_SOCKET, SO_RCVLOWAT);
			if (s->rq.bytes && s->rq.bytes >= (size_t)(lowat > 1 ? lowat : 1))
				mask |= POLLIN | POLLRDNORM;
			if (!(s->shutdown & SEND_SHUTDOWN)) {
				if (writable)
					mask |= POLLOUT | POLLWRNORM;
			} else {
				mask |= POLLOUT | POLLWRNORM;
			}
			if (s->err)
				mask |= POLLERR;
		}
	} else {
		if (s->err)
			mask |= POLLERR;
		if (s->shutdown == SHUTDOWN_MASK)
			mask |= POLLHUP;
		if (s->shutdown & RCV_SHUTDOWN)
			mask |= POLLRDHUP | POLLIN | POLLRDNORM;
		if (s->rq.count || s->acc_head)
			mask |= POLLIN | POLLRDNORM;
		if (s->state == SK_CLOSE)
			mask |= POLLHUP;
		if (unix_writable(s))
			mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	}
	pthread_mutex_unlock(&s->lock);
	return mask;
}

long stream_inq(struct socket *s)
{
	const struct stream_rules *r = stream_rules_of(s);
	long n;
	pthread_mutex_lock(&s->lock);
	if (s->state == SK_LISTEN && r->tcp)
		n = -EINVAL;
	else
		n = s->rq.bytes;
	pthread_mutex_unlock(&s->lock);
	return n;
}

long stream_outq(struct socket *s)
{
	const struct stream_rules *r = stream_rules_of(s);
	if (s->state == SK_LISTEN)
		return -EINVAL;
	/* Loopback TCP data is acknowledged once queued at the peer. */
	return r->tcp ? 0 : (long)atomic_load(&s->wmem);
}

/* ---- listening --------------------------------------------------------------------------- */

int stream_listen(struct socket *s, int backlog)
{
	int err = 0;
	pthread_mutex_lock(&s->lock);
	if (s->state != SK_CLOSE && s->state != SK_LISTEN) {
		err = -EINVAL;
	} else {
		s->backlog = backlog;
		if (s->state == SK_CLOSE) {
			s->state = SK_LISTEN;
			s->owncred = cred_current(false);
			s->shutdown = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	sock_wake(s); /* a bigger backlog lets waiting connects in */
	return err;
}

static bool has_room(void *arg)
{
	struct socket *l = arg;
	return l->acc_len <= l->backlog || l->state != SK_LISTEN || l->dead;
}

int stream_enqueue_child(struct socket *l, struct socket *child, struct sock_timeo *t,
			 bool overfill)
{
	int err = 0;
	pthread_mutex_lock(&l->lock);
	if (!overfill)
		err = sock_wait(&l->lock, &l->wq, has_room, l, t);
	if (!err && (l->state != SK_LISTEN || l->dead))
		err = -ECONNREFUSED;
	if (!err) {
		child->acc_next = NULL;
		child->embryo = true;
		*l->acc_tail = child;
		l->acc_tail = &child->acc_next;
		l->acc_len++;
	}
	pthread_mutex_unlock(&l->lock);
	if (!err)
		sock_wake(l);
	return err;
}

/* What ends an accept's wait: a connection, or the end of listening.
 * An AF_UNIX listener stays one after shutdown(SHUT_RD), but unix_accept
 * waits in skb_recv_datagram, which gives up at RCV_SHUTDOWN (a TCP
 * listener stops listening instead: stream_shutdown). */
static bool has_child(void *arg)
{
	struct socket *l = arg;
	return l->acc_head || l->state != SK_LISTEN ||
	       (!stream_rules_of(l)->tcp && (l->shutdown & RCV_SHUTDOWN));
}

int stream_accept(struct socket *s, struct socket **out, bool nonblock)
{
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, true);
	pthread_mutex_lock(&s->lock);
	/* Not listening: EINVAL; nothing queued: EAGAIN for a call that may
	 * not wait (also after an AF_UNIX SHUT_RD, as skb_recv_datagram);
	 * a wait that ends with nothing queued: EINVAL (unix_accept's
	 * "receive shutdown", inet_csk_wait_for_connect's state check). */
	int err;
	if (s->state != SK_LISTEN)
		err = -EINVAL;
	else if (!s->acc_head && t.nonblock)
		err = -EAGAIN;
	else
		err = sock_wait(&s->lock, &s->wq, has_child, s, &t);
	if (!err && !s->acc_head)
		err = -EINVAL;
	if (!err) {
		struct socket *c = s->acc_head;
		s->acc_head = c->acc_next;
		if (!s->acc_head)
			s->acc_tail = &s->acc_head;
		s->acc_len--;
		c->acc_next = NULL;
		c->embryo = false;
		*out = c;
	}
	pthread_mutex_unlock(&s->lock);
	/* Room for a waiting connect: Linux wakes only those (AF_UNIX's
	 * peer_wait; TCP nobody), so no edge-triggered epoll item of the
	 * listener hears of it (it would see a new EPOLLIN edge while
	 * connections are still queued). */
	if (!err)
		sock_wake_events(s, 0);
	return err;
}
