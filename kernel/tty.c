/* Terminals: job control shared by every terminal (Linux's
 * tty_jobctrl.c), and the host terminal cocoon runs on.
 *
 * Guest host-processes leave the host terminal's session (stub/setup.c),
 * so the host's terminal signals reach only cocoon; a forwarder thread
 * sends them on to the foreground process group of the host terminal as
 * the guests see it. Reads and writes of the host terminal are cocoon's
 * own host calls, on a private non-blocking open of the terminal, so a
 * reader waits on the kernel's wait queues (a signal ends the wait) and
 * background groups get SIGTTIN/SIGTTOU from here, not from the host. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kernel/tty.h"
#include "kernel/task.h"
#include "fs/file.h"
#include "fs/poll.h"
#include "mm/uaccess.h"

/* ---- the list of terminals and controlling terminals ----------------- */

static struct tty *ttys; /* tasklist_lock */

/* Processes that gave up their controlling terminal without leading
 * their session (TIOCNOTTY): they have none although their session has
 * one. Entries of processes gone or moved to another session are stale. */
struct detached {
	struct process *p;
	struct timespec start;
	int sid;
};
static struct detached *detached;
static size_t ndetached, detached_cap;

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* p is alive and is the process pid stands for. */
static bool proc_is(struct process *p, int pid, struct timespec start)
{
	struct process *q = pid_lookup(pid);
	return q && q == p && q->state == PROC_ALIVE && same_time(q->start_time, start);
}

void tty_register(struct tty *t)
{
	pthread_mutex_lock(&tasklist_lock);
	t->next = ttys;
	ttys = t;
	pthread_mutex_unlock(&tasklist_lock);
}

void tty_unregister(struct tty *t)
{
	pthread_mutex_lock(&tasklist_lock);
	for (struct tty **pp = &ttys; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&tasklist_lock);
}

static void tty_clear_locked(struct tty *t)
{
	t->session = t->pgrp = 0;
	t->leader = NULL;
}

/* Whether t still controls a session: its leader lives. A session whose
 * leader died lost its terminal (Linux does it at the leader's exit;
 * tty_process_exit). The host terminal belongs to session 1 from the
 * start, before its leader is known. */
static bool session_live(struct tty *t)
{
	if (!t->session)
		return false;
	struct process *p = pid_lookup(t->session);
	bool leads = p && p->state == PROC_ALIVE && p->pid == t->session && p->sid == t->session;
	if (!t->leader) {
		if (!p && t->is_host)
			return true; /* the first process is not there yet */
		if (leads) {
			t->leader = p;
			t->leader_start = p->start_time;
			return true;
		}
	} else if (leads && p == t->leader && same_time(p->start_time, t->leader_start)) {
		return true;
	}
	tty_clear_locked(t);
	return false;
}

static bool is_detached(struct process *p)
{
	size_t k = 0;
	bool found = false;
	while (k < ndetached) { /* drop stale entries on the way */
		struct detached *d = &detached[k];
		if (!proc_is(d->p, d->p ? d->p->pid : 0, d->start) || d->p->sid != d->sid) {
			detached[k] = detached[--ndetached];
			continue;
		}
		found |= d->p == p;
		k++;
	}
	return found;
}

static void set_detached(struct process *p, bool on)
{
	if (is_detached(p) == on)
		return;
	if (!on) {
		for (size_t k = 0; k < ndetached; k++)
			if (detached[k].p == p)
				detached[k] = detached[--ndetached];
		return;
	}
	if (ndetached == detached_cap) {
		size_t cap = detached_cap ? detached_cap * 2 : 8;
		struct detached *d = realloc(detached, cap * sizeof(*d));
		if (!d)
			return; /* the process keeps its terminal */
		detached = d;
		detached_cap = cap;
	}
	detached[ndetached++] = (struct detached){ p, p->start_time, p->sid };
}

bool tty_is_ctty_locked(struct tty *t, struct process *p)
{
	return t->session && t->session == p->sid && session_live(t) && !is_detached(p);
}

