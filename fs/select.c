/* select and pselect6, on the poll machinery (fs/poll.h), with Linux's
 * rules: nfds is cut to the fd table's size, bits past nfds are ignored
 * and come back cleared, a set bit on a closed fd is EBADF (one closed
 * while select waits is reported ready instead), and the time left is
 * written back. */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define BITS_PER_LONG 64
/* As Linux since Jan Kara's 2022 fix ("select: Fix indefinitely sleeping
 * task in poll_schedule_timeout()", still in 6.18): an fd closed while
 * select waited (POLLNVAL at a re-scan) is reported in every set it was
 * asked in and counted once per set, so select does not sleep on for a
 * file it can no longer see. An fd closed before the call is EBADF. */
#define POLLIN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR | POLLNVAL)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR | POLLNVAL)
#define POLLEX_SET (POLLPRI | POLLNVAL)

struct fdsets {
	uint64_t *in, *out, *ex, *res_in, *res_out, *res_ex;
};

static size_t set_longs(int n)
{
	return ((size_t)n + BITS_PER_LONG - 1) / BITS_PER_LONG;
}

static int get_set(int n, gaddr_t u, uint64_t *k)
{
	size_t bytes = set_longs(n) * sizeof(uint64_t);
	if (!u) {
		memset(k, 0, bytes);
		return 0;
	}
	if (copy_from_guest(k, u, bytes))
		return -EFAULT;
	if (n % BITS_PER_LONG) /* bits past n are not looked at */
		k[n / BITS_PER_LONG] &= ~(~0ULL << (n % BITS_PER_LONG));
	return 0;
}

static int put_set(int n, gaddr_t u, const uint64_t *k)
{
	return u ? copy_to_guest(u, k, set_longs(n) * sizeof(uint64_t)) : 0;
}

/* Every fd named in a set must be open (Linux's max_select_fd). */
static int check_open(int n, const struct fdsets *s)
{
	for (size_t w = 0; w < set_longs(n); w++) {
		for (uint64_t b = s->in[w] | s->out[w] | s->ex[w]; b; b &= b - 1) {
			struct file *f = fget_raw(w * BITS_PER_LONG + __builtin_ctzll(b));
			if (!f)
				return -EBADF;
			fput(f);
		}
	}
	return 0;
}

static long do_select(int n, struct fdsets *s, struct poll_timeout *t)
{
	struct poll_table pt;
	poll_table_init(&pt, 0, NULL);
	bool timed_out = false;
	long count;
	for (;;) {
		uint32_t snap = sleep_prepare();
		struct poll_table *ptp = t->zero || timed_out ? NULL : &pt;
		count = 0;
		for (size_t w = 0; w < set_longs(n); w++)
		for (uint64_t b = s->in[w] | s->out[w] | s->ex[w]; b; b &= b - 1) {
			int fd = w * BITS_PER_LONG + __builtin_ctzll(b);
			uint64_t bit = b & -b;
			bool in = s->in[w] & bit, out = s->out[w] & bit, ex = s->ex[w] & bit;
			struct file *f = fget(fd);
			unsigned mask = POLLNVAL;
			if (f) {
				if (ptp) {
					ptp->key = (in ? POLLIN_SET : 0) | (out ? POLLOUT_SET : 0) |
						   (ex ? POLLEX_SET : 0);
					ptp->file = f;
				}
				mask = file_poll(f, ptp);
				if (ptp)
					ptp->file = NULL;
				fput(f);
			}
			if (in && (mask & POLLIN_SET)) {
				s->res_in[w] |= bit;
				count++;
			}
			if (out && (mask & POLLOUT_SET)) {
				s->res_out[w] |= bit;
				count++;
			}
			if (ex && (mask & POLLEX_SET)) {
				s->res_ex[w] |= bit;
				count++;
			}
			if (count)
				pt.queue = false;
		}
		pt.queue = false;
		if (count || t->zero || timed_out)
			break;
		if (pt.error) {
			count = pt.error;
			break;
		}
		int r = poll_sleep(snap, t);
		if (r == -ETIMEDOUT)
			timed_out = true;
		else if (r) {
			count = -ERESTARTNOHAND;
			break;
		}
	}
	poll_table_free(&pt);
	return count;
}

static long core_select(int n, gaddr_t inp, gaddr_t outp, gaddr_t exp, struct poll_timeout *t)
{
	if (n < 0)
		return -EINVAL;
	struct fdtable *ft = current->files;
	pthread_mutex_lock(&ft->lock);
	int max_fds = ft->size;
	pthread_mutex_unlock(&ft->lock);
	n = MIN(n, max_fds);
	size_t longs = MAX(set_longs(n), 1);
	uint64_t *bits = calloc(6 * longs, sizeof(uint64_t));
	if (!bits)
		return -ENOMEM;
	struct fdsets s = { bits, bits + longs, bits + 2 * longs, bits + 3 * longs,
			    bits + 4 * longs, bits + 5 * longs };
	long r;
	if ((r = get_set(n, inp, s.in)) || (r = get_set(n, outp, s.out)) ||
	    (r = get_set(n, exp, s.ex)) || (r = check_open(n, &s)))
		goto out;
	r = do_select(n, &s, t);
	if (r < 0)
		goto out;
	if (put_set(n, inp, s.res_in) || put_set(n, outp, s.res_out) || put_set(n, exp, s.res_ex))
		r = -EFAULT;
out:
	free(bits);
	return r;
}

struct ktimeval {
	int64_t tv_sec, tv_usec;
};
struct ktimespec {
	int64_t tv_sec, tv_nsec;
};

long sys_select(const struct sysargs *a)
{
	gaddr_t utv = a->a[4];
	struct poll_timeout t = { .forever = true };
	struct ktimeval tv;
	if (utv) {
		if (copy_from_guest(&tv, utv, sizeof(tv)))
			return -EFAULT;
		/* Microseconds past a second carry over, as in Linux. */
		if (poll_timeout_set(&t, tv.tv_sec + tv.tv_usec / 1000000,
				     (tv.tv_usec % 1000000) * 1000))
			return -EINVAL;
	}
	long r = core_select((int)a->a[0], a->a[1], a->a[2], a->a[3], &t);
	if (utv && !t.zero) { /* a failed copy is ignored, like Linux */
		struct timespec left = poll_timeout_left(&t);
		tv = (struct ktimeval){ left.tv_sec, left.tv_nsec / 1000 };
		copy_to_guest(utv, &tv, sizeof(tv));
	}
	return r;
}

long sys_pselect6(const struct sysargs *a)
{
	gaddr_t uts = a->a[4], upack = a->a[5];
	struct { uint64_t set, size; } pack = { 0, 0 };
	struct poll_timeout t = { .forever = true };
	struct ktimespec ts;
	uint64_t saved;
	bool masked;
	if (upack && copy_from_guest(&pack, upack, sizeof(pack)))
		return -EFAULT;
	if (uts) {
		if (copy_from_guest(&ts, uts, sizeof(ts)))
			return -EFAULT;
		if (poll_timeout_set(&t, ts.tv_sec, ts.tv_nsec))
			return -EINVAL;
	}
	long r = poll_sigmask_set(pack.set, pack.size, &saved, &masked);
	if (r)
		return r;
	r = core_select((int)a->a[0], a->a[1], a->a[2], a->a[3], &t);
	poll_sigmask_restore(saved, masked, r);
	if (uts && !t.zero) {
		struct timespec left = poll_timeout_left(&t);
		ts = (struct ktimespec){ left.tv_sec, left.tv_nsec };
		copy_to_guest(uts, &ts, sizeof(ts));
	}
	return r;
}
