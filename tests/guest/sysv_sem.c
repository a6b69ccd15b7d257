/* SysV semaphores: keys, the errno table, SETVAL/SETALL/GET*, atomic
 * multi-operation semop, IPC_NOWAIT and timeouts, a semop blocked in one
 * process and done by another's change (GETNCNT/GETZCNT/GETPID), EINTR
 * that is never restarted, EIDRM, SEM_UNDO applied at exit; undo lists
 * shared with CLONE_SYSVSEM (applied when the last sharer leaves, kept
 * across execve, left by unshare), and a thread's own list. */
#include "sysv_util.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <time.h>

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

static long semget_(int key, int n, int flags)
{
	long id = rsys(SYS_semget, key, n, flags);
	if (id >= 0)
		ipc_track(IPC_KIND_SEM, id);
	return id;
}

static long ctl(long id, int num, int cmd, long arg) { return rsys(SYS_semctl, id, num, cmd, arg); }

static long op1(long id, int num, int op, int flg)
{
	struct sembuf b = { (unsigned short)num, (short)op, (short)flg };
	return rsys(SYS_semop, id, &b, 1);
}

/* Wait until cnt (GETNCNT or GETZCNT) of semaphore num is want. */
static void await_count(long id, int num, int cmd, long want)
{
	for (int i = 0; i < 5000 && ctl(id, num, cmd, 0) != want; i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

static void on_usr1(int sig) { }

static void basics(void)
{
	printf("-- semget and semctl\n");
	int key = ipc_key(1);
	res("nsems -1", semget_(IPC_PRIVATE, -1, 0600));
	res("nsems 32001", semget_(IPC_PRIVATE, 32001, 0600));
	res("nsems 0 for a new one", semget_(IPC_PRIVATE, 0, 0600));
	res("missing key", semget_(key, 1, 0600));
	long id = semget_(key, 3, IPC_CREAT | 0600);
	res("create", id);
	expect(semget_(key, 0, 0) == id, "nsems 0 finds it");
	expect(semget_(key, 2, 0) == id, "fewer finds it");
	res("more than it has", semget_(key, 4, 0));
	res("IPC_CREAT|IPC_EXCL", semget_(key, 3, IPC_CREAT | IPC_EXCL | 0600));

	struct semid_ds ds;
	res("IPC_STAT", ctl(id, 0, IPC_STAT, (long)&ds));
	printf("nsems %lu mode %o otime %ld\n", (unsigned long)ds.sem_nsems, (unsigned)ds.sem_perm.mode,
	       (long)ds.sem_otime);
	expect(ds.sem_ctime > 0 && ds.sem_perm.__key == key, "ctime and key");
	res("IPC_STAT to a bad buffer", ctl(id, 0, IPC_STAT, 8));
	res("IPC_STAT of a stale id", ctl(id + 32768, 0, IPC_STAT, (long)&ds));
	res("negative id", ctl(-1, 0, IPC_STAT, (long)&ds));
	res("unknown command", ctl(id, 0, 99, 0));
	expect(ctl(id & 0x7fff, 0, SEM_STAT, (long)&ds) == id, "SEM_STAT of the index gives the id");
	expect(ctl(id & 0x7fff, 0, SEM_STAT_ANY, (long)&ds) == id, "SEM_STAT_ANY too");
	ds.sem_perm.mode = 0640;
	res("IPC_SET", ctl(id, 0, IPC_SET, (long)&ds));
	sysvipc_show("sem", id, (const int[]){ 3, 4 }, 2);
	ctl(id, 0, IPC_STAT, (long)&ds);
	printf("mode %o\n", (unsigned)ds.sem_perm.mode);

	struct seminfo si;
	expect(ctl(0, 0, IPC_INFO, (long)&si) >= (id & 0x7fff), "IPC_INFO gives the highest index");
	printf("IPC_INFO: map %d mni %d mns %d mnu %d msl %d opm %d ume %d usz %d vmx %d aem %d\n", si.semmap,
	       si.semmni, si.semmns, si.semmnu, si.semmsl, si.semopm, si.semume, si.semusz, si.semvmx, si.semaem);
	expect(ctl(0, 0, SEM_INFO, (long)&si) >= 0 && si.semusz >= 1 && si.semaem >= 3, "SEM_INFO counts");

	res("SETVAL 5", ctl(id, 0, SETVAL, 5));
	resv("GETVAL", ctl(id, 0, GETVAL, 0));
	expect(ctl(id, 0, GETPID, 0) == getpid(), "GETPID is ours after SETVAL");
	res("SETVAL -1", ctl(id, 0, SETVAL, -1));
	res("SETVAL 32768", ctl(id, 0, SETVAL, 32768));
	res("SETVAL 32767", ctl(id, 1, SETVAL, 32767));
	res("SETVAL of semaphore 3", ctl(id, 3, SETVAL, 1));
	res("GETVAL of semaphore -1", ctl(id, -1, GETVAL, 0));
	unsigned short all[3] = { 1, 2, 40000 };
	res("SETALL with 40000", ctl(id, 0, SETALL, (long)all));
	all[2] = 3;
	res("SETALL", ctl(id, 0, SETALL, (long)all));
	memset(all, 0, sizeof all);
	res("GETALL", ctl(id, 0, GETALL, (long)all));
	printf("values %u %u %u\n", all[0], all[1], all[2]);
	res("GETALL to a bad buffer", ctl(id, 0, GETALL, 8));
	res("SETALL from a bad buffer", ctl(id, 0, SETALL, 8));
	resv("GETNCNT", ctl(id, 0, GETNCNT, 0));
	resv("GETZCNT", ctl(id, 0, GETZCNT, 0));
	res("IPC_RMID", ctl(id, 0, IPC_RMID, 0));
	res("IPC_RMID again", ctl(id, 0, IPC_RMID, 0));
	res("GETVAL after", ctl(id, 0, GETVAL, 0));
}

static void operations(void)
{
	printf("-- semop\n");
	long id = semget_(IPC_PRIVATE, 3, 0600);
	struct sembuf b[2];
	res("no operations", rsys(SYS_semop, id, b, 0));
	res("501 operations", rsys(SYS_semop, id, b, 501));
	res("bad buffer", rsys(SYS_semop, id, 8, 1));
	res("negative id", op1(-1, 0, 1, 0));
	res("semaphore 3", op1(id, 3, 1, 0));
	res("decrement below 0, IPC_NOWAIT", op1(id, 0, -1, IPC_NOWAIT));
	res("increment", op1(id, 0, 2, 0));
	res("wait for zero, IPC_NOWAIT", op1(id, 0, 0, IPC_NOWAIT));
	res("past SEMVMX", op1(id, 0, 32767, 0));
	b[0] = (struct sembuf){ 0, -1, 0 };
	b[1] = (struct sembuf){ 1, -1, IPC_NOWAIT };
	res("two operations, the second blocks", rsys(SYS_semop, id, b, 2));
	resv("first unchanged", ctl(id, 0, GETVAL, 0));
	b[0] = (struct sembuf){ 2, 1, 0 };
	b[1] = (struct sembuf){ 2, -1, 0 };
	res("the same semaphore twice, in order", rsys(SYS_semop, id, b, 2));
	b[0] = (struct sembuf){ 2, -1, IPC_NOWAIT };
	b[1] = (struct sembuf){ 2, 1, 0 };
	res("in the other order", rsys(SYS_semop, id, b, 2));
	struct semid_ds ds;
	ctl(id, 0, IPC_STAT, (long)&ds);
	expect(ds.sem_otime > 0, "otime set by semop");

	struct sembuf down1 = { 1, -1, 0 }, down0 = { 0, -1, 0 };
	struct timespec t = { 0, 50000000 };
	res("semtimedop times out", rsys(SYS_semtimedop, id, &down1, 1, &t));
	t = (struct timespec){ 0, 1000000000 };
	res("semtimedop with tv_nsec 1e9", rsys(SYS_semtimedop, id, &down1, 1, &t));
	t = (struct timespec){ -1, 0 };
	res("semtimedop with tv_sec -1", rsys(SYS_semtimedop, id, &down1, 1, &t));
	res("semtimedop with a bad timeout", rsys(SYS_semtimedop, id, &down1, 1, 8));
	t = (struct timespec){ 0, 0 };
	res("semtimedop that can go, zero timeout", rsys(SYS_semtimedop, id, &down0, 1, &t));

	printf("-- blocking\n");
	ctl(id, 0, SETVAL, 0);
	int pid = fork();
	if (pid == 0)
		_exit(op1(id, 0, -2, 0) == 0 ? 0 : 1);
	await_count(id, 0, GETNCNT, 1);
	resv("GETNCNT with a sleeper", ctl(id, 0, GETNCNT, 0));
	res("add 1", op1(id, 0, 1, 0));
	resv("GETNCNT still", ctl(id, 0, GETNCNT, 0));
	res("add 1 more", op1(id, 0, 1, 0));
	printf("sleeper %s\n", wait_child(pid));
	resv("value", ctl(id, 0, GETVAL, 0));
	expect(ctl(id, 0, GETPID, 0) == pid, "GETPID is the sleeper's: its operation was done for it");

	ctl(id, 1, SETVAL, 1);
	pid = fork();
	if (pid == 0)
		_exit(op1(id, 1, 0, 0) == 0 ? 0 : 1);
	await_count(id, 1, GETZCNT, 1);
	resv("GETZCNT with a sleeper", ctl(id, 1, GETZCNT, 0));
	res("SETVAL 0 wakes it", ctl(id, 1, SETVAL, 0));
	printf("zero waiter %s\n", wait_child(pid));

	/* A signal ends the wait with EINTR, even with SA_RESTART. */
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
		sigaction(SIGUSR1, &sa, NULL);
		long r = op1(id, 0, -1, 0);
		printf("child: interrupted semop %s\n", rstr(r));
		fflush(stdout);
		_exit(0);
	}
	await_count(id, 0, GETNCNT, 1);
	kill(pid, SIGUSR1);
	printf("child %s\n", wait_child(pid));
	resv("GETNCNT after", ctl(id, 0, GETNCNT, 0));

	/* Removal wakes sleepers with EIDRM. */
	pid = fork();
	if (pid == 0) {
		long r = op1(id, 0, -1, 0);
		printf("child: semop on a removed array %s\n", rstr(r));
		fflush(stdout);
		_exit(0);
	}
	await_count(id, 0, GETNCNT, 1);
	long r = ctl(id, 0, IPC_RMID, 0);
	printf("child %s\n", wait_child(pid));
	res("IPC_RMID with a sleeper", r); /* after the child's line: it may print first */
}

static void undo(void)
{
	printf("-- SEM_UNDO\n");
	long id = semget_(IPC_PRIVATE, 3, 0600);
	ctl(id, 1, SETVAL, 5);
	int fds[2], back[2];
	if (pipe(fds) || pipe(back))
		return;
	int pid = fork();
	if (pid == 0) {
		char c;
		op1(id, 0, 3, SEM_UNDO);
		op1(id, 1, -1, SEM_UNDO);
		op1(id, 2, 5, SEM_UNDO);
		write(back[1], "x", 1);
		read(fds[0], &c, 1);
		_exit(0);
	}
	char c;
	read(back[0], &c, 1);
	unsigned short all[3];
	ctl(id, 0, GETALL, (long)all);
	printf("while the child lives: %u %u %u\n", all[0], all[1], all[2]);
	op1(id, 2, -4, 0);
	write(fds[1], "x", 1);
	printf("child %s\n", wait_child(pid));
	ctl(id, 0, GETALL, (long)all);
	printf("after its exit: %u %u %u (the last one clamped at 0)\n", all[0], all[1], all[2]);

	/* A sleeper woken by the undo of another's exit. */
	pid = fork();
	if (pid == 0) {
		op1(id, 0, 1, SEM_UNDO);
		write(back[1], "x", 1);
		read(fds[0], &c, 1);
		_exit(0);
	}
	read(back[0], &c, 1);
	int zpid = fork();
	if (zpid == 0)
		_exit(op1(id, 0, 0, 0) == 0 ? 0 : 1);
	await_count(id, 0, GETZCNT, 1);
	resv("GETZCNT", ctl(id, 0, GETZCNT, 0));
	write(fds[1], "x", 1);
	printf("undoer %s\n", wait_child(pid));
	printf("zero waiter %s\n", wait_child(zpid));

	/* A process killed while holding: its adjustment is applied too. */
	ctl(id, 0, SETVAL, 1);
	pid = fork();
	if (pid == 0) {
		op1(id, 0, -1, SEM_UNDO);
		write(back[1], "x", 1);
		pause();
		_exit(0);
	}
	read(back[0], &c, 1);
	resv("held by the child", ctl(id, 0, GETVAL, 0));
	kill(pid, SIGKILL);
	printf("child %s\n", wait_child(pid));
	resv("after SIGKILL", ctl(id, 0, GETVAL, 0));

	/* SETVAL clears the adjustments. */
	pid = fork();
	if (pid == 0) {
		op1(id, 0, 2, SEM_UNDO);
		write(back[1], "x", 1);
		read(fds[0], &c, 1);
		_exit(0);
	}
	read(back[0], &c, 1);
	ctl(id, 0, SETVAL, 7);
	write(fds[1], "x", 1);
	printf("child %s\n", wait_child(pid));
	resv("value after SETVAL and the exit", ctl(id, 0, GETVAL, 0));
	res("SEM_UNDO past SEMVMX", op1(id, 1, 32767, SEM_UNDO));
	/* The adjustment itself must stay within [-SEMAEM-1, SEMAEM]. */
	ctl(id, 2, SETVAL, 0);
	op1(id, 2, 32767, 0);
	res("-32767 with SEM_UNDO", op1(id, 2, -32767, SEM_UNDO));
	op1(id, 2, 32767, 0);
	res("-1 more with SEM_UNDO (adjustment past SEMAEM)", op1(id, 2, -1, SEM_UNDO));
	res("-1 more without", op1(id, 2, -1, 0));
	resv("value", ctl(id, 2, GETVAL, 0));
	res("IPC_RMID", ctl(id, 0, IPC_RMID, 0));
}

/* clone(2) of a process (no CLONE_VM): returns twice, like fork. */
static long clone_proc(unsigned long flags)
{
	return rsys(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

static long val(long id) { return ctl(id, 0, GETVAL, 0); }

/* The exec'd child of undo_across_exec. */
static int exec_child(long id)
{
	return op1(id, 0, -1, SEM_UNDO) ? 1 : 0;
}

/* Processes made with CLONE_SYSVSEM share one list: the adjustments wait
 * for the last of them to leave. */
static void shared_undo(const char *self)
{
	printf("-- CLONE_SYSVSEM\n");
	long id = semget_(IPC_PRIVATE, 1, 0600);
	ctl(id, 0, SETVAL, 5);
	static const struct { const char *label; unsigned long flags; } kinds[] = {
		{ "a child with CLONE_SYSVSEM", CLONE_SYSVSEM }, { "a child without", 0 },
	};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		int pid = fork();
		if (pid == 0) {
			long c = clone_proc(kinds[k].flags);
			if (c == 0)
				_exit(op1(id, 0, -1, SEM_UNDO) ? 1 : 0);
			printf("%s: %s\n", kinds[k].label, wait_child((int)c));
			resv("  value after its exit", val(id));
			op1(id, 0, -1, SEM_UNDO);
			resv("  after the parent's own -1", val(id));
			fflush(stdout);
			_exit(0);
		}
		printf("  parent %s\n", wait_child(pid));
		resv("  value after the parent's exit", val(id));
	}

	/* The sharer that outlives the other: gone is open in it until its
	 * exit, which applies the adjustments before closing its files. */
	int go[2], gone[2];
	if (pipe(go) || pipe(gone))
		return;
	int pid = fork();
	if (pid == 0) {
		long c = clone_proc(CLONE_SYSVSEM);
		if (c == 0) {
			char ch;
			close(go[1]);
			read(go[0], &ch, 1);
			_exit(0);
		}
		_exit(op1(id, 0, -1, SEM_UNDO) ? 1 : 0);
	}
	close(gone[1]);
	printf("the sharer that leaves first: %s\n", wait_child(pid));
	resv("  value while the other one lives", val(id));
	char ch;
	write(go[1], "x", 1);
	resv("  the other one's end", read(gone[0], &ch, 1));
	resv("  value once it is gone", val(id));
	close(go[0]);
	close(go[1]);
	close(gone[0]);

	/* unshare(CLONE_SYSVSEM) leaves the shared list (applying nothing
	 * while another holds it) and starts a new one. */
	pid = fork();
	if (pid == 0) {
		long c = clone_proc(CLONE_SYSVSEM);
		if (c == 0) {
			op1(id, 0, -1, SEM_UNDO);
			long r = rsys(SYS_unshare, CLONE_SYSVSEM);
			long v = val(id);
			op1(id, 0, -1, SEM_UNDO);
			_exit(r ? 100 : (int)v); /* the value after the unshare */
		}
		printf("a sharer that unshares, then takes 1 more: %s (its exit code: the value after unshare)\n",
		       wait_child((int)c));
		resv("  value after its exit", val(id));
		fflush(stdout);
		_exit(0);
	}
	printf("  parent %s\n", wait_child(pid));
	resv("  value after the parent's exit", val(id));

	/* Alone, unshare applies the list at once, like an exit. */
	pid = fork();
	if (pid == 0) {
		op1(id, 0, -2, SEM_UNDO);
		resv("alone: value before unshare", val(id));
		res("  unshare(CLONE_SYSVSEM)", rsys(SYS_unshare, CLONE_SYSVSEM));
		resv("  value after it", val(id));
		op1(id, 0, -1, SEM_UNDO);
		resv("  after a -1 on a new list", val(id));
		fflush(stdout);
		_exit(0);
	}
	printf("  child %s\n", wait_child(pid));
	resv("  value after its exit", val(id));

	/* execve keeps the list. */
	pid = fork();
	if (pid == 0) {
		long c = clone_proc(CLONE_SYSVSEM);
		if (c == 0) {
			char ids[32];
			snprintf(ids, sizeof ids, "%ld", id);
			char *argv[] = { (char *)self, "--undo-child", ids, NULL };
			execv("/proc/self/exe", argv);
			_exit(127);
		}
		printf("a sharer that execs and takes 1: %s\n", wait_child((int)c));
		resv("  value after its exit", val(id));
		fflush(stdout);
		_exit(0);
	}
	printf("  parent %s\n", wait_child(pid));
	resv("  value after the parent's exit", val(id));
	res("IPC_RMID", ctl(id, 0, IPC_RMID, 0));
}

static long undo_id;

static void *pthread_undo(void *arg)
{
	op1(undo_id, 0, -1, SEM_UNDO);
	return NULL;
}

/* Raw system calls only: it shares our TLS. */
static int raw_thread_undo(void *arg)
{
	struct sembuf b = { 0, -1, SEM_UNDO };
	rsys(SYS_semop, undo_id, &b, 1);
	return 0;
}

/* Threads: pthread_create shares the list (CLONE_SYSVSEM), a thread made
 * without it has its own, applied at its exit. */
static void thread_undo(void)
{
	printf("-- threads\n");
	undo_id = semget_(IPC_PRIVATE, 1, 0600);
	ctl(undo_id, 0, SETVAL, 5);
	int pid = fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, pthread_undo, NULL);
		pthread_join(t, NULL);
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
		resv("a pthread's -1, after its end", val(undo_id));
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	resv("value after the process's exit", val(undo_id));

	pid = fork();
	if (pid == 0) {
		size_t size = 64 * 1024;
		char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int tid = clone(raw_thread_undo, stack + size,
				CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, NULL);
		expect(tid > 0, "clone of a thread without CLONE_SYSVSEM");
		long v = val(undo_id);
		for (int i = 0; i < 5000 && v != 5; i++) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			v = val(undo_id);
		}
		resv("its -1, once it is gone", v);
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	resv("value after the process's exit", val(undo_id));
	res("IPC_RMID", ctl(undo_id, 0, IPC_RMID, 0));
}

static void other_user(void)
{
	printf("-- another user\n");
	long id = semget_(IPC_PRIVATE, 1, 0604);
	int pid = fork();
	if (pid == 0) {
		become_nobody();
		struct semid_ds ds;
		printf("IPC_STAT: %s\n", rstr(ctl(id, 0, IPC_STAT, (long)&ds)));
		printf("GETVAL: %s\n", rstr(ctl(id, 0, GETVAL, 0)));
		printf("SETVAL: %s\n", rstr(ctl(id, 0, SETVAL, 1)));
		printf("semop +1: %s\n", rstr(op1(id, 0, 1, 0)));
		printf("semop wait for zero: %s\n", rstr(op1(id, 0, 0, IPC_NOWAIT)));
		printf("IPC_RMID: %s\n", rstr(ctl(id, 0, IPC_RMID, 0)));
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--undo-child"))
		return exec_child(atol(argv[2]));
	setvbuf(stdout, NULL, _IOLBF, 0);
	basics();
	operations();
	undo();
	shared_undo(argv[0]);
	thread_undo();
	other_user();
	return expect_failures ? 1 : 0;
}
