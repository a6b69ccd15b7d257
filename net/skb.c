/* The pieces both transports share: data chunks (skbs) and their queues,
 * the ancillary data riding on them, and the iterator that copies to and
 * from kernel buffers (read/write through fs/rw.c's bounce) or guest
 * memory (sendmsg/recvmsg). */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "mm/uaccess.h"
#include <poll.h>
#include "net/socket.h"

/* ---- iterator --------------------------------------------------------------- */

void iter_init(struct msg_iter *it, bool guest, const struct iovec *iov, int n)
{
	it->guest = guest;
	it->iov = iov;
	it->n = n;
	it->off = 0;
	it->left = 0;
	for (int i = 0; i < n; i++)
		it->left += iov[i].iov_len;
	/* Skip leading empty segments so iov[0] always has room. */
	while (it->n && it->iov->iov_len == 0) {
		it->iov++;
		it->n--;
	}
}

static void iter_advance(struct msg_iter *it, size_t n)
{
	it->off += n;
	it->left -= n;
	while (it->n && it->off == it->iov->iov_len) {
		it->iov++;
		it->n--;
		it->off = 0;
	}
}

/* One segment's worth: copy up to len; returns bytes moved. */
static size_t seg_copy(struct msg_iter *it, char *kbuf, size_t len, bool to_iter)
{
	size_t chunk = MIN(len, it->iov->iov_len - it->off);
	size_t done = chunk;
	if (it->guest) {
		gaddr_t g = (gaddr_t)(uintptr_t)it->iov->iov_base + it->off;
		int err = to_iter ? copy_to_guest(g, kbuf, chunk) : copy_from_guest(kbuf, g, chunk);
		if (err) {
			/* As much as is accessible, like Linux's short copies. */
			done = guest_accessible_len(g, chunk, to_iter);
			if (done && (to_iter ? copy_to_guest(g, kbuf, done) : copy_from_guest(kbuf, g, done)))
				done = 0;
		}
	} else {
		char *k = (char *)it->iov->iov_base + it->off;
		if (to_iter)
			memcpy(k, kbuf, chunk);
		else
			memcpy(kbuf, k, chunk);
	}
	iter_advance(it, done);
	return done;
}

static size_t iter_copy(struct msg_iter *it, char *buf, size_t len, bool to_iter)
{
	size_t done = 0;
	while (done < len && it->n) {
		size_t want = MIN(len - done, it->iov->iov_len - it->off);
		size_t got = seg_copy(it, buf + done, want, to_iter);
		done += got;
		if (got < want)
			break;
	}
	return done;
}

size_t iter_to(struct msg_iter *it, const void *src, size_t len)
{
	return iter_copy(it, (char *)src, len, true);
}

size_t iter_from(struct msg_iter *it, void *dst, size_t len)
{
	return iter_copy(it, dst, len, false);
}

void iter_skip(struct msg_iter *it, size_t len)
{
	while (len && it->n) {
		size_t chunk = MIN(len, it->iov->iov_len - it->off);
		iter_advance(it, chunk);
		len -= chunk;
	}
}

/* ---- ancillary data --------------------------------------------------------- */

static atomic_int inflight;

int unix_inflight(void) { return atomic_load(&inflight); }
void unix_inflight_add(int n) { atomic_fetch_add(&inflight, n); }

struct scm *scm_new(struct sock_cred cred)
{
	struct scm *s = calloc(1, sizeof(*s));
	if (s)
		s->cred = cred;
	return s;
}

/* The files of an scm are counted in flight from the moment it is made
 * (net/socket.c) until they are installed or dropped here. */
void scm_free(struct scm *s)
{
	if (!s)
		return;
	unix_inflight_add(-s->nfiles);
	for (int i = 0; i < s->nfiles; i++)
		fput(s->files[i]);
	free(s->files);
	free(s);
}

struct scm *scm_dup(const struct scm *s)
{
	struct scm *d = malloc(sizeof(*d));
	if (!d)
		return NULL;
	*d = *s;
	d->files = NULL;
	if (s->nfiles) {
		d->files = malloc(s->nfiles * sizeof(*d->files));
		if (!d->files) {
			free(d);
			return NULL;
		}
		for (int i = 0; i < s->nfiles; i++)
			d->files[i] = file_get(s->files[i]);
		unix_inflight_add(s->nfiles);
	}
	return d;
}

/* ---- skbs ---------------------------------------------------------------------- */

/* What a queued skb costs its sender beyond its bytes (Linux charges an
 * skb's truesize; this keeps tiny writes from queueing without bound). */
#define SKB_OVERHEAD 256

struct skb *skb_alloc(size_t len)
{
	struct skb *skb = malloc(sizeof(*skb) + len);
	if (!skb)
		return NULL;
	memset(skb, 0, sizeof(*skb));
	skb->len = len;
	return skb;
}

void skb_charge(struct skb *skb, struct socket *owner)
{
	skb->owner = sock_get(owner);
	skb->charge = skb->len + SKB_OVERHEAD;
	atomic_fetch_add(&owner->wmem, skb->charge);
}

void skb_free(struct skb *skb)
{
	if (skb->owner) {
		atomic_fetch_sub(&skb->owner->wmem, skb->charge);
		/* Room to send: Linux's sk_write_space wakes for output only,
		 * so an edge-triggered reader of the owner sees no edge. */
		sock_wake_events(skb->owner, POLLOUT | POLLWRNORM | POLLWRBAND);
		sock_put(skb->owner);
	}
	scm_free(skb->scm);
	free(skb);
}

void skb_free_list(struct skb *list)
{
	while (list) {
		struct skb *next = list->next;
		skb_free(list);
		list = next;
	}
}

void skbq_init(struct skb_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->bytes = 0;
	q->count = 0;
}

void skbq_append(struct skb_queue *q, struct skb *skb)
{
	skb->next = NULL;
	*q->tail = skb;
	q->tail = &skb->next;
	q->bytes += skb->len - skb->off;
	q->count++;
}

struct skb *skbq_pop(struct skb_queue *q)
{
	struct skb *skb = q->head;
	if (!skb)
		return NULL;
	q->head = skb->next;
	if (!q->head)
		q->tail = &q->head;
	q->bytes -= skb->len - skb->off;
	q->count--;
	skb->next = NULL;
	return skb;
}

struct skb *skbq_take_all(struct skb_queue *q)
{
	struct skb *list = q->head;
	skbq_init(q);
	return list;
}
