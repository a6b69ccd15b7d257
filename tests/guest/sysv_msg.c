/* SysV message queues: keys, the errno table, message selection by type
 * (0, >0, <0, MSG_EXCEPT), MSG_NOERROR and E2BIG, MSG_COPY, queue limits
 * (msg_qbytes), IPC_STAT counters, a receiver blocked in one process and
 * served by another's send, a sender blocked on a full queue, EINTR
 * after a handler, EIDRM. */
#include "sysv_util.h"
#include <sys/msg.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct mbuf {
	long type;
	char text[16384];
};

static long msgget_(int key, int flags)
{
	long id = rsys(SYS_msgget, key, flags);
	if (id >= 0)
		ipc_track(IPC_KIND_MSG, id);
	return id;
}

static long snd(long id, long type, const char *text, int flags)
{
	static struct mbuf b;
	b.type = type;
	size_t n = strlen(text);
	memcpy(b.text, text, n);
	return rsys(SYS_msgsnd, id, &b, n, flags);
}

/* Children write their lines here; the parent prints them after the
 * child is gone, so the output's order does not depend on timing. */
static char *notes;
static int note_slot; /* each child of a pair writes its own half */

static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *slot = notes + note_slot * 2048;
	size_t n = strlen(slot);
	vsnprintf(slot + n, 2048 - n, fmt, ap);
	va_end(ap);
}

static void print_notes(void)
{
	fputs(notes, stdout);
	fputs(notes + 2048, stdout);
	notes[0] = notes[2048] = 0;
}

/* Receive and report "label: type text" or the errno. */
static void rcv_to(void (*out)(const char *, ...), const char *label, long id, size_t size, long type, int flags)
{
	static struct mbuf b;
	memset(&b, 0, sizeof b);
	long r = rsys(SYS_msgrcv, id, &b, size, type, flags);
	if (r < 0)
		out("%s: %s\n", label, errname((int)-r));
	else
		out("%s: %ld bytes, type %ld \"%.*s\"\n", label, r, b.type, (int)r, b.text);
}

static void print_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

#define rcv(...) rcv_to(print_, __VA_ARGS__)
#define child_rcv(...) rcv_to(note, __VA_ARGS__)