static struct tty *ctty_of_locked(struct process *p)
{
	for (struct tty *t = ttys; t; t = t->next)
		if (tty_is_ctty_locked(t, p))
			return t;
	return NULL;
}

/* ---- signals to groups --------------------------------------------- */

static void kill_pgrp_locked(int pgrp, int sig)
{
	siginfo_t info = { .si_signo = sig, .si_code = SI_KERNEL };
	for (int pid = 1; pgrp > 0 && pid < PID_MAX; pid++) {
		struct process *p = pid_lookup(pid);
		if (p && p->pgid == pgrp && p->state == PROC_ALIVE)
			signal_send_info(p, NULL, sig, &info);
	}
}

void tty_signal_pgrp(struct tty *t, int sig)
{
	pthread_mutex_lock(&tasklist_lock);
	if (session_live(t))
		kill_pgrp_locked(t->pgrp, sig);
	pthread_mutex_unlock(&tasklist_lock);
}

/* Linux's is_current_pgrp_orphaned(): no member has a parent in another
 * group of the same session (tasklist_lock held). */
static bool pgrp_orphaned_locked(int pgrp)
{
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *p = pid_lookup(pid);
		if (!p || p->pgid != pgrp || p->state != PROC_ALIVE)
			continue;
		struct process *par = p->parent;
		if (par && par->pgid != pgrp && par->sid == p->sid)
			return false;
	}
	return true;
}

/* The signal is blocked by the current thread or ignored by its process. */
static bool sig_ignored(int sig)
{
	struct process *me = current->proc;
	pthread_mutex_lock(&me->lock);
	bool r = (current->sigmask & (1ULL << (sig - 1))) ||
		 sigaction_get_locked(me, sig).handler == (uint64_t)(uintptr_t)SIG_IGN;
	pthread_mutex_unlock(&me->lock);
	return r;
}

/* Linux's __tty_check_change() and job_control(), which differ only in
 * what an ignored signal means. */
