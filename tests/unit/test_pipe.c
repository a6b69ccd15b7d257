/* Kernel pipes driven through their file ops by kernel threads: blocking
 * transfers with checksums (and their speed next to a host pipe),
 * F_GETPIPE_SZ/F_SETPIPE_SZ, wake-ups on close, a blocked read ended by
 * the thread's exit, and host-fd readiness through the host poller. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "fs/file.h"
#include "fs/pipe.h"
#include "fs/poll.h"
#include "kernel/task.h"

#define CHUNK (64 * 1024)
#define TOTAL (128UL << 20)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* A cheap order-sensitive sum (8 bytes a step; tails byte by byte). */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

struct xfer {
	struct file *f;
	int fd;        /* host pipe instead, if >= 0 */
	size_t total;
	uint64_t sum;
	ssize_t last;
};

static ssize_t xread(struct xfer *x, void *b, size_t n)
{
	if (x->fd >= 0)
		return read(x->fd, b, n);
	return x->f->ops->read(x->f, &(struct iovec){ b, n }, 1, -1, 0);
}

static ssize_t xwrite(struct xfer *x, const void *b, size_t n)
{
	if (x->fd >= 0)
		return write(x->fd, b, n);
	return x->f->ops->write(x->f, &(struct iovec){ (void *)b, n }, 1, -1, 0);
}

static void *writer(void *arg)
{
	struct xfer *x = arg;
	unsigned char *b = malloc(CHUNK);
	for (size_t i = 0; i < CHUNK; i++)
		b[i] = (unsigned char)(i * 31 + 7);
	for (size_t done = 0; done < x->total;) {
		ssize_t r = xwrite(x, b, CHUNK);
		if (r <= 0) {
			x->last = r;
			break;
		}
		done += r;
	}
	free(b);
	return NULL;
}

static void *reader(void *arg)
{
	struct xfer *x = arg;
	unsigned char *b = malloc(CHUNK);
	x->sum = 0xcbf29ce484222325ULL;
	x->total = 0;
	for (;;) {
		ssize_t r = xread(x, b, CHUNK);
		x->last = r;
		if (r <= 0)
			break;
		x->sum = fnv(x->sum, b, r);
		x->total += r;
	}
	free(b);
	return NULL;
}

/* TOTAL bytes writer -> reader; seconds taken. */
static double run(struct xfer *w, struct xfer *r, void (*close_writer)(struct xfer *))
{
	pthread_t tw, tr;
	double t0 = now();
	pthread_create(&tr, NULL, reader, r);
	pthread_create(&tw, NULL, writer, w);
	pthread_join(tw, NULL);
	close_writer(w);
	pthread_join(tr, NULL);
	return now() - t0;
}

static void close_kernel(struct xfer *x) { fput(x->f); }
static void close_host(struct xfer *x) { close(x->fd); }

static uint64_t expected_sum(void)
{
	unsigned char b[CHUNK];
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < CHUNK; i++)
		b[i] = (unsigned char)(i * 31 + 7);
	for (size_t d = 0; d < TOTAL; d += CHUNK)
		h = fnv(h, b, CHUNK);
	return h;
}

static void test_transfer(void)
{
	struct file *f[2];
	CHECK_EQ(pipe_create(0, f), 0, "pipe_create");
	struct xfer w = { f[1], -1, TOTAL, 0, 0 }, r = { f[0], -1, 0, 0, 0 };
	double tk = run(&w, &r, close_kernel);
	CHECK(r.total == TOTAL && r.sum == expected_sum(), "%lu MiB through a kernel pipe intact",
	      TOTAL >> 20);
	CHECK_EQ(r.last, 0, "EOF once the writer is gone");
	fput(f[0]);

	int hp[2];
	if (pipe(hp) == 0) {
		struct xfer hw = { NULL, hp[1], TOTAL, 0, 0 }, hr = { NULL, hp[0], 0, 0, 0 };
		double th = run(&hw, &hr, close_host);
		close(hp[0]);
		printf("# kernel pipe %.0f MiB/s, host pipe %.0f MiB/s (%.2fx), threads, 64 KiB I/O\n",
		       TOTAL / 1048576.0 / tk, TOTAL / 1048576.0 / th, th / tk);
	}
}

