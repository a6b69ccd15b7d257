/* SysV shared memory: keys and ids, the errno table, IPC_STAT fields
 * that do not depend on the run, attachments shared with a forked child
 * (and counted), SHM_RDONLY/SHM_RND/SHM_REMAP, shmdt of split pieces,
 * removal while attached, /proc/self/maps names. */
#include "sysv_util.h"
#include <sys/mman.h>
#include <sys/shm.h>
#include <fcntl.h>

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif

static long shmget_(int key, size_t size, int flags)
{
	long id = rsys(SYS_shmget, key, size, flags);
	if (id >= 0)
		ipc_track(IPC_KIND_SHM, id);
	return id;
}

static long stat_(long id, struct shmid_ds *ds) { return rsys(SYS_shmctl, id, IPC_STAT, ds); }

static long nattch(long id)
{
	struct shmid_ds ds;
	long r = stat_(id, &ds);
	return r < 0 ? r : (long)ds.shm_nattch;
}

static bool is_err(long r) { return r < 0 && r >= -4095; }

/* The maps line of addr: its permissions and name. */
static void maps_of(const char *label, void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long a = (unsigned long)addr;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long s, e;
		char perms[8], name[256] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255[^\n]", &s, &e, perms, name) < 3)
			continue;
		if (a >= s && a < e) {
			printf("%s: %s %s\n", label, perms, strncmp(name, "/SYSV", 5) ? name : "/SYSV<key>");
			fclose(f);
			return;
		}
	}
	printf("%s: not mapped\n", label);
	if (f)
		fclose(f);
}

static void keys(void)
{
	printf("-- keys\n");
	int key = ipc_key(1);
	res("size 0", shmget_(IPC_PRIVATE, 0, 0600));
	res("size SHMMAX+1", shmget_(IPC_PRIVATE, (size_t)-1, 0600));
	res("missing key without IPC_CREAT", shmget_(key, 8192, 0600));
	long id = shmget_(key, 3 * PAGE - 100, IPC_CREAT | 0640);
	res("create", id);
	expect(shmget_(key, 0, 0) == id, "the key finds it (size 0)");
	expect(shmget_(key, 100, IPC_CREAT) == id, "the key finds it (smaller, IPC_CREAT)");
	res("IPC_CREAT|IPC_EXCL", shmget_(key, 100, IPC_CREAT | IPC_EXCL | 0600));
	res("bigger than the segment", shmget_(key, 3 * PAGE, 0));
	long other = shmget_(IPC_PRIVATE, PAGE, 0600);
	expect(other >= 0 && other != id, "IPC_PRIVATE always makes a new one");

	struct shmid_ds ds;
	memset(&ds, 0x55, sizeof ds);
	res("IPC_STAT", stat_(id, &ds));
	printf("segsz %lu mode %o nattch %lu lpid %d atime %ld dtime %ld\n", (unsigned long)ds.shm_segsz,
	       (unsigned)ds.shm_perm.mode, (unsigned long)ds.shm_nattch, (int)ds.shm_lpid,
	       (long)ds.shm_atime, (long)ds.shm_dtime);
	expect(ds.shm_perm.__key == key, "key");
	expect(ds.shm_cpid == getpid(), "cpid is ours");
	expect(ds.shm_ctime > 0, "ctime set");
	expect(ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid(), "uid and cuid");
	expect(ds.shm_perm.gid == getegid() && ds.shm_perm.cgid == getegid(), "gid and cgid");

	res("IPC_STAT of id+32768 (stale sequence)", stat_(id + 32768, &ds));
	res("IPC_STAT of -1", stat_(-1, &ds));
	res("IPC_STAT to a bad buffer", rsys(SYS_shmctl, id, IPC_STAT, 8));
	res("IPC_SET from a bad buffer", rsys(SYS_shmctl, id, IPC_SET, 8));
	res("unknown command", rsys(SYS_shmctl, id, 99, &ds));
	res("negative command", rsys(SYS_shmctl, id, -1, &ds));
	res("IPC_STAT|IPC_64 (no version bits on x86-64)", rsys(SYS_shmctl, id, IPC_STAT | 0x100, &ds));

	ds.shm_perm.mode = 0604 | 01000;
	res("IPC_SET", rsys(SYS_shmctl, id, IPC_SET, &ds));
	stat_(id, &ds);
	printf("mode after IPC_SET %o\n", (unsigned)ds.shm_perm.mode);
	ds.shm_perm.uid = (uid_t)-1;
	res("IPC_SET uid -1", rsys(SYS_shmctl, id, IPC_SET, &ds));

	long idx = id & 0x7fff;
	expect(rsys(SYS_shmctl, idx, SHM_STAT, &ds) == id, "SHM_STAT of the index gives the id");
	expect(rsys(SYS_shmctl, idx, SHM_STAT_ANY, &ds) == id, "SHM_STAT_ANY too");
	res("SHM_STAT of a free index", rsys(SYS_shmctl, 32767, SHM_STAT, &ds));

	struct shminfo info;
	long maxidx = rsys(SYS_shmctl, 0, IPC_INFO, &info);
	expect(maxidx >= idx, "IPC_INFO gives the highest index in use");
	printf("shmmax %lu shmmin %lu shmmni %lu shmseg %lu shmall %lu\n", (unsigned long)info.shmmax,
	       (unsigned long)info.shmmin, (unsigned long)info.shmmni, (unsigned long)info.shmseg,
	       (unsigned long)info.shmall);
	struct shm_info si;
	expect(rsys(SYS_shmctl, 0, SHM_INFO, &si) >= idx && si.used_ids >= 2, "SHM_INFO");
	res("IPC_INFO to a bad buffer", rsys(SYS_shmctl, 0, IPC_INFO, 8));

	res("SHM_LOCK", rsys(SYS_shmctl, id, SHM_LOCK, 0));
	stat_(id, &ds);
	printf("mode after SHM_LOCK %o\n", (unsigned)ds.shm_perm.mode);
	res("SHM_UNLOCK", rsys(SYS_shmctl, id, SHM_UNLOCK, 0));
	stat_(id, &ds);
	printf("mode after SHM_UNLOCK %o\n", (unsigned)ds.shm_perm.mode);

	res("IPC_RMID", rsys(SYS_shmctl, id, IPC_RMID, 0));
	res("IPC_RMID again", rsys(SYS_shmctl, id, IPC_RMID, 0));
	res("the key is gone", shmget_(key, 0, 0));
	res("IPC_RMID of the other", rsys(SYS_shmctl, other, IPC_RMID, 0));
}