static int check_background(struct tty *t, int sig)
{
	if (!current)
		return 0;
	struct process *me = current->proc;
	int ret = 0;
	pthread_mutex_lock(&tasklist_lock);
	if (tty_is_ctty_locked(t, me) && t->pgrp && me->pgid != t->pgrp) {
		int pgrp = me->pgid;
		bool orphaned = pgrp_orphaned_locked(pgrp);
		pthread_mutex_unlock(&tasklist_lock);
		if (sig_ignored(sig))
			return sig == SIGTTIN ? -EIO : 0;
		if (orphaned)
			return -EIO;
		pthread_mutex_lock(&tasklist_lock);
		kill_pgrp_locked(pgrp, sig);
		ret = -ERESTARTSYS;
	}
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

int tty_check_read(struct tty *t)
{
	return check_background(t, SIGTTIN);
}

int tty_check_change(struct tty *t)
{
	return check_background(t, SIGTTOU);
}

/* ---- the job-control ioctls ----------------------------------------- */

/* Give up the controlling terminal (TIOCNOTTY; a leader's exit with
 * on_exit): a session leader hangs its session up. tasklist_lock held. */
static void disassociate_locked(struct process *me, struct tty *t, bool on_exit)
{
	if (me->pid != me->sid) {
		set_detached(me, true);
		return;
	}
	kill_pgrp_locked(t->pgrp, SIGHUP);
	if (!on_exit)
		kill_pgrp_locked(t->pgrp, SIGCONT);
	if (on_exit && t->is_host) { /* Linux hangs up a real terminal: the leader hears it too */
		struct process *p = pid_lookup(t->session);
		if (p && p->pgid != t->pgrp) {
			signal_send_info(p, NULL, SIGHUP, &(siginfo_t){ .si_signo = SIGHUP, .si_code = SI_KERNEL });
			signal_send_info(p, NULL, SIGCONT, &(siginfo_t){ .si_signo = SIGCONT, .si_code = SI_KERNEL });
		}
	}
	tty_clear_locked(t);
}

void tty_process_exit(struct process *p)
{
	pthread_mutex_lock(&tasklist_lock);
	if (p->pid == p->sid) {
		struct tty *t = ctty_of_locked(p);
		if (t)
			disassociate_locked(p, t, true);
	}
	pthread_mutex_unlock(&tasklist_lock);
}

void tty_hangup(struct tty *t)
{
	pthread_mutex_lock(&tasklist_lock);
	if (session_live(t)) {
		struct process *leader = pid_lookup(t->session);
		siginfo_t hup = { .si_signo = SIGHUP, .si_code = SI_KERNEL };
		siginfo_t cont = { .si_signo = SIGCONT, .si_code = SI_KERNEL };
		if (leader) {
			signal_send_info(leader, NULL, SIGHUP, &hup);
			signal_send_info(leader, NULL, SIGCONT, &cont);
		}
	}
	tty_clear_locked(t);
	pthread_mutex_unlock(&tasklist_lock);
}

static bool capable_admin(void)
{
	return current->proc->uid == 0;
}

static int set_ctty_locked(struct tty *t, struct process *me)
{
	t->session = me->sid;
	t->pgrp = me->pgid;
	t->leader = me;
	t->leader_start = me->start_time;
	set_detached(me, false);
	return 0;
}

void tty_open_set_ctty(struct tty *t, int flags)
{
	struct process *me = current ? current->proc : NULL;
	int acc = flags & O_ACCMODE;
	if (!me || (flags & O_NOCTTY) || (acc != O_RDONLY && acc != O_RDWR))
		return;
	pthread_mutex_lock(&tasklist_lock);
	if (me->pid == me->sid && !ctty_of_locked(me) && !session_live(t))
		set_ctty_locked(t, me);
	pthread_mutex_unlock(&tasklist_lock);
}

/* The session of the group (or, failing that, the process) with id v:
 * Linux's session_of_pgrp; -1 if there is neither. */
static int session_of_pgrp_locked(int v)
{
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *p = pid_lookup(pid);
		if (p && p->pgid == v && p->state != PROC_REAPED)
			return p->sid;
	}
	struct process *p = v > 0 ? pid_lookup(v) : NULL;
	return p ? p->sid : -1;
}

long tty_jobctl_ioctl(struct tty *t, struct file *f, bool master, unsigned cmd, gaddr_t arg)
{
	struct process *me = current->proc;
	long ret = 0;
	int v = 0;
	switch (cmd) {
	case TIOCNOTTY:
		pthread_mutex_lock(&tasklist_lock);
		if (master || !tty_is_ctty_locked(t, me))
			ret = -ENOTTY;
		else
			disassociate_locked(me, t, false);
		pthread_mutex_unlock(&tasklist_lock);
		return ret;
	case TIOCSCTTY: {
		int acc = f->flags & O_ACCMODE;
		pthread_mutex_lock(&tasklist_lock);
		bool leader = me->pid == me->sid;
		if (leader && session_live(t) && t->session == me->sid) {
			set_detached(me, false);
		} else if (!leader || ctty_of_locked(me)) {
			ret = -EPERM;
		} else if (session_live(t) && !((int)arg == 1 && capable_admin())) {
			ret = -EPERM; /* another session's terminal */
		} else if (acc != O_RDONLY && acc != O_RDWR && !capable_admin()) {
			ret = -EPERM;
		} else {
			set_ctty_locked(t, me);
		}
		pthread_mutex_unlock(&tasklist_lock);
		return ret;
	}
	case TIOCGPGRP:
	case TIOCGSID:
		pthread_mutex_lock(&tasklist_lock);
		if (!master && !tty_is_ctty_locked(t, me))
			ret = -ENOTTY;
		else if (cmd == TIOCGSID && !session_live(t))
			ret = -ENOTTY;
		else
			v = cmd == TIOCGSID ? t->session : session_live(t) ? t->pgrp : 0;
		pthread_mutex_unlock(&tasklist_lock);
		return ret ? ret : copy_to_guest(arg, &v, sizeof(v));
	case TIOCSPGRP: {
		ret = tty_check_change(t);
		if (ret == -EIO)
			return -ENOTTY;
		if (ret)
			return ret;
		bool fault = copy_from_guest(&v, arg, sizeof(v)) != 0;
		pthread_mutex_lock(&tasklist_lock);
		if (!tty_is_ctty_locked(t, me))
			ret = -ENOTTY;
		else if (fault)
			ret = -EFAULT;
		else if (v < 0)
			ret = -EINVAL;
		else {
			int sid = session_of_pgrp_locked(v);
			ret = sid < 0 ? -ESRCH : sid != me->sid ? -EPERM : 0;
			if (!ret)
				t->pgrp = v;
		}
		pthread_mutex_unlock(&tasklist_lock);
		return ret;
	}
	}
	return 1;
}

