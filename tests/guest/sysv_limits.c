/* SysV IPC limits in /proc/sys/kernel (shmmax, shmall, shmmni,
 * shm_rmid_forced, msgmax, msgmnb, msgmni, sem): their format, Linux's
 * parser and errors on writes, who may write them, their effect on
 * shmget, shmat, msgget, msgsnd, msgrcv, msgctl, semget, semop and the
 * *_INFO commands, shm_rmid_forced's removals; and SHM_LOCK's accounting
 * against RLIMIT_MEMLOCK.
 *
 * The limits belong to the IPC namespace, so a native run must never
 * write the host's: as root the test first moves into an IPC namespace
 * of its own (unshare(CLONE_NEWIPC); a new namespace starts with Linux's
 * defaults, and goes with the test with everything in it). Under cocoon
 * that unshare is refused, and the sandbox is a namespace of its own
 * anyway, also starting with the defaults. A native root that cannot get
 * a namespace of its own writes nothing and fails. Without root the
 * writes are refused (the files are root's, 0644); only the checks that
 * need no writes run, and nothing depends on what other users' processes
 * hold (tests run in parallel, several as the same uid). */
#include "sysv_util.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

static const char *const sysctl_names[] = {
	"shmmax", "shmall", "shmmni", "shm_rmid_forced", "msgmax", "msgmnb", "msgmni", "sem",
};

static void sysctl_path(char *path, size_t size, const char *name)
{
	snprintf(path, size, "/proc/sys/kernel/%s", name);
}

/* text with its control characters visible (\n, \t, \xNN). */
static const char *visible(const char *text, size_t n)
{
	static char out[4][128];
	static int which;
	char *o = out[which++ % 4];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' || c == '\t')
			k += (size_t)sprintf(o + k, "\\%c", c == '\n' ? 'n' : 't');
		else if (c < ' ' || c >= 0x7f)
			k += (size_t)sprintf(o + k, "\\x%02x", c);
		else
			o[k++] = (char)c;
	}
	o[k] = '\0';
	return o;
}

/* What the file reads now, visible. */
static const char *sysctl_get(const char *name)
{
	char path[64], buf[128];
	sysctl_path(path, sizeof path, name);
	long fd = rsys(SYS_open, path, O_RDONLY);
	if (fd < 0)
		return errname((int)-fd);
	long n = rsys(SYS_read, fd, buf, sizeof buf);
	rsys(SYS_close, fd);
	return n < 0 ? errname((int)-n) : visible(buf, (size_t)n);
}

/* One write of text through a new fd: the raw result. */
static long sysctl_write(const char *name, const char *text)
{
	char path[64];
	sysctl_path(path, sizeof path, name);
	long fd = rsys(SYS_open, path, O_WRONLY);
	if (fd < 0)
		return fd;
	long r = rsys(SYS_write, fd, text, strlen(text));
	rsys(SYS_close, fd);
	return r;
}

/* A write whose result and effect are printed. */
static void try_write(const char *name, const char *text)
{
	long r = sysctl_write(name, text);
	printf("%s <- \"%s\": ", name, visible(text, strlen(text)));
	if (r < 0)
		printf("%s", errname((int)-r));
	else
		printf("%ld of %zu", r, strlen(text));
	printf(" | %s\n", sysctl_get(name));
}

/* A write that must take. */
static void set(const char *name, const char *text)
{
	long r = sysctl_write(name, text);
	expect(r == (long)strlen(text), "%s set to %s (%s)", name, text, rstr(r));
}

static void set_int(const char *name, long v)
{
	char text[32];
	snprintf(text, sizeof text, "%ld", v);
	set(name, text);
}

static void restore_defaults(void)
{
	set("shmmax", "18446744073692774399");
	set("shmall", "18446744073692774399");
	set("shmmni", "4096");
	set("shm_rmid_forced", "0");
	set("msgmax", "8192");
	set("msgmnb", "16384");
	set("msgmni", "32000");
	set("sem", "32000 1024000000 500 32000");
}