static void attach(void)
{
	printf("-- attach and fork\n");
	int key = ipc_key(2);
	long id = shmget_(key, 2 * PAGE, IPC_CREAT | 0600);
	long a = rsys(SYS_shmat, id, 0, 0);
	res("shmat", a);
	if (is_err(a))
		return;
	volatile int *p = (volatile int *)a;
	p[0] = 41;
	resv("nattch", nattch(id));
	struct shmid_ds ds;
	stat_(id, &ds);
	expect(ds.shm_lpid == getpid() && ds.shm_atime > 0, "lpid and atime after shmat");
	char name[64];
	snprintf(name, sizeof name, "/SYSV%08x (deleted)", key);
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;
	while (f && fgets(line, sizeof line, f))
		if (strtoul(line, NULL, 16) == (unsigned long)a && strstr(line, name) && strstr(line, " rw-s "))
			found = true;
	if (f)
		fclose(f);
	expect(found, "maps shows rw-s /SYSV<key> (deleted)");
	sysvipc_show("shm", id, (const int[]){ 3, 4, 7 }, 3);

	int pid = fork();
	if (pid == 0) {
		printf("child: nattch %ld, sees %d\n", nattch(id), p[0]);
		p[1] = 42;
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	printf("parent sees %d, nattch %ld\n", p[1], nattch(id));
	stat_(id, &ds);
	expect(ds.shm_lpid == pid, "lpid is the child's after its exit");
	expect(ds.shm_dtime > 0, "dtime set");

	/* A child that shmdt's and one that execs. */
	pid = fork();
	if (pid == 0) {
		long r = rsys(SYS_shmdt, a);
		printf("child: shmdt %s, nattch %ld\n", rstr(r), nattch(id));
		printf("child: shmdt again %s\n", rstr(rsys(SYS_shmdt, a)));
		fflush(stdout);
		_exit(0);
	}
	printf("child %s\n", wait_child(pid));
	resv("nattch", nattch(id));
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(9);
	}
	printf("exec child %s\n", wait_child(pid));
	resv("nattch after an exec and exit", nattch(id));

	/* Read-only attachment: writing faults. */
	long r = rsys(SYS_shmat, id, 0, SHM_RDONLY);
	res("SHM_RDONLY", r);
	if (!is_err(r)) {
		printf("read-only sees %d\n", ((volatile int *)r)[1]);
		maps_of("read-only maps", (void *)r);
		pid = fork();
		if (pid == 0) {
			((volatile int *)r)[0] = 1;
			_exit(0);
		}
		printf("writer %s\n", wait_child(pid));
		res("mprotect PROT_WRITE of it", rsys(SYS_mprotect, r, PAGE, PROT_READ | PROT_WRITE));
		res("mprotect PROT_READ|PROT_EXEC of it", rsys(SYS_mprotect, r, PAGE, PROT_READ | PROT_EXEC));
		resv("nattch", nattch(id));
		res("shmdt of it", rsys(SYS_shmdt, r));
	}

	/* Removed while attached: still usable by id, gone at the last detach. */
	res("IPC_RMID while attached", rsys(SYS_shmctl, id, IPC_RMID, 0));
	stat_(id, &ds);
	printf("after IPC_RMID: key %d mode %o nattch %lu\n", ds.shm_perm.__key, (unsigned)ds.shm_perm.mode,
	       (unsigned long)ds.shm_nattch);
	res("the key is gone", shmget_(key, 0, 0));
	long b = rsys(SYS_shmat, id, 0, 0);
	res("shmat of a removed but attached segment", b);
	if (!is_err(b)) {
		printf("second attachment sees %d\n", ((volatile int *)b)[0]);
		resv("nattch", nattch(id));
		res("shmdt", rsys(SYS_shmdt, b));
	}
	res("last shmdt", rsys(SYS_shmdt, a));
	res("IPC_STAT after the last detach", stat_(id, &ds));
	res("shmat after", rsys(SYS_shmat, id, 0, 0));
}