static void stat_line(long id)
{
	struct msqid_ds ds;
	long r = rsys(SYS_msgctl, id, IPC_STAT, &ds);
	if (r < 0)
		printf("IPC_STAT: %s\n", errname((int)-r));
	else
		printf("qnum %lu cbytes %lu qbytes %lu\n", (unsigned long)ds.msg_qnum,
		       (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes);
}

static void on_usr1(int sig) { }

/* Give a child time to block (the results do not depend on it, except
 * where said). */
static void settle(void) { struct timespec ts = { 0, 200000000 }; nanosleep(&ts, NULL); }

static void basics(void)
{
	printf("-- msgget and msgctl\n");
	int key = ipc_key(1);
	res("missing key", msgget_(key, 0600));
	long id = msgget_(key, IPC_CREAT | 0640);
	res("create", id);
	expect(msgget_(key, 0) == id, "the key finds it");
	res("IPC_CREAT|IPC_EXCL", msgget_(key, IPC_CREAT | IPC_EXCL | 0600));
	struct msqid_ds ds;
	res("IPC_STAT", rsys(SYS_msgctl, id, IPC_STAT, &ds));
	printf("mode %o qnum %lu qbytes %lu lspid %d lrpid %d stime %ld rtime %ld\n", (unsigned)ds.msg_perm.mode,
	       (unsigned long)ds.msg_qnum, (unsigned long)ds.msg_qbytes, (int)ds.msg_lspid, (int)ds.msg_lrpid,
	       (long)ds.msg_stime, (long)ds.msg_rtime);
	expect(ds.msg_ctime > 0 && ds.msg_perm.__key == key, "ctime and key");
	res("IPC_STAT to a bad buffer", rsys(SYS_msgctl, id, IPC_STAT, 8));
	res("stale id", rsys(SYS_msgctl, id + 32768, IPC_STAT, &ds));
	res("negative id", rsys(SYS_msgctl, -1, IPC_STAT, &ds));
	res("unknown command", rsys(SYS_msgctl, id, 99, &ds));
	expect(rsys(SYS_msgctl, id & 0x7fff, MSG_STAT, &ds) == id, "MSG_STAT of the index gives the id");
	expect(rsys(SYS_msgctl, id & 0x7fff, MSG_STAT_ANY, &ds) == id, "MSG_STAT_ANY too");
	struct msginfo mi;
	expect(rsys(SYS_msgctl, 0, IPC_INFO, &mi) >= (id & 0x7fff), "IPC_INFO gives the highest index");
	printf("IPC_INFO: pool %d map %d max %d mnb %d mni %d ssz %d tql %d seg %u\n", mi.msgpool, mi.msgmap,
	       mi.msgmax, mi.msgmnb, mi.msgmni, mi.msgssz, mi.msgtql, mi.msgseg);
	expect(rsys(SYS_msgctl, 0, MSG_INFO, &mi) >= 0 && mi.msgpool >= 1, "MSG_INFO counts the queue");

	printf("-- send and receive\n");
	res("type 0", snd(id, 0, "x", 0));
	res("size past MSGMAX", rsys(SYS_msgsnd, id, &(struct mbuf){ .type = 1 }, 8193, 0));
	res("negative size", rsys(SYS_msgsnd, id, &(struct mbuf){ .type = 1 }, -1L, 0));
	res("bad buffer", rsys(SYS_msgsnd, id, 8, 1, 0));
	res("bad id", snd(id + 32768, 1, "x", 0));
	res("send 'one' type 3", snd(id, 3, "one", 0));
	res("send 'two' type 1", snd(id, 1, "two", 0));
	res("send 'three' type 2", snd(id, 2, "three", 0));
	res("send 'four' type 3", snd(id, 3, "four", 0));
	res("send '' type 5", snd(id, 5, "", 0));
	stat_line(id);
	sysvipc_show("msg", id, (const int[]){ 3, 4, 5 }, 3);
	rcv("MSG_COPY 2", id, 100, 2, MSG_COPY | IPC_NOWAIT);
	rcv("MSG_COPY 9", id, 100, 9, MSG_COPY | IPC_NOWAIT);
	rcv("MSG_COPY without IPC_NOWAIT", id, 100, 0, MSG_COPY);
	rcv("MSG_COPY with MSG_EXCEPT", id, 100, 0, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT);
	rcv("MSG_COPY too small", id, 2, 0, MSG_COPY | IPC_NOWAIT);
	rcv("MSG_COPY too small, MSG_NOERROR", id, 2, 0, MSG_COPY | IPC_NOWAIT | MSG_NOERROR);
	stat_line(id);
	rcv("type 2", id, 100, 2, 0);
	rcv("type -3 (lowest <= 3)", id, 100, -3, 0);
	rcv("type 3 except", id, 100, 3, MSG_EXCEPT);
	rcv("type 9, IPC_NOWAIT", id, 100, 9, IPC_NOWAIT);
	rcv("too small", id, 2, 0, 0);
	rcv("too small, MSG_NOERROR", id, 2, 0, MSG_NOERROR);
	rcv("type 0", id, 100, 0, 0);
	rcv("negative size", id, -1L, 0, IPC_NOWAIT);
	rcv("bad id", id + 32768, 100, 0, IPC_NOWAIT);
	rcv("empty, IPC_NOWAIT", id, 100, 0, IPC_NOWAIT);
	stat_line(id);
	rsys(SYS_msgctl, id, IPC_STAT, &ds);
	expect(ds.msg_lspid == getpid() && ds.msg_lrpid == getpid(), "lspid and lrpid are ours");
	expect(ds.msg_stime > 0 && ds.msg_rtime > 0, "stime and rtime set");
	snd(id, 1, "lost", 0);
	res("receive into a bad buffer", rsys(SYS_msgrcv, id, 8, 100, 0, IPC_NOWAIT));
	stat_line(id);

	printf("-- limits\n");
	ds.msg_qbytes = 16385;
	/* EPERM without CAP_SYS_RESOURCE: not printed, the host may run
	 * this as root without it while the sandbox grants it. */
	rsys(SYS_msgctl, id, IPC_SET, &ds);
	rsys(SYS_msgctl, id, IPC_STAT, &ds);
	ds.msg_qbytes = 10;
	ds.msg_perm.mode = 0600;
	res("IPC_SET qbytes 10", rsys(SYS_msgctl, id, IPC_SET, &ds));
	stat_line(id);
	res("send 8 bytes", snd(id, 1, "12345678", 0));
	res("send 3 more, IPC_NOWAIT", snd(id, 1, "abc", IPC_NOWAIT));
	res("send 2 more", snd(id, 1, "ab", IPC_NOWAIT));
	stat_line(id);
	res("IPC_RMID", rsys(SYS_msgctl, id, IPC_RMID, 0));
	res("IPC_RMID again", rsys(SYS_msgctl, id, IPC_RMID, 0));
	res("send after", snd(id, 1, "x", IPC_NOWAIT));
}

static void blocking(void)
{
	printf("-- blocking\n");
	long id = msgget_(IPC_PRIVATE, 0600);
	int pid = fork();
	if (pid == 0) {
		child_rcv("child: waited for type 7", id, 100, 7, 0);
		_exit(0);
	}
	settle();
	res("send type 6", snd(id, 6, "six", 0));
	res("send type 7", snd(id, 7, "seven", 0));
	printf("child %s\n", wait_child(pid));
	print_notes();
	stat_line(id);
	struct msqid_ds ds;
	rsys(SYS_msgctl, id, IPC_STAT, &ds);
	expect(ds.msg_lrpid == pid, "lrpid is the receiver's");
	rcv("left", id, 100, 0, IPC_NOWAIT);

	/* A receiver whose buffer is too small gets E2BIG from the send. */
	pid = fork();
	if (pid == 0) {
		child_rcv("child: small buffer", id, 2, 0, 0);
		_exit(0);
	}
	settle();
	res("send 'long'", snd(id, 1, "long", 0));
	printf("child %s\n", wait_child(pid));
	print_notes();
	stat_line(id);
	rcv("it stayed queued", id, 100, 0, IPC_NOWAIT);

	/* A sender blocked on a full queue goes on after a receive. */
	ds.msg_qbytes = 4;
	rsys(SYS_msgctl, id, IPC_SET, &ds);
	snd(id, 1, "full", 0);
	pid = fork();
	if (pid == 0) {
		long r = snd(id, 2, "next", 0);
		note("child: blocked send %s\n", rstr(r));
		_exit(0);
	}
	settle();
	stat_line(id);
	rcv("make room", id, 100, 0, 0);
	printf("child %s\n", wait_child(pid));
	print_notes();
	rcv("the blocked one's", id, 100, 0, IPC_NOWAIT);

	/* EINTR after a handler (the child must be asleep by the signal). */
	int ready[2];
	if (pipe(ready))
		return;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		alarm(20);
		write(ready[1], "r", 1);
		child_rcv("child: interrupted msgrcv", id, 100, 0, 0);
		_exit(0);
	}
	char c;
	read(ready[0], &c, 1);
	settle();
	kill(pid, SIGUSR1);
	printf("child %s\n", wait_child(pid));
	print_notes();

	/* Removal wakes receivers and senders with EIDRM. Each child says
	 * when it is about to block, and is given time to from then on (not
	 * from the fork, which can be slow): EINVAL if it came too late. */
	snd(id, 1, "full", 0);
	int up[2];
	if (pipe(up))
		return;
	int rpid = fork();
	if (rpid == 0) {
		write(up[1], "r", 1);
		child_rcv("child: receiver of a removed queue", id, 100, 9, 0);
		_exit(0);
	}
	char ch;
	read(up[0], &ch, 1);
	settle();
	note_slot = 1;
	int spid = fork();
	if (spid == 0) {
		write(up[1], "s", 1);
		long r = snd(id, 2, "more", 0);
		note("child: sender to a removed queue %s\n", rstr(r));
		_exit(0);
	}
	read(up[0], &ch, 1);
	close(up[0]);
	close(up[1]);
	settle();
	long r = rsys(SYS_msgctl, id, IPC_RMID, 0);
	printf("receiver %s\n", wait_child(rpid));
	printf("sender %s\n", wait_child(spid));
	print_notes();
	note_slot = 0;
	res("IPC_RMID with sleepers", r);
}

static void other_user(void)
{
	printf("-- another user\n");
	long id = msgget_(IPC_PRIVATE, 0602);
	snd(id, 1, "hi", 0);
	int pid = fork();
	if (pid == 0) {
		become_nobody();
		struct msqid_ds ds;
		note("IPC_STAT: %s\n", rstr(rsys(SYS_msgctl, id, IPC_STAT, &ds)));
		note("send: %s\n", rstr(snd(id, 2, "x", IPC_NOWAIT)));
		child_rcv("receive", id, 100, 0, IPC_NOWAIT);
		note("IPC_RMID: %s\n", rstr(rsys(SYS_msgctl, id, IPC_RMID, 0)));
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	print_notes();
	stat_line(id);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	notes = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (notes == MAP_FAILED)
		return 2;
	basics();
	blocking();
	other_user();
	return expect_failures ? 1 : 0;
}