static long shmget_(int key, size_t size, int flags)
{
	long id = rsys(SYS_shmget, key, size, flags);
	if (id >= 0)
		ipc_track(IPC_KIND_SHM, id);
	return id;
}

static long msgget_(int flags)
{
	long id = rsys(SYS_msgget, IPC_PRIVATE, flags);
	if (id >= 0)
		ipc_track(IPC_KIND_MSG, id);
	return id;
}

static long semget_(int nsems)
{
	long id = rsys(SYS_semget, IPC_PRIVATE, nsems, 0600);
	if (id >= 0)
		ipc_track(IPC_KIND_SEM, id);
	return id;
}

static bool is_err(long r) { return r < 0 && r >= -4095; }

/* cocoon's /proc/cmdline: the sandbox has no kernel command line. */
static bool in_sandbox(void)
{
	char buf[64] = "";
	FILE *f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			buf[0] = '\0';
		fclose(f);
	}
	return !strcmp(buf, "cocoon\n");
}

/* ---- the files -------------------------------------------------------------- */

static void formats(void)
{
	printf("-- the files\n");
	for (size_t i = 0; i < sizeof sysctl_names / sizeof sysctl_names[0]; i++) {
		char path[64];
		struct stat st;
		sysctl_path(path, sizeof path, sysctl_names[i]);
		int r = stat(path, &st);
		printf("%s: %s", sysctl_names[i], sysctl_get(sysctl_names[i]));
		if (r)
			printf(" (stat %s)\n", errname(errno));
		else
			printf(" (%o, uid %d, size %ld)\n", (unsigned)st.st_mode, (int)st.st_uid, (long)st.st_size);
	}
}

/* Linux's parser: C notation, white space, a short write for what is
 * left over, EINVAL and its partial effects, semmni's ERANGE. */
static void parsing(void)
{
	printf("-- writes\n");
	static const char *const msgmni[] = {
		"100", " 200 ", "010", "0x20", "0X1f", "-1", "32768", "32769", "1 2", "  ", "12a", "+5",
		"5\n", "00000000000000000000000005", "0000000000000000006", "5,6", "5\t", "0x", "09",
		"\n7\n\n", "-0", "-", "8\v", "\v\f\r9", "\xa0" "10", "1 2 3 4 5 6 7 8 9",
	};
	for (size_t i = 0; i < sizeof msgmni / sizeof msgmni[0]; i++)
		try_write("msgmni", msgmni[i]);
	res("msgmni <- nothing", sysctl_write("msgmni", ""));
	static const char *const shmmax[] = {
		"-1", "18446744073709551615", "18446744073709551616", "0", "1 2", "0xffffffffffffffff",
		"99999999999999999999", "077",
	};
	for (size_t i = 0; i < sizeof shmmax / sizeof shmmax[0]; i++)
		try_write("shmmax", shmmax[i]);
	try_write("shmall", "4096");
	static const char *const shmmni[] = { "0", "32768", "32769", "-5" };
	for (size_t i = 0; i < sizeof shmmni / sizeof shmmni[0]; i++)
		try_write("shmmni", shmmni[i]);
	static const char *const forced[] = { "2", "-1", "1", "0" };
	for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++)
		try_write("shm_rmid_forced", forced[i]);
	static const char *const msgmax[] = { "-0", "2147483648", "2147483647", "-2147483648" };
	for (size_t i = 0; i < sizeof msgmax / sizeof msgmax[0]; i++)
		try_write("msgmax", msgmax[i]);
	try_write("msgmnb", "3 x");
	static const char *const sem[] = {
		"1 2 3", "1 2 3 4 5", "250 32000 32 40000", "-5 -6 -7 8", "7 8 x", "1 2 3 -1",
		"1\t2\t3\t4\n", "-2147483648 2147483647 0 0", "2147483648",
	};
	for (size_t i = 0; i < sizeof sem / sizeof sem[0]; i++)
		try_write("sem", sem[i]);
	restore_defaults();
}

/* Where a write lands: only at offset 0 (sysctl_writes_strict), later
 * ones move the position and are ignored. */