static void addresses(void)
{
	printf("-- addresses\n");
	long id = shmget_(IPC_PRIVATE, 3 * PAGE, 0600);
	char *area = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(area, 8 * PAGE);
	res("unaligned address", rsys(SYS_shmat, id, area + 100, 0));
	long r = rsys(SYS_shmat, id, area + 100, SHM_RND);
	expect(r == (long)area, "SHM_RND rounds down");
	res("over an attachment without SHM_REMAP", rsys(SYS_shmat, id, area, 0));
	res("SHM_REMAP without an address", rsys(SYS_shmat, id, 0, SHM_REMAP));
	res("SHM_RND|SHM_REMAP rounding to 0", rsys(SYS_shmat, id, 100, SHM_RND | SHM_REMAP));
	res("past the user address space", rsys(SYS_shmat, id, 0x7ffffffff000L, 0));
	res("bad id", rsys(SYS_shmat, id + 32768, 0, 0));
	res("negative id", rsys(SYS_shmat, -1, 0, 0));
	long r2 = rsys(SYS_shmat, id, area, SHM_REMAP);
	expect(r2 == (long)area, "SHM_REMAP replaces it");
	resv("nattch", nattch(id));

	/* Split pieces count as attachments; shmdt takes all of them. */
	munmap(area + PAGE, PAGE);
	resv("nattch after unmapping the middle page", nattch(id));
	res("shmdt of the middle", rsys(SYS_shmdt, area + PAGE));
	res("shmdt unaligned", rsys(SYS_shmdt, area + 1));
	res("shmdt", rsys(SYS_shmdt, area));
	resv("nattch", nattch(id));
	maps_of("last page after shmdt", area + 2 * PAGE);
	res("shmdt of nothing", rsys(SYS_shmdt, area));

	/* Permissions: root passes them (CAP_IPC_OWNER). */
	long ro = shmget_(IPC_PRIVATE, PAGE, 0400);
	long w = rsys(SYS_shmat, ro, 0, 0);
	printf("read-write attach of a 0400 segment: %s (%s)\n", rstr(w), geteuid() ? "user" : "root");
	if (!is_err(w))
		rsys(SYS_shmdt, w);
	long rd = rsys(SYS_shmat, ro, 0, SHM_RDONLY);
	res("read-only attach of it", rd);
	if (!is_err(rd))
		rsys(SYS_shmdt, rd);
}