static void test_size(void)
{
	struct file *f[2];
	char b[20000];
	memset(b, 'z', sizeof b);
	pipe_create(O_NONBLOCK, f);
	CHECK_EQ(pipe_fcntl(f[0], F_GETPIPE_SZ, 0), 65536, "default size");
	CHECK_EQ(pipe_fcntl(f[1], F_SETPIPE_SZ, 0), 4096, "size 0 rounds up to a page");
	CHECK_EQ(pipe_fcntl(f[1], F_SETPIPE_SZ, 5000), 8192, "5000 rounds up to 8192");
	CHECK_EQ(pipe_fcntl(f[0], F_GETPIPE_SZ, 0), 8192, "both ends see it");
	CHECK_EQ(pipe_fcntl(f[0], F_SETPIPE_SZ, (1UL << 31) + 1), -EINVAL, "over 2^31: EINVAL");
	CHECK_EQ(pipe_fcntl(f[0], F_SETPIPE_SZ, (1UL << 32) + 4096), 4096, "the argument is an unsigned int");
	CHECK_EQ(pipe_fcntl(f[0], 12345, 0), -EINVAL, "other commands");
	ssize_t w = f[1]->ops->write(f[1], &(struct iovec){ b, sizeof b }, 1, -1, 0);
	CHECK_EQ(w, 4096, "a one-page pipe takes a page");
	CHECK_EQ(pipe_fcntl(f[1], F_SETPIPE_SZ, 65536), 65536, "grow with data inside");
	w = f[1]->ops->write(f[1], &(struct iovec){ b, sizeof b }, 1, -1, 0);
	CHECK_EQ(w, 20000, "then more fits");
	CHECK_EQ(pipe_fcntl(f[1], F_SETPIPE_SZ, 8192), -EBUSY, "shrinking below the data: EBUSY");
	char back[30000];
	ssize_t r = f[0]->ops->read(f[0], &(struct iovec){ back, sizeof back }, 1, -1, 0);
	CHECK(r == 24096 && back[0] == 'z' && back[24095] == 'z', "data kept across resizes (%zd)", r);
	CHECK_EQ(pipe_fcntl(f[1], F_SETPIPE_SZ, 1 << 20), 1 << 20, "1 MiB (pipe-max-size)");
	fput(f[0]);
	fput(f[1]);
	int hp[2];
	pipe(hp);
	struct file *h = hostfile_new(hp[0], O_RDONLY, NULL);
	CHECK_EQ(pipe_fcntl(h, F_GETPIPE_SZ, 0), -EBADF, "not a kernel pipe: EBADF");
	fput(h);
	close(hp[1]);
}

struct blocked {
	struct file *f;
	struct thread *as;
	ssize_t r;
	double took;
};

static void *blocked_read(void *arg)
{
	struct blocked *b = arg;
	char c;
	current = b->as;
	double t0 = now();
	b->r = b->f->ops->read(b->f, &(struct iovec){ &c, 1 }, 1, -1, 0);
	b->took = now() - t0;
	current = NULL;
	return NULL;
}

static void nap_ms(long ms)
{
	nanosleep(&(struct timespec){ 0, ms * 1000000 }, NULL);
}

static void test_wakeups(void)
{
	struct file *f[2];
	pthread_t t;

	pipe_create(0, f);
	struct blocked b = { f[0], NULL, 99, 0 };
	pthread_create(&t, NULL, blocked_read, &b);
	nap_ms(30);
	fput(f[1]);
	pthread_join(t, NULL);
	CHECK(b.r == 0 && b.took > 0.02, "closing the writer ends a blocked read with EOF");
	fput(f[0]);

	/* a kernel thread whose guest is being killed leaves its sleep */
	struct process *p = calloc(1, sizeof(*p));
	struct thread *th = calloc(1, sizeof(*th));
	pthread_mutex_init(&p->lock, NULL);
	th->proc = p;
	pipe_create(0, f);
	b = (struct blocked){ f[0], th, 99, 0 };
	pthread_create(&t, NULL, blocked_read, &b);
	nap_ms(30);
	th->exiting = true;
	thread_wake(th);
	pthread_join(t, NULL);
	CHECK_EQ(b.r, -ERESTARTSYS, "an exiting thread's blocked read returns (ERESTARTSYS, never seen by a guest)");
	fput(f[0]);
	fput(f[1]);
	free(th);
	free(p);
}

struct hostwait {
	struct file *f;
	unsigned mask;
	double took;
};

static void *host_waiter(void *arg)
{
	struct hostwait *w = arg;
	struct poll_table pt;
	struct timespec dl = deadline_after(&(struct timespec){ 5, 0 });
	double t0 = now();
	poll_table_init(&pt, POLLIN | POLLERR | POLLHUP, NULL);
	for (;;) {
		uint32_t snap = sleep_prepare();
		w->mask = file_poll(w->f, &pt) & (POLLIN | POLLERR | POLLHUP);
		pt.queue = false;
		if (w->mask || sleep_until(snap, &dl))
			break;
	}
	poll_table_free(&pt);
	w->took = now() - t0;
	return NULL;
}

static void test_hostpoll(void)
{
	int hp[2];
	pthread_t t;
	pipe(hp);
	struct file *f = hostfile_new(hp[0], O_RDONLY, NULL);
	CHECK(f && f->ops->poll, "host files have a poll op");
	CHECK_EQ(file_poll(f, NULL) & POLLIN, 0, "empty host pipe: not readable");
	struct hostwait w = { f, 0, 0 };
	pthread_create(&t, NULL, host_waiter, &w);
	nap_ms(30);
	write(hp[1], "x", 1);
	pthread_join(t, NULL);
	CHECK(w.mask == POLLIN && w.took > 0.02 && w.took < 4, "the host poller wakes a waiter (%.3f s)",
	      w.took);
	char c;
	read(hp[0], &c, 1);
	w = (struct hostwait){ f, 0, 0 };
	pthread_create(&t, NULL, host_waiter, &w);
	nap_ms(30);
	close(hp[1]);
	pthread_join(t, NULL);
	CHECK(w.mask == POLLHUP && w.took < 4, "and on a hang-up (%#x)", w.mask);
	fput(f);
	int fd = open("/etc/passwd", O_RDONLY);
	f = hostfile_new(fd, O_RDONLY, NULL);
	CHECK_EQ(file_poll(f, NULL), DEFAULT_POLLMASK, "a host regular file is always ready");
	CHECK(!file_can_poll(f), "and epoll refuses it");
	fput(f);
}

int main(void)
{
	test_size();
	test_wakeups();
	test_hostpoll();
	test_transfer();
	CHECK_DONE();
}