static void positions(void)
{
	printf("-- write positions\n");
	long fd = rsys(SYS_open, "/proc/sys/kernel/msgmni", O_RDWR);
	resv("write \"1 2\\n\"", rsys(SYS_write, fd, "1 2\n", 4));
	printf("msgmni: %s\n", sysctl_get("msgmni"));
	resv("write \"2\\n\" at 2", rsys(SYS_write, fd, "2\n", 2));
	printf("msgmni: %s\n", sysctl_get("msgmni"));
	resv("pwrite \"7\" at 0", rsys(SYS_pwrite64, fd, "7", 1, 0));
	resv("pwrite \"9\" at 5", rsys(SYS_pwrite64, fd, "9", 1, 5));
	printf("msgmni: %s\n", sysctl_get("msgmni"));
	rsys(SYS_lseek, fd, 0, SEEK_SET);
	char buf[8];
	resv("read 3", rsys(SYS_read, fd, buf, 3));
	resv("write \"11\" after it", rsys(SYS_write, fd, "11", 2));
	printf("msgmni: %s\n", sysctl_get("msgmni"));
	rsys(SYS_close, fd);
	set("msgmni", "32000");
}

/* Writes need euid 0, at open and at write; capabilities do not count. */
static void who_writes(void)
{
	printf("-- who writes\n");
	int pid = fork();
	if (pid == 0) {
		/* Root without capabilities still writes (uid-based, like Linux). */
		struct { uint32_t version; int pid; } h = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
		struct { uint32_t effective, permitted, inheritable; } d[2] = { { 0 } };
		res("capset: none", rsys(SYS_capset, &h, d));
		res("write msgmni as root without capabilities", sysctl_write("msgmni", "77"));
		printf("msgmni: %s\n", sysctl_get("msgmni"));
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	pid = fork();
	if (pid == 0) {
		long fd = rsys(SYS_open, "/proc/sys/kernel/msgmni", O_WRONLY);
		become_nobody();
		res("write through root's fd after setuid", rsys(SYS_write, fd, "78", 2));
		for (size_t i = 0; i < sizeof sysctl_names / sizeof sysctl_names[0]; i++) {
			char path[64], label[96];
			sysctl_path(path, sizeof path, sysctl_names[i]);
			snprintf(label, sizeof label, "open %s for writing as nobody", sysctl_names[i]);
			long f = rsys(SYS_open, path, O_WRONLY);
			res(label, f);
			if (f >= 0)
				rsys(SYS_close, f);
		}
		printf("msgmni: %s\n", sysctl_get("msgmni"));
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	set("msgmni", "32000");
}

/* ---- shm -------------------------------------------------------------------- */

static struct shm_info shm_usage(void)
{
	struct shm_info si;
	memset(&si, 0, sizeof si);
	rsys(SYS_shmctl, 0, SHM_INFO, &si);
	return si;
}

static void shm_info_line(void)
{
	struct shminfo in;
	memset(&in, 0, sizeof in);
	long r = rsys(SYS_shmctl, 0, IPC_INFO, &in);
	printf("IPC_INFO: %s shmmax %lu shmall %lu shmmni %lu shmseg %lu shmmin %lu\n", r < 0 ? rstr(r) : "ok",
	       (unsigned long)in.shmmax, (unsigned long)in.shmall, (unsigned long)in.shmmni,
	       (unsigned long)in.shmseg, (unsigned long)in.shmmin);
}

static void shm_limits(void)
{
	printf("-- shmmax, shmall, shmmni\n");
	set("shmmax", "8192");
	shm_info_line();
	res("shmget 8193 bytes", shmget_(IPC_PRIVATE, 8193, 0600));
	long a = shmget_(IPC_PRIVATE, 8192, 0600);
	res("shmget 8192 bytes", a);
	set("shmmax", "4096");
	int key = ipc_key(1);
	long k = shmget_(key, 4096, IPC_CREAT | 0600);
	set("shmmax", "100");
	expect(shmget_(key, 4096, 0) == k, "an existing segment is found past shmmax");
	set("shmmax", "18446744073692774399");

	/* shmall counts pages of every segment. */
	unsigned long tot = shm_usage().shm_tot;
	set_int("shmall", (long)tot + 3);
	res("shmget 2 pages", shmget_(IPC_PRIVATE, 2 * PAGE, 0600));
	res("shmget 2 more pages", shmget_(IPC_PRIVATE, 2 * PAGE, 0600));
	res("shmget 1 more page", shmget_(IPC_PRIVATE, 100, 0600));
	res("shmget 1 page past shmall", shmget_(IPC_PRIVATE, 1, 0600));
	set("shmall", "0");
	res("shmget with shmall 0", shmget_(IPC_PRIVATE, 1, 0600));
	set("shmall", "18446744073692774399");

	/* shmmni counts segments. */
	int used = shm_usage().used_ids;
	set_int("shmmni", used + 2);
	shm_info_line();
	res("shmget one", shmget_(IPC_PRIVATE, 1, 0600));
	res("shmget two", shmget_(IPC_PRIVATE, 1, 0600));
	res("shmget three", shmget_(IPC_PRIVATE, 1, 0600));
	res("the key still finds its segment", shmget_(key, 0, 0) == k ? 0 : -1);
	set("shmmni", "0");
	res("shmget with shmmni 0", shmget_(IPC_PRIVATE, 1, 0600));
	struct shmid_ds ds;
	res("the older ones stay", rsys(SYS_shmctl, a, IPC_STAT, &ds));
	set("shmmni", "4096");
	res("shmget again", shmget_(IPC_PRIVATE, 1, 0600));
	shm_info_line();
}

/* shm_rmid_forced: a segment goes as soon as nobody uses it and its
 * maker is gone, or at once when the flag is set. */
static long made_by_child(bool attach)
{
	int fds[2];
	if (pipe(fds))
		return -EPIPE;
	int pid = fork();
	if (pid == 0) {
		long id = rsys(SYS_shmget, IPC_PRIVATE, PAGE, 0600);
		if (attach && id >= 0) {
			long at = rsys(SYS_shmat, id, 0, 0);
			expect(!is_err(at), "the child attaches");
		}
		rsys(SYS_write, fds[1], &id, sizeof id);
		_exit(0);
	}
	long id = -1;
	if (read(fds[0], &id, sizeof id) != sizeof id)
		id = -EPIPE;
	close(fds[0]);
	close(fds[1]);
	printf("maker %s\n", wait_child(pid));
	ipc_track(IPC_KIND_SHM, id);
	return id;
}

static void rmid_forced(void)
{
	printf("-- shm_rmid_forced\n");
	struct shmid_ds ds;
	set("shm_rmid_forced", "1");
	long id = shmget_(IPC_PRIVATE, PAGE, 0600);
	long at = rsys(SYS_shmat, id, 0, 0);
	res("IPC_STAT while attached", rsys(SYS_shmctl, id, IPC_STAT, &ds));
	res("shmdt", rsys(SYS_shmdt, at));
	res("IPC_STAT after the last detach", rsys(SYS_shmctl, id, IPC_STAT, &ds));

	long mine = shmget_(IPC_PRIVATE, PAGE, 0600);
	res("one of ours, never attached", rsys(SYS_shmctl, mine, IPC_STAT, &ds));
	long orphan = made_by_child(false);
	res("a child's, after the child's exit", rsys(SYS_shmctl, orphan, IPC_STAT, &ds));
	orphan = made_by_child(true);
	res("a child's it attached, after the child's exit", rsys(SYS_shmctl, orphan, IPC_STAT, &ds));

	/* A failed shmat lets go of it too. */
	id = shmget_(IPC_PRIVATE, PAGE, 0600);
	void *busy = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	res("shmat over a mapping without SHM_REMAP", rsys(SYS_shmat, id, busy, 0));
	res("IPC_STAT after it", rsys(SYS_shmctl, id, IPC_STAT, &ds));
	munmap(busy, PAGE);

	set("shm_rmid_forced", "0");
	orphan = made_by_child(false);
	res("with 0, a child's after its exit", rsys(SYS_shmctl, orphan, IPC_STAT, &ds));
	long attached_orphan = made_by_child(false);
	at = rsys(SYS_shmat, attached_orphan, 0, 0);
	set("shm_rmid_forced", "1");
	res("setting 1 removes the unused orphan", rsys(SYS_shmctl, orphan, IPC_STAT, &ds));
	res("an orphan we still use stays", rsys(SYS_shmctl, attached_orphan, IPC_STAT, &ds));
	res("ours stays", rsys(SYS_shmctl, mine, IPC_STAT, &ds));
	res("shmdt of the orphan", rsys(SYS_shmdt, at));
	res("it went with the detach", rsys(SYS_shmctl, attached_orphan, IPC_STAT, &ds));
	set("shm_rmid_forced", "0");
	res("ours after all that", rsys(SYS_shmctl, mine, IPC_STAT, &ds));
}

/* ---- msg -------------------------------------------------------------------- */

struct msgbuf_ {
	long type;
	char text[512];
};

static void msg_info_lines(void)
{
	struct msginfo mi;
	memset(&mi, 0, sizeof mi);
	rsys(SYS_msgctl, 0, IPC_INFO, &mi);
	printf("IPC_INFO: max %d mnb %d mni %d pool %d map %d tql %d\n", mi.msgmax, mi.msgmnb, mi.msgmni,
	       mi.msgpool, mi.msgmap, mi.msgtql);
	memset(&mi, 0, sizeof mi);
	rsys(SYS_msgctl, 0, MSG_INFO, &mi);
	printf("MSG_INFO: max %d mnb %d mni %d\n", mi.msgmax, mi.msgmnb, mi.msgmni);
}

static long qbytes(long id)
{
	struct msqid_ds ds;
	long r = rsys(SYS_msgctl, id, IPC_STAT, &ds);
	return r < 0 ? r : (long)ds.msg_qbytes;
}

static long qnum(long id)
{
	struct msqid_ds ds;
	long r = rsys(SYS_msgctl, id, IPC_STAT, &ds);
	return r < 0 ? r : (long)ds.msg_qnum;
}

static void settle(void) { struct timespec ts = { 0, 200000000 }; nanosleep(&ts, NULL); }

static void msg_limits(void)
{
	printf("-- msgmni, msgmax, msgmnb\n");
	struct msgbuf_ m = { .type = 1 };
	struct msginfo mi;
	memset(&mi, 0, sizeof mi);
	rsys(SYS_msgctl, 0, MSG_INFO, &mi);
	set_int("msgmni", mi.msgpool + 1);
	long q = msgget_(0600);
	res("msgget one", q);
	res("msgget past msgmni", msgget_(0600));
	set("msgmni", "32000");

	set("msgmax", "100");
	msg_info_lines();
	res("msgsnd 101 bytes", rsys(SYS_msgsnd, q, &m, 101, IPC_NOWAIT));
	res("msgsnd 100 bytes", rsys(SYS_msgsnd, q, &m, 100, IPC_NOWAIT));
	set("msgmax", "50");
	/* MSG_COPY copies at most msgmax. */
	res("MSG_COPY of 100 bytes with msgmax 50", rsys(SYS_msgrcv, q, &m, 200, 0, MSG_COPY | IPC_NOWAIT));
	set("msgmax", "8192");
	resv("MSG_COPY with msgmax 8192", rsys(SYS_msgrcv, q, &m, 200, 0, MSG_COPY | IPC_NOWAIT));

	set("msgmnb", "200");
	msg_info_lines();
	long small = msgget_(0600);
	resv("a new queue's msg_qbytes", qbytes(small));
	resv("an older one's", qbytes(q));
	res("msgsnd 150 bytes", rsys(SYS_msgsnd, small, &m, 150, IPC_NOWAIT));
	res("msgsnd 100 more, IPC_NOWAIT", rsys(SYS_msgsnd, small, &m, 100, IPC_NOWAIT));
	int pid = fork();
	if (pid == 0) {
		long r = rsys(SYS_msgsnd, small, &m, 100, 0);
		_exit(r ? 1 : 0);
	}
	settle();
	resv("messages while a sender waits", qnum(small));
	resv("msgrcv", rsys(SYS_msgrcv, small, &m, sizeof m.text, 0, 0));
	printf("sender %s\n", wait_child(pid));
	resv("messages after", qnum(small));

	/* msg_qbytes also bounds the number of messages. */
	set("msgmnb", "2");
	long tiny = msgget_(0600);
	res("empty message 1", rsys(SYS_msgsnd, tiny, &m, 0, IPC_NOWAIT));
	res("empty message 2", rsys(SYS_msgsnd, tiny, &m, 0, IPC_NOWAIT));
	res("empty message 3", rsys(SYS_msgsnd, tiny, &m, 0, IPC_NOWAIT));

	/* IPC_SET above msgmnb needs CAP_SYS_RESOURCE. */
	set("msgmnb", "200");
	struct msqid_ds ds;
	rsys(SYS_msgctl, small, IPC_STAT, &ds);
	ds.msg_qbytes = 1000;
	res("IPC_SET msg_qbytes 1000 as root", rsys(SYS_msgctl, small, IPC_SET, &ds));
	ds.msg_perm.uid = 65534;
	ds.msg_qbytes = 200;
	res("IPC_SET: nobody owns it", rsys(SYS_msgctl, small, IPC_SET, &ds));
	pid = fork();
	if (pid == 0) {
		become_nobody();
		struct msqid_ds d;
		rsys(SYS_msgctl, small, IPC_STAT, &d);
		d.msg_qbytes = 201;
		res("IPC_SET msg_qbytes 201 as nobody", rsys(SYS_msgctl, small, IPC_SET, &d));
		d.msg_qbytes = 200;
		res("IPC_SET msg_qbytes 200 as nobody", rsys(SYS_msgctl, small, IPC_SET, &d));
		d.msg_qbytes = 150;
		res("IPC_SET msg_qbytes 150 as nobody", rsys(SYS_msgctl, small, IPC_SET, &d));
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	resv("msg_qbytes now", qbytes(small));
	set("msgmnb", "16384");
}

/* ---- sem -------------------------------------------------------------------- */

static void sem_info_lines(void)
{
	struct seminfo si;
	memset(&si, 0, sizeof si);
	rsys(SYS_semctl, 0, 0, IPC_INFO, &si);
	printf("IPC_INFO: msl %d mns %d opm %d mni %d map %d mnu %d ume %d vmx %d\n", si.semmsl, si.semmns,
	       si.semopm, si.semmni, si.semmap, si.semmnu, si.semume, si.semvmx);
	memset(&si, 0, sizeof si);
	rsys(SYS_semctl, 0, 0, SEM_INFO, &si);
	printf("SEM_INFO: msl %d mns %d opm %d mni %d\n", si.semmsl, si.semmns, si.semopm, si.semmni);
}

static void sem_limits(void)
{
	printf("-- sem: semmsl, semmns, semopm, semmni\n");
	struct seminfo si;
	memset(&si, 0, sizeof si);
	rsys(SYS_semctl, 0, 0, SEM_INFO, &si);
	int arrays = si.semusz, sems = si.semaem;
	char text[64];
	snprintf(text, sizeof text, "5 %d 3 %d", sems + 12, arrays + 3);
	set("sem", text);
	sem_info_lines();
	res("semget 6", semget_(6));
	long a = semget_(5);
	res("semget 5", a);
	res("semget 5 more", semget_(5));
	res("semget 3 more, past semmns", semget_(3));
	res("semget 2 more", semget_(2));
	snprintf(text, sizeof text, "5 %d 3 %d", sems + 100, arrays + 3);
	set("sem", text);
	res("semget past semmni", semget_(1));

	struct sembuf ops[5] = { { 0, 1, 0 }, { 1, 1, 0 }, { 2, 1, 0 }, { 3, 1, 0 }, { 4, 1, 0 } };
	res("semop 4 operations", rsys(SYS_semop, a, ops, 4));
	res("semop 3 operations", rsys(SYS_semop, a, ops, 3));
	struct timespec ts = { 1, 0 };
	res("semtimedop 4 operations", rsys(SYS_semtimedop, a, ops, 4, &ts));
	snprintf(text, sizeof text, "5 %d 0 %d", sems + 100, arrays + 10);
	set("sem", text);
	res("semop 1 operation with semopm 0", rsys(SYS_semop, a, ops, 1));
	/* Linux compares the count unsigned: a negative semopm is no limit. */
	snprintf(text, sizeof text, "5 %d -1 %d", sems + 100, arrays + 10);
	set("sem", text);
	res("semop 5 operations with semopm -1", rsys(SYS_semop, a, ops, 5));
	res("semop 0 operations with semopm -1", rsys(SYS_semop, a, ops, 0));
	set("sem", "-1 1024000000 500 32000");
	res("semget 1 with semmsl -1", semget_(1));
	res("semget 0 with semmsl -1", semget_(0));
	set("sem", "32000 1024000000 500 32000");
	sem_info_lines();
}

/* ---- SHM_LOCK's accounting --------------------------------------------------- */

static const char *mode_of(long id)
{
	static char buf[16];
	struct shmid_ds ds;
	long r = rsys(SYS_shmctl, id, IPC_STAT, &ds);
	if (r < 0)
		return errname((int)-r);
	snprintf(buf, sizeof buf, "%o", (unsigned)ds.shm_perm.mode);
	return buf;
}

static void memlock(rlim_t bytes)
{
	struct rlimit rl;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	rl.rlim_cur = bytes;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		printf("setrlimit: %s\n", errname(errno));
}

/* As root: a child of a uid nobody else has (the count is the user's,
 * host-wide natively), with 3 pages of RLIMIT_MEMLOCK. */
static void lock_accounting(void)
{
	printf("-- SHM_LOCK: the user's locked pages against RLIMIT_MEMLOCK\n");
	long roots = shmget_(IPC_PRIVATE, PAGE, 0666);
	int pid = fork();
	if (pid == 0) {
		uid_t u = 200000 + (uid_t)getpid();
		struct rlimit rl = { 3 * PAGE, 3 * PAGE };
		setrlimit(RLIMIT_MEMLOCK, &rl);
		setgroups(0, NULL);
		if (setresgid(u, u, u) || setresuid(u, u, u))
			printf("NO: setresuid\n");
		long a = rsys(SYS_shmget, IPC_PRIVATE, 2 * PAGE, 0600);
		long b = rsys(SYS_shmget, IPC_PRIVATE, 2 * PAGE - 100, 0600);
		res("SHM_LOCK a (2 pages of 3)", rsys(SYS_shmctl, a, SHM_LOCK, 0));
		printf("a's mode: %s\n", mode_of(a));
		res("SHM_LOCK a again", rsys(SYS_shmctl, a, SHM_LOCK, 0));
		res("SHM_LOCK b (2 more)", rsys(SYS_shmctl, b, SHM_LOCK, 0));
		printf("b's mode: %s\n", mode_of(b));
		int gpid = fork();
		if (gpid == 0) {
			/* Another process of the same user: the same count. */
			long c = rsys(SYS_shmget, IPC_PRIVATE, 2 * PAGE, 0600);
			res("another process's SHM_LOCK of 2 pages", rsys(SYS_shmctl, c, SHM_LOCK, 0));
			long d = rsys(SYS_shmget, IPC_PRIVATE, PAGE, 0600);
			res("another process's SHM_LOCK of 1 page", rsys(SYS_shmctl, d, SHM_LOCK, 0));
			rsys(SYS_shmctl, c, IPC_RMID, 0);
			rsys(SYS_shmctl, d, IPC_RMID, 0);
			fflush(stdout);
			_exit(0);
		}
		printf("the other process %s\n", wait_child(gpid));
		res("SHM_UNLOCK a", rsys(SYS_shmctl, a, SHM_UNLOCK, 0));
		printf("a's mode: %s\n", mode_of(a));
		res("SHM_LOCK b", rsys(SYS_shmctl, b, SHM_LOCK, 0));
		res("SHM_UNLOCK a, not locked", rsys(SYS_shmctl, a, SHM_UNLOCK, 0));
		sysvipc_show("shm", b, (const int[]){ 3, 4 }, 2);
		res("IPC_RMID b", rsys(SYS_shmctl, b, IPC_RMID, 0));
		res("SHM_LOCK a once b is gone", rsys(SYS_shmctl, a, SHM_LOCK, 0));
		memlock(0);
		res("SHM_LOCK a with RLIMIT_MEMLOCK 0", rsys(SYS_shmctl, a, SHM_LOCK, 0));
		res("SHM_UNLOCK a with RLIMIT_MEMLOCK 0", rsys(SYS_shmctl, a, SHM_UNLOCK, 0));
		memlock(3 * PAGE);
		res("SHM_LOCK of root's segment", rsys(SYS_shmctl, roots, SHM_LOCK, 0));
		res("SHM_UNLOCK of root's segment", rsys(SYS_shmctl, roots, SHM_UNLOCK, 0));
		rsys(SYS_shmctl, a, IPC_RMID, 0);
		fflush(stdout);
		_exit(expect_failures);
	}
	printf("child %s\n", wait_child(pid));
	res("root's SHM_LOCK (CAP_IPC_LOCK)", rsys(SYS_shmctl, roots, SHM_LOCK, 0));
	printf("its mode: %s\n", mode_of(roots));
}

/* ---- without root ---------------------------------------------------------- */

/* Only what does not depend on other processes of the same user. */
static void unprivileged(void)
{
	printf("-- without root\n");
	for (size_t i = 0; i < sizeof sysctl_names / sizeof sysctl_names[0]; i++) {
		char label[64];
		snprintf(label, sizeof label, "write %s", sysctl_names[i]);
		res(label, sysctl_write(sysctl_names[i], "1"));
	}
	long q = msgget_(0600);
	struct msqid_ds ds;
	rsys(SYS_msgctl, q, IPC_STAT, &ds);
	ds.msg_qbytes = 16385;
	res("IPC_SET msg_qbytes past msgmnb", rsys(SYS_msgctl, q, IPC_SET, &ds));
	ds.msg_qbytes = 16384;
	res("IPC_SET msg_qbytes at msgmnb", rsys(SYS_msgctl, q, IPC_SET, &ds));

	long one = shmget_(IPC_PRIVATE, PAGE, 0600), two = shmget_(IPC_PRIVATE, 2 * PAGE, 0600);
	struct rlimit rl;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	memlock(0);
	res("SHM_LOCK with RLIMIT_MEMLOCK 0", rsys(SYS_shmctl, one, SHM_LOCK, 0));
	memlock(PAGE);
	res("SHM_LOCK of 2 pages with 1 page of RLIMIT_MEMLOCK", rsys(SYS_shmctl, two, SHM_LOCK, 0));
	printf("its mode: %s\n", mode_of(two));
	memlock(rl.rlim_max);
	res("SHM_LOCK of 1 page with the hard limit", rsys(SYS_shmctl, one, SHM_LOCK, 0));
	printf("its mode: %s\n", mode_of(one));
	res("SHM_UNLOCK", rsys(SYS_shmctl, one, SHM_UNLOCK, 0));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	bool root = geteuid() == 0;
	if (root) {
		long r = rsys(SYS_unshare, CLONE_NEWIPC);
		if (r && !in_sandbox()) {
			printf("NO: no IPC namespace of our own (%s): the host's limits are left alone\n", errname((int)-r));
			return 1;
		}
	}
	formats();
	if (!root) {
		unprivileged();
		return expect_failures ? 1 : 0;
	}
	parsing();
	positions();
	who_writes();
	shm_limits();
	rmid_forced();
	msg_limits();
	sem_limits();
	lock_accounting();
	formats();
	return expect_failures ? 1 : 0;
}