/* ---- termios helpers ------------------------------------------------ */

size_t tty_termios_cmd(unsigned cmd, int *set)
{
	switch (cmd) {
	case TCGETS: *set = 0; return KTERMIOS_V1_SIZE;
	case TCSETS: *set = TTY_SET_NOW; return KTERMIOS_V1_SIZE;
	case TCSETSW: *set = TTY_SET_DRAIN; return KTERMIOS_V1_SIZE;
	case TCSETSF: *set = TTY_SET_FLUSH; return KTERMIOS_V1_SIZE;
	case KTCGETS2: *set = 0; return sizeof(struct ktermios);
	case KTCSETS2: *set = TTY_SET_NOW; return sizeof(struct ktermios);
	case KTCSETSW2: *set = TTY_SET_DRAIN; return sizeof(struct ktermios);
	case KTCSETSF2: *set = TTY_SET_FLUSH; return sizeof(struct ktermios);
	}
	return 0;
}

/* Linux's baud_table, indexed by the CBAUD bits (BOTHER = 0x1000 left
 * to the speeds given). */
static const uint32_t baud_table[] = {
	0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
	57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000,
	2000000, 2500000, 3000000, 3500000, 4000000,
};

static uint32_t cbaud_speed(uint32_t cbaud)
{
	if (cbaud & CBAUDEX)
		cbaud = (cbaud & ~CBAUDEX) + 15;
	return cbaud < ARRAY_SIZE(baud_table) ? baud_table[cbaud] : 0;
}

void tty_termios_speeds(struct ktermios *t)
{
	/* tty_termios_baud_rate and tty_termios_input_baud_rate: an input
	 * speed of 0 (B0 in CIBAUD) means the output speed. */
	t->c_ospeed = cbaud_speed(t->c_cflag & CBAUD);
	uint32_t in = (t->c_cflag >> 16) & CBAUD; /* IBSHIFT */
	t->c_ispeed = in ? cbaud_speed(in) : t->c_ospeed;
}

/* ---- the host terminal ---------------------------------------------- */

static struct {
	bool have;             /* cocoon's stdin is a terminal */
	int fd;                /* cocoon's own fd of it (for /dev/tty) */
	struct termios saved;
	sigset_t forwarded;
	_Atomic bool tostop;   /* TOSTOP as last seen */
	struct tty tty;
} host = { .fd = -1, .tty = { .session = 1, .pgrp = 1, .is_host = true } };

static void restore_on_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void tty_init(void)
{
	host.have = isatty(0) && tcgetattr(0, &host.saved) == 0;
	sigemptyset(&host.forwarded);
	int sigs[] = { SIGINT, SIGQUIT, SIGTSTP, SIGHUP, SIGWINCH };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&host.forwarded, sigs[i]);
	/* Blocked in every thread, taken by the forwarder with sigwait. */
	pthread_sigmask(SIG_BLOCK, &host.forwarded, NULL);
	if (!host.have)
		return;
	host.fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	host.tostop = host.saved.c_lflag & TOSTOP;
	tty_register(&host.tty);
	/* However cocoon ends, the terminal gets its modes back. */
	atexit(tty_restore);
	signal(SIGTERM, restore_on_signal);
}