/* The limits, as /proc/sys/kernel shows them (Linux's defaults). */
static void sysctls(void)
{
	printf("-- /proc/sys/kernel\n");
	static const char *const names[] = { "shmmax", "shmall", "shmmni", "sem", "msgmax", "msgmnb", "msgmni" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64], buf[128] = "";
		snprintf(path, sizeof path, "/proc/sys/kernel/%s", names[i]);
		FILE *f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof buf, f))
			snprintf(buf, sizeof buf, "unreadable\n");
		if (f)
			fclose(f);
		printf("%s: %s", names[i], buf);
	}
}

/* VmLck without allocating (after MCL_FUTURE, a new heap page would be
 * locked too). */
static long vmlck_kb(void)
{
	char buf[4096];
	int fd = (int)rsys(SYS_open, "/proc/self/status", O_RDONLY);
	long n = fd >= 0 ? rsys(SYS_read, fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		rsys(SYS_close, fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strstr(buf, "VmLck:");
	return p ? atol(p + 6) : -1;
}

/* After mlockall(MCL_FUTURE) an attachment is locked too. */
static void locked(void)
{
	printf("-- mlockall(MCL_FUTURE)\n");
	long id = shmget_(IPC_PRIVATE, 2 * PAGE, 0600);
	if (mlockall(MCL_FUTURE)) {
		printf("mlockall: %s\n", errname(errno));
		return;
	}
	long before = vmlck_kb();
	long a = rsys(SYS_shmat, id, 0, 0);
	res("shmat", a);
	printf("VmLck grew by %ld kB\n", vmlck_kb() - before);
	munlockall();
	if (!is_err(a))
		rsys(SYS_shmdt, a);
}

/* Another user: EACCES by the mode bits, EPERM for the owner's commands. */
static void other_user(void)
{
	printf("-- another user\n");
	long id = shmget_(IPC_PRIVATE, PAGE, 0640);
	long open_ = shmget_(IPC_PRIVATE, PAGE, 0606);
	int pid = fork();
	if (pid == 0) {
		become_nobody();
		struct shmid_ds ds;
		printf("IPC_STAT: %s\n", rstr(stat_(id, &ds)));
		printf("shmat: %s\n", rstr(rsys(SYS_shmat, id, 0, 0)));
		printf("shmat SHM_RDONLY: %s\n", rstr(rsys(SYS_shmat, id, 0, SHM_RDONLY)));
		printf("SHM_STAT: %s\n", rstr(rsys(SYS_shmctl, id & 0x7fff, SHM_STAT, &ds)));
		expect(rsys(SYS_shmctl, id & 0x7fff, SHM_STAT_ANY, &ds) == id, "SHM_STAT_ANY needs no permission");
		printf("IPC_RMID: %s\n", rstr(rsys(SYS_shmctl, id, IPC_RMID, 0)));
		printf("IPC_SET: %s\n", rstr(rsys(SYS_shmctl, id, IPC_SET, &ds)));
		printf("SHM_LOCK: %s\n", rstr(rsys(SYS_shmctl, id, SHM_LOCK, 0)));
		long a = rsys(SYS_shmat, open_, 0, 0);
		printf("shmat of a 0606 segment: %s\n", rstr(a));
		if (!is_err(a)) {
			stat_(open_, &ds);
			printf("its lpid is ours: %s\n", ds.shm_lpid == getpid() ? "yes" : "no");
		}
		printf("IPC_RMID of it: %s\n", rstr(rsys(SYS_shmctl, open_, IPC_RMID, 0)));
		fflush(stdout);
		_exit(expect_failures);
	}
	printf("child %s\n", wait_child(pid));
	resv("nattch of the 0606 one after the child", nattch(open_));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	sysctls();
	keys();
	attach();
	addresses();
	locked();
	other_user();
	return expect_failures ? 1 : 0;
}
