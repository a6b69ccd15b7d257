/* The datagram transport shared by AF_UNIX SOCK_DGRAM and UDP: each skb
 * is one message with its sender's address, queued on the receiver.
 * AF_UNIX keeps Linux's flow control (a sender waits while the receiver
 * holds more than max_dgram_qlen messages, unless the receiver is
 * connected to it); UDP drops what does not fit the receive buffer. */
#include <poll.h>
#include <string.h>
#include "fs/poll.h"
#include "net/socket.h"

#define UNIX_MAX_DGRAM_QLEN 10 /* net.unix.max_dgram_qlen */
#define SKB_TRUESIZE_EXTRA 768 /* what a queued datagram costs beyond its bytes */

struct room {
	struct socket *s, *dst;
};

static bool dst_has_room(void *arg)
{
	struct room *r = arg;
	struct socket *d = r->dst;
	return d->dead || (d->shutdown & RCV_SHUTDOWN) || d->peer == r->s ||
	       d->rq.count <= UNIX_MAX_DGRAM_QLEN;
}

int dgram_deliver(struct socket *s, struct socket *dst, struct skb *skb, bool unix_flow,
		  bool nonblock)
{
	int err = 0;
	bool dropped = false;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, false);
	pthread_mutex_lock(&dst->lock);
	if (unix_flow && dst != s) {
		struct room r = { s, dst };
		err = sock_wait(&dst->lock, &dst->wq, dst_has_room, &r, &t);
	}
	if (!err) {
		if (dst->dead)
			err = -ECONNREFUSED;
		else if (unix_flow && (dst->shutdown & RCV_SHUTDOWN))
			err = -EPIPE;
		else if (!unix_flow &&
			 dst->rq.bytes + (dst->rq.count + 1) * SKB_TRUESIZE_EXTRA + skb->len > (size_t)dst->rcvbuf)
			dropped = true;
		else
			skbq_append(&dst->rq, skb);
	}
	pthread_mutex_unlock(&dst->lock);
	if (err || dropped)
		skb_free(skb);
	else
		sock_wake(dst);
	return err;
}

static bool has_dgram(void *arg)
{
	struct socket *s = arg;
	return s->rq.head || s->err || (s->shutdown & RCV_SHUTDOWN);
}

ssize_t dgram_recvmsg(struct socket *s, struct msg_iter *it, struct recv_info *ri, int flags,
		      bool nonblock)
{
	size_t len = it->left;
	ssize_t ret = 0;
	struct skb *skb = NULL;
	bool peek = flags & MSG_PEEK;
	/* UDP: udp_recvmsg hands MSG_ERRQUEUE to ip_recv_error first,
	 * and nothing is ever on the error queue. unix_dgram_recvmsg
	 * never looks at the flag: an ordinary receive. */
	if ((flags & MSG_ERRQUEUE) && s->family != AF_UNIX)
		return -EAGAIN;
	/* unix_dgram_recvmsg refuses MSG_OOB; udp_recvmsg ignores it. */
	if ((flags & MSG_OOB) && s->family == AF_UNIX)
		return -EOPNOTSUPP;
	struct sock_timeo t;
	sock_timeo_init(&t, s, nonblock, true);
	pthread_mutex_lock(&s->lock);
	/* Linux's __skb_recv_datagram: a pending error comes first, even
	 * before queued data; a call that may not wait is EAGAIN on an
	 * empty queue whatever the shutdown state; only one that would
	 * wait ends at RCV_SHUTDOWN, with 0. */
	for (;;) {
		if (s->err) {
			ret = sock_take_err(s);
			goto out;
		}
		if (s->rq.head)
			break;
		if (t.nonblock) {
			ret = -EAGAIN;
			goto out;
		}
		if (s->shutdown & RCV_SHUTDOWN)
			goto out;
		if ((ret = sock_wait(&s->lock, &s->wq, has_dgram, s, &t)))
			goto out;
	}
	skb = s->rq.head;
	size_t n = MIN(len, skb->len);
	if (iter_to(it, skb->data, n) < n) {
		ret = -EFAULT;
	} else {
		ret = (flags & MSG_TRUNC) ? (ssize_t)skb->len : (ssize_t)n;
		if (n < skb->len)
			ri->msg_flags |= MSG_TRUNC;
	}
	ri->from.len = skb->addrlen;
	memcpy(&ri->from.ss, skb->addr, skb->addrlen);
	if (skb->scm) {
		ri->cred = skb->scm->cred;
		ri->has_cred = true;
		if (skb->scm->nfiles)
			ri->scm = peek ? scm_dup(skb->scm) : skb->scm;
		if (!peek)
			skb->scm = NULL;
	}
	if (peek)
		skb = NULL;
	else
		skbq_pop(&s->rq);
out:
	pthread_mutex_unlock(&s->lock);
	if (skb) {
		skb_free(skb);
		/* AF_UNIX: room for senders waiting on this queue (Linux wakes
		 * its peer_wait with output events only, so an edge-triggered
		 * reader of s sees no new EPOLLIN edge). UDP wakes nobody. */
		if (s->family == AF_UNIX)
			sock_wake_events(s, POLLOUT | POLLWRNORM | POLLWRBAND);
	}
	return ret;
}

unsigned dgram_poll(struct socket *s, bool writable)
{
	unsigned mask = 0;
	pthread_mutex_lock(&s->lock);
	if (s->err)
		mask |= POLLERR;
	if (s->shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (s->shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (s->rq.head)
		mask |= POLLIN | POLLRDNORM;
	if (writable && (s->family == AF_UNIX ? unix_writable(s)
					      : atomic_load(&s->wmem) < (size_t)s->sndbuf))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	pthread_mutex_unlock(&s->lock);
	return mask;
}

bool unix_dgram_peer_full(struct socket *s, struct poll_table *pt)
{
	pthread_mutex_lock(&s->lock);
	struct socket *peer = s->peer ? sock_get(s->peer) : NULL;
	pthread_mutex_unlock(&s->lock);
	if (!peer)
		return false;
	/* Queued on the peer first: its reader makes the room we wait for. */
	if (pt && pt->queue)
		poll_wait_obj(&peer->wq, pt, sock_unpin_put, sock_get(peer));
	pthread_mutex_lock(&peer->lock);
	bool full = !peer->dead && peer->peer != s && !(peer->shutdown & RCV_SHUTDOWN) &&
		    peer->rq.count > UNIX_MAX_DGRAM_QLEN;
	pthread_mutex_unlock(&peer->lock);
	sock_put(peer);
	return full;
}

long dgram_inq(struct socket *s)
{
	pthread_mutex_lock(&s->lock);
	long n = s->rq.head ? (long)s->rq.head->len : 0;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void dgram_purge(struct socket *s)
{
	pthread_mutex_lock(&s->lock);
	struct skb *list = skbq_take_all(&s->rq);
	pthread_mutex_unlock(&s->lock);
	skb_free_list(list);
}