void tty_restore(void)
{
	if (host.have)
		tcsetattr(0, TCSANOW, &host.saved);
}

static void *forwarder(void *arg)
{
	for (;;) {
		int sig;
		if (sigwait(&host.forwarded, &sig))
			continue;
		tty_signal_pgrp(&host.tty, sig);
	}
	return NULL;
}

void tty_start(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, forwarder, NULL) == 0)
		pthread_detach(t);
}

/* The host file may block (it is not private and non-blocking): then
 * wait for readiness first. */
struct hosttty {
	bool nonblocking;
};

static bool nonblocking(struct file *f, int rwf)
{
	return (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
}

/* Wait until the host terminal is ready for events: 0 or -ERESTARTSYS. */
static int host_wait(struct file *f, unsigned events)
{
	struct poll_table pt;
	poll_table_init(&pt, events, NULL);
	uint32_t snap = sleep_prepare();
	unsigned mask = host_fd_poll(f, &pt);
	int r = 0;
	if (!(mask & (events | POLLERR | POLLHUP | POLLNVAL)))
		r = sleep_until(snap, NULL);
	poll_table_free(&pt);
	return r == -EINTR ? -ERESTARTSYS : 0;
}

static ssize_t host_io(struct file *f, const struct iovec *iov, int n, int rwf, bool write)
{
	struct hosttty *h = f->priv;
	for (;;) {
		if (!h->nonblocking && !nonblocking(f, rwf)) {
			int r = host_wait(f, write ? POLLOUT : POLLIN);
			if (r)
				return r;
		}
		ssize_t r = write ? writev(f->hostfd, iov, n) : readv(f->hostfd, iov, n);
		if (r >= 0)
			return r;
		if (errno != EAGAIN || nonblocking(f, rwf))
			return -errno;
		if (h->nonblocking) {
			int w = host_wait(f, write ? POLLOUT : POLLIN);
			if (w)
				return w;
		}
	}
}

static ssize_t hosttty_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	int r = tty_check_read(&host.tty);
	return r ? r : host_io(f, iov, n, rwf, false);
}

static ssize_t hosttty_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	if (host.tostop) {
		int r = tty_check_change(&host.tty);
		if (r)
			return r;
	}
	return host_io(f, iov, n, rwf, true);
}

/* Commands passed to the host as they are: an int argument by value, or
 * nothing. */
static bool by_value(unsigned cmd)
{
	return cmd == TCSBRK || cmd == TCSBRKP || cmd == TCFLSH || cmd == TCXONC ||
	       cmd == TIOCEXCL || cmd == TIOCNXCL;
}

static long hosttty_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	long r = tty_jobctl_ioctl(&host.tty, f, false, cmd, arg);
	if (r != 1)
		return r;
	union {
		struct ktermios t;
		struct winsize ws;
		int n;
	} u;
	memset(&u, 0, sizeof(u));
	int set = 0;
	size_t size = tty_termios_cmd(cmd, &set);
	if (by_value(cmd)) {
		if ((cmd == TCFLSH || cmd == TCXONC) && (r = tty_check_change(&host.tty)))
			return r;
		return ioctl(f->hostfd, cmd, (unsigned long)arg) < 0 ? -errno : 0;
	}
	switch (cmd) {
	case TIOCGWINSZ: size = sizeof(u.ws); break;
	case TIOCSWINSZ: size = sizeof(u.ws); set = TTY_SET_NOW; break;
	case FIONREAD: case TIOCOUTQ: size = sizeof(u.n); break;
	case TIOCGETD: u.n = N_TTY; return copy_to_guest(arg, &u.n, sizeof(u.n));
	default:
		if (!size)
			return -ENOTTY;
	}
	if (set) {
		if (copy_from_guest(&u, arg, size))
			return -EFAULT;
		if (cmd != TIOCSWINSZ && (r = tty_check_change(&host.tty)))
			return r;
	}
	if (ioctl(f->hostfd, cmd, &u) < 0)
		return -errno;
	if (set && cmd != TIOCSWINSZ)
		host.tostop = u.t.c_lflag & TOSTOP;
	return set ? 0 : copy_to_guest(arg, &u, size);
}

