/* Who may send, what the receiver learns of the sender, and which thread
 * takes a process-directed signal sent by a thread's id:
 *
 * - kill() and rt_sigqueueinfo() with the tid of a thread that is not
 *   the leader offer the signal to that thread first (Linux's
 *   complete_signal tries the task the id names), to another thread when
 *   it blocks the signal; rt_sigqueueinfo and rt_tgsigqueueinfo take a
 *   siginfo that pretends to be the kernel or kill only when the id is
 *   the calling thread's own.
 * - The permission rule of kill (the sender's real or effective uid
 *   equal to the target's real or saved uid, or CAP_KILL; SIGCONT within
 *   the session) as kill, rt_sigqueueinfo, tgkill and pidfd_send_signal
 *   (each scope) apply it, signal 0 included.
 * - si_uid of kill, tgkill and pidfd_send_signal's own siginfo is the
 *   sender's real uid, not its effective one.
 *
 * The uid parts need root (natively: the container's root with CAP_KILL;
 * under cocoon: the sandbox's root); another user prints that they were
 * skipped. */
#include "sig_util.h"
#include <pthread.h>
#include <sys/syscall.h>

#define PIDFD_SIGNAL_THREAD 1
#define PIDFD_SIGNAL_THREAD_GROUP 2
#define PIDFD_SIGNAL_PROCESS_GROUP 4
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* <linux/capability.h> (musl has no kernel headers). */
struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522
#define CAP_KILL 5

static pid_t gettid_(void) { return (pid_t)rsys(SYS_gettid); }

static volatile pid_t taker_tid;
static volatile int taken_code, taken_uid, taken_pid_is_me;
static void on_usr1(int s, siginfo_t *si, void *uc)
{
	taker_tid = gettid_();
	taken_code = si->si_code;
	taken_uid = (int)si->si_uid;
	taken_pid_is_me = si->si_pid == getpid();
}

static const char *codename(int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	default: return "other";
	}
}

/* ---- which thread takes it --------------------------------------------- */

static volatile pid_t worker_tid;
static volatile int worker_stop;
static void *worker(void *blocks_usr1)
{
	if (blocks_usr1)
		block(SIGUSR1);
	worker_tid = gettid_();
	/* Sleeps that the signal may end early. */
	while (!worker_stop) {
		struct timespec t = { 0, 5 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
	return NULL;
}

static siginfo_t queue_info(int code)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = code;
	si.si_pid = getpid();
	si.si_uid = getuid();
	return si;
}

static long send_kill(pid_t tid) { return rsys(SYS_kill, tid, SIGUSR1); }
static long send_queue(pid_t tid)
{
	siginfo_t si = queue_info(SI_QUEUE);
	return rsys(SYS_rt_sigqueueinfo, tid, SIGUSR1, &si);
}
static long send_tgkill(pid_t tid) { return rsys(SYS_tgkill, getpid(), tid, SIGUSR1); }

/* The leader starts a worker thread (blocking SIGUSR1 or not), sends
 * SIGUSR1 by the worker's tid and says who ran the handler. Both threads
 * can take it unless the worker blocks it: Linux offers it to the named
 * thread first. */
static void named_thread(const char *label, int worker_blocks, long (*send)(pid_t tid))
{
	worker_tid = 0;
	worker_stop = 0;
	taker_tid = 0;
	pthread_t th;
	if (pthread_create(&th, NULL, worker, worker_blocks ? (void *)1 : NULL)) {
		printf("%s: pthread_create failed\n", label);
		return;
	}
	while (!worker_tid)
		sleep_ms(1);
	long r = send(worker_tid);
	for (int i = 0; i < 5000 && !taker_tid; i++)
		sleep_ms(1);
	pid_t by = taker_tid;
	printf("%s: %s, taken by %s, %s\n", label, rstr(r),
	       !by ? "nobody" : by == worker_tid ? "the named thread" : by == gettid_() ? "the leader" : "another",
	       codename(taken_code));
	worker_stop = 1;
	pthread_join(th, NULL);
}

/* rt_sigqueueinfo/rt_tgsigqueueinfo with si_code 0 (SI_USER): only to the
 * calling thread's own id (Linux compares with the caller's tid). */
static volatile long worker_queue_self, worker_queue_pid, worker_tgqueue_leader, worker_tgqueue_self;
static void *queue_from_worker(void *unused)
{
	siginfo_t si = queue_info(SI_USER);
	/* Blocked: the result is what is asked, not who would take it. */
	block(SIGUSR1);
	worker_queue_self = rsys(SYS_rt_sigqueueinfo, gettid_(), SIGUSR1, &si);
	worker_queue_pid = rsys(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
	worker_tgqueue_leader = rsys(SYS_rt_tgsigqueueinfo, getpid(), getpid(), SIGUSR1, &si);
	worker_tgqueue_self = rsys(SYS_rt_tgsigqueueinfo, getpid(), gettid_(), SIGUSR1, &si);
	return NULL;
}

static void own_id_rule(void)
{
	printf("-- siginfo of one's own: by the caller's tid\n");
	block(SIGUSR1);
	pthread_t th;
	if (pthread_create(&th, NULL, queue_from_worker, NULL)) {
		printf("pthread_create failed\n");
		return;
	}
	pthread_join(th, NULL);
	res("worker: rt_sigqueueinfo(own tid, SI_USER)", worker_queue_self);
	res("worker: rt_sigqueueinfo(pid, SI_USER)", worker_queue_pid);
	res("worker: rt_tgsigqueueinfo(pid, leader tid, SI_USER)", worker_tgqueue_leader);
	res("worker: rt_tgsigqueueinfo(pid, own tid, SI_USER)", worker_tgqueue_self);
	siginfo_t si = queue_info(SI_USER);
	res("leader: rt_sigqueueinfo(pid, SI_USER)", rsys(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
	res("leader: rt_tgsigqueueinfo(pid, own tid, SI_USER)",
	    rsys(SYS_rt_tgsigqueueinfo, getpid(), gettid_(), SIGUSR1, &si));
	/* The pending SIGUSR1s are dropped with the handler's reset. */
	dfl(SIGUSR1);
	ign(SIGUSR1);
	unblock(SIGUSR1);
}

static void which_thread(void)
{
	printf("-- a process-directed signal by a thread's id\n");
	on_info(SIGUSR1, on_usr1, 0, 0);
	named_thread("kill(worker tid)", 0, send_kill);
	named_thread("kill(worker tid), worker blocks it", 1, send_kill);
	named_thread("rt_sigqueueinfo(worker tid)", 0, send_queue);
	named_thread("rt_sigqueueinfo(worker tid), worker blocks it", 1, send_queue);
	named_thread("tgkill(worker tid)", 0, send_tgkill);
	/* Twice more: the choice must not depend on timing. */
	named_thread("kill(worker tid) again", 0, send_kill);
	named_thread("rt_sigqueueinfo(worker tid) again", 0, send_queue);
	own_id_rule();
}

/* ---- permission -------------------------------------------------------- */

/* A child with real, effective and saved uids r, e, s (in a session of
 * its own if asked) that pauses; returned once it has its ids. */
static pid_t pauser_as(uid_t r, uid_t e, uid_t s, int own_session)
{
	int ready[2];
	if (pipe(ready) < 0)
		return -1;
	pid_t pid = xfork();
	if (pid == 0) {
		close(ready[0]);
		if (own_session)
			setsid();
		else
			setpgid(0, 0);
		char ok = setresuid(r, e, s) == 0;
		write_all(ready[1], &ok, 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char ok = 0;
	if (read_all(ready[0], &ok, 1) != 1 || !ok)
		printf("pauser %u/%u/%u: not set up\n", r, e, s);
	close(ready[0]);
	return pid;
}

struct target {
	const char *name;
	uid_t r, e, s;
	int own_session;
	pid_t pid;
};

static struct target targets[] = {
	{ "root", 0, 0, 0, 0, 0 },
	{ "root, another session", 0, 0, 0, 1, 0 },
	{ "r2000 e2000 s1000 (saved = my real)", 2000, 2000, 1000, 0, 0 },
	{ "r1001 e2000 s2000 (real = my effective)", 1001, 2000, 2000, 0, 0 },
	{ "r1000 e2000 s2000 (real = my real)", 1000, 2000, 2000, 0, 0 },
	{ "r2000 e1000 s2000 (effective = my real)", 2000, 1000, 2000, 0, 0 },
	{ "r2000 e1001 s2001 (effective = my effective)", 2000, 1001, 2001, 0, 0 },
};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* Every way to send sig to t from the current process, on one line. */
static void try_all(const struct target *t, int sig)
{
	printf("  %s, signal %d:", t->name, sig);
	printf(" kill %s", rstr(rsys(SYS_kill, t->pid, sig)));
	siginfo_t si = queue_info(SI_QUEUE);
	si.si_signo = sig;
	printf(", rt_sigqueueinfo %s", rstr(rsys(SYS_rt_sigqueueinfo, t->pid, sig, &si)));
	printf(", tgkill %s", rstr(rsys(SYS_tgkill, t->pid, t->pid, sig)));
	long fd = rsys(SYS_pidfd_open, t->pid, 0);
	if (fd < 0) {
		printf(", pidfd_open %s\n", rstr(fd));
		return;
	}
	printf("\n    pidfd_send_signal: %s", rstr(rsys(SYS_pidfd_send_signal, fd, sig, 0, 0)));
	printf(", THREAD %s", rstr(rsys(SYS_pidfd_send_signal, fd, sig, 0, PIDFD_SIGNAL_THREAD)));
	printf(", THREAD_GROUP %s", rstr(rsys(SYS_pidfd_send_signal, fd, sig, 0, PIDFD_SIGNAL_THREAD_GROUP)));
	/* Each target leads a group of its own: the group is just it. */
	printf(", PROCESS_GROUP %s", rstr(rsys(SYS_pidfd_send_signal, fd, sig, 0, PIDFD_SIGNAL_PROCESS_GROUP)));
	printf(", own SI_QUEUE info %s\n", rstr(rsys(SYS_pidfd_send_signal, fd, sig, &si, 0)));
	close((int)fd);
}

static void sender_real1000_eff1001(void)
{
	if (setresuid(1000, 1001, 1001)) {
		printf("setresuid: %s\n", errname(errno));
		return;
	}
	printf("sender r1000 e1001 s1001:\n");
	for (size_t i = 0; i < NTARGETS; i++) {
		try_all(&targets[i], 0);
		if (i < 2) /* root in this session, then in another */
			try_all(&targets[i], SIGCONT);
	}
	res("  root pidfd_send_signal(65)", rsys(SYS_pidfd_send_signal, rsys(SYS_pidfd_open, targets[0].pid, 0), 65, 0, 0));
}

static void sender_root_without_cap_kill(void)
{
	struct cap_header h = { CAP_VERSION_3, 0 };
	struct cap_data d[2];
	memset(d, 0, sizeof d);
	if (rsys(SYS_capget, &h, d) < 0)
		return;
	d[0].effective &= ~(1u << CAP_KILL);
	res("capset without CAP_KILL", rsys(SYS_capset, &h, d));
	printf("sender root without CAP_KILL:\n");
	try_all(&targets[0], 0);
	try_all(&targets[2], 0);
	try_all(&targets[5], 0);
}

static void sender_root(void)
{
	printf("sender root:\n");
	try_all(&targets[2], 0);
	try_all(&targets[5], 0);
}

static void permission(void)
{
	printf("-- permission\n");
	for (size_t i = 0; i < NTARGETS; i++)
		targets[i].pid = pauser_as(targets[i].r, targets[i].e, targets[i].s, targets[i].own_session);
	printf("sender: %s\n", status_str(in_child(sender_real1000_eff1001)));
	printf("sender: %s\n", status_str(in_child(sender_root_without_cap_kill)));
	printf("sender: %s\n", status_str(in_child(sender_root)));
	for (size_t i = 0; i < NTARGETS; i++) {
		kill_child(targets[i].pid, SIGKILL);
		reap(targets[i].pid);
	}
}

/* ---- si_uid ------------------------------------------------------------ */

static void show_self(const char *label, long r)
{
	printf("  %s: %s, %s, si_uid %d, si_pid mine %d\n", label, rstr(r), codename(taken_code), taken_uid,
	       taken_pid_is_me);
	taken_code = -100;
	taken_uid = -1;
	taken_pid_is_me = 0;
}

static void self_with_ids(void)
{
	setpgid(0, 0);
	if (setresuid(1000, 2000, 0)) {
		printf("setresuid: %s\n", errname(errno));
		return;
	}
	printf("real uid 1000, effective 2000, sends itself SIGUSR1:\n");
	on_info(SIGUSR1, on_usr1, 0, 0);
	show_self("kill", rsys(SYS_kill, getpid(), SIGUSR1));
	show_self("kill(0)", rsys(SYS_kill, 0, SIGUSR1));
	show_self("tgkill", rsys(SYS_tgkill, getpid(), gettid_(), SIGUSR1));
	show_self("tkill", rsys(SYS_tkill, gettid_(), SIGUSR1));
	long fd = rsys(SYS_pidfd_open, getpid(), 0);
	show_self("pidfd_send_signal", rsys(SYS_pidfd_send_signal, fd, SIGUSR1, 0, 0));
	show_self("pidfd_send_signal THREAD", rsys(SYS_pidfd_send_signal, fd, SIGUSR1, 0, PIDFD_SIGNAL_THREAD));
	show_self("pidfd_send_signal PROCESS_GROUP", rsys(SYS_pidfd_send_signal, fd, SIGUSR1, 0, PIDFD_SIGNAL_PROCESS_GROUP));
	close((int)fd);
}

static void sender_uid(void)
{
	printf("-- si_uid: the sender's real uid\n");
	printf("child: %s\n", status_str(in_child(self_with_ids)));
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	which_thread();
	if (geteuid() != 0) {
		printf("not root: the uid parts are skipped\n");
		return sig_end();
	}
	permission();
	sender_uid();
	return sig_end();
}