/* The host terminal is the sandbox's /dev/console (like a container's):
 * its files stand at that node, so /proc/<pid>/fd, fstat and ttyname
 * agree. */
static int hosttty_statx(struct file *f, int flags, unsigned mask, struct statx *stx)
{
	return f->inode ? vfs_file_statx(f, flags, mask, stx) : host_statx(f->hostfd, flags, mask, stx);
}

static void attach_console(struct file *f)
{
	struct walk_result r;
	if (walk_at(AT_FDCWD, "/dev/console", WALK_FOLLOW, &r))
		return;
	struct inode *i = walk_inode(&r);
	if (i && S_ISCHR(i->mode) && !f->dentry) {
		f->mnt = r.path.mnt;
		f->dentry = dget(r.path.dentry);
		f->inode = iget(i);
		if (!f->path)
			f->path = strdup("/dev/console");
	}
	walk_done(&r);
}

/* O_NONBLOCK stays the guest's (the kernel's file flag); O_APPEND and
 * friends mean nothing to a terminal. */
static int hosttty_setfl(struct file *f, int flags)
{
	return 0;
}

static void hosttty_release(struct file *f)
{
	close(f->hostfd);
	free(f->priv);
}

static const struct file_ops hosttty_ops = {
	.read = hosttty_read,
	.write = hosttty_write,
	.statx = hosttty_statx,
	.ioctl = hosttty_ioctl,
	.poll = host_fd_poll,
	.setfl = hosttty_setfl,
	.release = hosttty_release,
};

/* A private open of the terminal hostfd is (its own file description),
 * non-blocking; or -1. */
static int reopen_private(int hostfd, int flags)
{
	char link[32];
	int acc = flags & O_ACCMODE;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", hostfd);
	return open(link, (acc == 3 ? O_RDWR : acc) | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
}

static struct file *host_file_new(int hostfd, int flags, const char *path, bool console)
{
	struct hosttty *h = calloc(1, sizeof(*h));
	struct file *f = h ? file_new(&hosttty_ops, flags, S_IFCHR, h) : NULL;
	if (!f) {
		free(h);
		return NULL;
	}
	if (path && !(f->path = strdup(path))) {
		fput(f); /* frees h; the caller still owns hostfd */
		return NULL;
	}
	int priv = reopen_private(hostfd, flags);
	if (priv >= 0) {
		close(hostfd);
		hostfd = priv;
		h->nonblocking = true;
	}
	f->hostfd = hostfd;
	f->may_block = true;
	f->no_pread = true;
	if (console)
		attach_console(f);
	return f;
}

/* The inherited stdio, and reopens of it: at /dev/console. */
struct file *tty_host_file(int hostfd, int flags, const char *path)
{
	return host_file_new(hostfd, flags, path, true);
}

int tty_open_console(int flags, struct file **out)
{
	int fd = host.fd >= 0 ? fcntl(host.fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd < 0)
		return -ENXIO;
	if (!(*out = host_file_new(fd, flags, NULL, false))) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

int tty_open_current(int flags, struct file **out)
{
	if (!current)
		return -ENXIO;
	int err = -ENXIO;
	pthread_mutex_lock(&tasklist_lock);
	struct tty *t = ctty_of_locked(current->proc);
	if (t && !t->is_host)
		err = pty_open_ctty(t, flags, out);
	pthread_mutex_unlock(&tasklist_lock);
	if (!t || !t->is_host)
		return err;
	int fd = host.fd >= 0 ? fcntl(host.fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd < 0)
		return -ENXIO;
	if (!(*out = host_file_new(fd, flags, NULL, false))) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}
