/* /proc: the root (pids, self, thread-self), the files about the whole
 * system, /proc/sys, and access to processes for the per-process parts
 * (fs/procfs_pid.c, procfs_fd.c, procfs_maps.c). Formats are Linux's
 * (fs/proc/ in Linux); what the sandbox cannot know (CPU load, memory) is the
 * host's, passed through. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>
#include "fs/fs.h"
#include "fs/procfs_internal.h"
#include "ipc/ipc.h"
#include "kernel/ktime.h"
#include "kernel/task.h"
#include "kernel/uts.h"
#include "mm/mm.h"
#include "mm/vma.h"
#include "net/socket.h"

/* ---- access to processes ------------------------------------------------ */

int64_t proc_identity(const struct process *p)
{
	return (int64_t)p->start_time.tv_sec * NSEC_PER_SEC + p->start_time.tv_nsec;
}

struct process *proc_get_locked(const struct pseudo_ctx *c)
{
	struct process *p = pid_lookup((int)c->id[CTX_PID]);
	return p && proc_identity(p) == c->id[CTX_START] ? p : NULL;
}

struct thread *proc_thread_locked(const struct pseudo_ctx *c, struct process *p)
{
	int tid = ctx_sub_tid(c) ? ctx_sub_tid(c) : p->pid;
	for (struct thread *t = p->threads; t; t = t->next_thread)
		if (t->tid == tid)
			return __atomic_load_n(&t->leaving, __ATOMIC_RELAXED) ? NULL : t;
	return NULL;
}

bool proc_may_access_locked(struct process *p)
{
	struct process *me = current ? current->proc : NULL;
	if (!me || me == p || me->uid == 0)
		return true;
	return me->fsuid == p->ruid && me->fsuid == p->uid && me->fsuid == p->suid &&
	       me->fsgid == p->rgid && me->fsgid == p->gid && me->fsgid == p->sgid &&
	       p->dumpable == 1;
}

struct pseudo_ctx proc_ctx_of(const struct process *p)
{
	return (struct pseudo_ctx){ { p->pid, proc_identity(p), 0 } };
}

bool proc_pid_dir_file(const struct file *f, int *pid, int64_t *identity)
{
	struct pseudo_ctx c;
	if (pseudo_node_of(f->inode, &c) != &proc_pid_dir)
		return false;
	*pid = (int)c.id[CTX_PID];
	*identity = c.id[CTX_START];
	return true;
}

/* The thread of a /proc/<tid>/ directory is alive (tasklist_lock held). */
static bool tgid_thread_live_locked(const struct pseudo_ctx *c, struct process *p)
{
	if (!(c->id[CTX_SUB] & CTX_SUB_TGID))
		return true;
	struct thread *t = tid_lookup(ctx_sub_tid(c));
	return t && t->proc == p && !__atomic_load_n(&t->leaving, __ATOMIC_RELAXED);
}

bool proc_valid(const struct pseudo_ctx *c)
{
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	bool ok = p && tgid_thread_live_locked(c, p);
	pthread_mutex_unlock(&tasklist_lock);
	return ok;
}

void proc_owner(const struct pseudo_ctx *c, uid_t *uid, gid_t *gid)
{
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	if (p && p->dumpable == 1) {
		*uid = p->uid;
		*gid = p->gid;
	}
	pthread_mutex_unlock(&tasklist_lock);
}

int proc_with_mm(const struct pseudo_ctx *c, bool check,
		 int (*fn)(struct process *p, struct mm *mm, void *arg),
		 int (*mm_fn)(struct mm *mm, void *arg), void *arg)
{
	struct mm *held = NULL;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	int ret = -ESRCH;
	if (p && check && !proc_may_access_locked(p))
		ret = -EACCES;
	else if (p) {
		pthread_mutex_lock(&p->lock);
		/* Linux's get_task_mm of the directory's task: none once that
		 * thread has left (a zombie leader). */
		struct mm *mm = proc_thread_locked(c, p) ? p->mm : NULL;
		ret = fn ? fn(p, mm, arg) : 0;
		if (!ret && mm_fn && mm) {
			held = mm;
			__atomic_add_fetch(&mm->users, 1, __ATOMIC_ACQ_REL); /* Linux's mmget */
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	if (held) {
		ret = mm_fn(held, arg);
		mm_put(held);
	}
	return ret;
}

static struct super *proc_sb;

struct super *proc_super(void)
{
	return proc_sb;
}

struct mount *proc_mount(void)
{
	static struct mount *found;
	struct mount *m = __atomic_load_n(&found, __ATOMIC_ACQUIRE);
	if (m)
		return m;
	pthread_mutex_lock(&vfs_lock);
	for (m = mount_list; m && m->sb != proc_sb; m = m->next)
		;
	pthread_mutex_unlock(&vfs_lock);
	if (m) /* mounts are never removed */
		__atomic_store_n(&found, m, __ATOMIC_RELEASE);
	return m;
}

/* ---- helpers --------------------------------------------------------------- */

/* A host file's whole contents (cpuinfo, meminfo...). */
static int host_file(struct seqbuf *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		seq_write(s, buf, n);
	int err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* The first line of a host file, for single values (host sysctls). */
static void host_value(struct seqbuf *s, const char *path, const char *fallback)
{
	char buf[256];
	FILE *fp = fopen(path, "re");
	if (fp && fgets(buf, sizeof(buf), fp))
		seq_printf(s, "%s", buf);
	else
		seq_printf(s, "%s\n", fallback);
	if (fp)
		fclose(fp);
}

struct census {
	int total;          /* processes (threads: one each for now) */
	int alive;
	int last_pid;       /* the newest process's pid */
	int64_t last_start;
};

static void count_one(struct process *p, void *arg)
{
	struct census *c = arg;
	c->total++;
	if (p->state == PROC_ALIVE)
		c->alive++;
	if (proc_identity(p) >= c->last_start) {
		c->last_start = proc_identity(p);
		c->last_pid = p->pid;
	}
}

/* The processes of the sandbox. The last pid is the newest process's: the
 * pid allocator's cursor is not visible from here, and the two differ
 * only when the newest process is already reaped. */
static struct census census(void)
{
	struct census c = { 0, 0, 0, INT64_MIN };
	pthread_mutex_lock(&tasklist_lock);
	for_each_process(count_one, &c);
	pthread_mutex_unlock(&tasklist_lock);
	return c;
}

/* ---- files about the system ------------------------------------------------- */

static int show_filesystems(const struct pseudo_ctx *c, struct seqbuf *s)
{
	static const char *const fs[] = { "nodev\ttmpfs", "nodev\tproc", "nodev\tdevtmpfs",
					  "nodev\toverlay", "nodev\tpipefs" };
	for (size_t k = 0; k < ARRAY_SIZE(fs); k++)
		seq_printf(s, "%s\n", fs[k]);
	return 0;
}

static int show_cpuinfo(const struct pseudo_ctx *c, struct seqbuf *s)
{
	return host_file(s, "/proc/cpuinfo");
}

static int show_meminfo(const struct pseudo_ctx *c, struct seqbuf *s)
{
	return host_file(s, "/proc/meminfo");
}

static int show_version(const struct pseudo_ctx *c, struct seqbuf *s)
{
	return host_file(s, "/proc/version"); /* uname(2) shows the host's too */
}

/* The sandbox has no kernel command line of its own. */
static int show_cmdline(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "cocoon\n");
	return 0;
}

/* Uptime on the sandbox's clock (BOOTTIME starts at zero with it); no
 * idle time is kept. */
static int show_uptime(const struct pseudo_ctx *c, struct seqbuf *s)
{
	int64_t ns = ktime_get_ns(CLOCK_BOOTTIME);
	seq_printf(s, "%llu.%02llu 0.00\n", (unsigned long long)(ns / NSEC_PER_SEC),
		   (unsigned long long)(ns % NSEC_PER_SEC / (NSEC_PER_SEC / 100)));
	return 0;
}

/* The host's load averages, the sandbox's processes: running (the
 * reader)/total, and the last pid. */
static int show_loadavg(const struct pseudo_ctx *c, struct seqbuf *s)
{
	double l[3] = { 0, 0, 0 };
	if (getloadavg(l, 3) < 0)
		l[0] = l[1] = l[2] = 0;
	struct census n = census();
	for (int k = 0; k < 3; k++) {
		unsigned long v = (unsigned long)(l[k] * 100 + 0.5);
		seq_printf(s, "%lu.%02lu ", v / 100, v % 100);
	}
	seq_printf(s, "%d/%d %d\n", 1, n.total, n.last_pid);
	return 0;
}

/* The host's CPU, interrupt and context-switch lines; the boot time,
 * process counts of the sandbox. */
static int show_stat(const struct pseudo_ctx *c, struct seqbuf *s)
{
	FILE *fp = fopen("/proc/stat", "re");
	if (!fp)
		return -errno;
	struct census n = census();
	int64_t boot = ktime_get_ns(CLOCK_REALTIME) - ktime_get_ns(CLOCK_BOOTTIME);
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, fp) > 0) {
		if (!strncmp(line, "btime ", 6))
			seq_printf(s, "btime %lld\n", (long long)(boot / NSEC_PER_SEC));
		else if (!strncmp(line, "processes ", 10))
			seq_printf(s, "processes %d\n", n.last_pid);
		else if (!strncmp(line, "procs_running ", 14))
			seq_printf(s, "procs_running %d\n", 1);
		else if (!strncmp(line, "procs_blocked ", 14))
			seq_printf(s, "procs_blocked 0\n");
		else
			seq_printf(s, "%s", line);
	}
	free(line);
	fclose(fp);
	return 0;
}

static int show_swaps(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	return 0;
}

/* ---- /proc/sys ---------------------------------------------------------------- */

static int show_ostype(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "Linux\n");
	return 0;
}

/* What uname(2) shows (kernel/uts.h). */
static int show_uts(struct seqbuf *s, int which)
{
	struct utsname u;
	uts_get(&u);
	seq_printf(s, "%s\n", which == 0 ? u.release : which == 1 ? u.nodename : u.domainname);
	return 0;
}

static int show_osrelease(const struct pseudo_ctx *c, struct seqbuf *s) { return show_uts(s, 0); }
static int show_hostname(const struct pseudo_ctx *c, struct seqbuf *s) { return show_uts(s, 1); }

static int show_domainname(const struct pseudo_ctx *c, struct seqbuf *s) { return show_uts(s, 2); }

/* Linux's default: 32768, or 1024 per possible CPU if more. */
static int show_pid_max(const struct pseudo_ctx *c, struct seqbuf *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	seq_printf(s, "%ld\n", MAX(32768L, 1024 * cpus));
	return 0;
}

static void uuid_v4(struct seqbuf *s)
{
	uint8_t b[16];
	krandom(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (int k = 0; k < 16; k++)
		seq_printf(s, "%s%02x", k == 4 || k == 6 || k == 8 || k == 10 ? "-" : "", b[k]);
	seq_printf(s, "\n");
}

static int show_uuid(const struct pseudo_ctx *c, struct seqbuf *s)
{
	uuid_v4(s); /* a new one on each read, like Linux */
	return 0;
}

/* One per sandbox: it is the sandbox's boot. */
static int show_boot_id(const struct pseudo_ctx *c, struct seqbuf *s)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char id[40];
	pthread_mutex_lock(&lock);
	if (!id[0]) {
		struct seqbuf t = { 0 };
		uuid_v4(&t);
		if (!t.err && t.len < sizeof(id))
			memcpy(id, t.buf, t.len);
		free(t.buf);
	}
	pthread_mutex_unlock(&lock);
	seq_printf(s, "%s", id);
	return 0;
}

#define CONST_FILE(fn, text) \
	static int fn(const struct pseudo_ctx *c, struct seqbuf *s) \
	{ seq_printf(s, "%s", text); return 0; }
#define HOST_FILE(fn, path, fallback) \
	static int fn(const struct pseudo_ctx *c, struct seqbuf *s) \
	{ host_value(s, path, fallback); return 0; }

CONST_FILE(show_ngroups_max, "65536\n")
CONST_FILE(show_overflowid, "65534\n")
CONST_FILE(show_entropy, "256\n")
CONST_FILE(show_nr_open, "1048576\n")  /* fs/fdtable.c's NR_OPEN_MAX */
CONST_FILE(show_mmap_min_addr, "65536\n")
HOST_FILE(show_cap_last_cap, "/proc/sys/kernel/cap_last_cap", "40")
HOST_FILE(show_overcommit, "/proc/sys/vm/overcommit_memory", "0")
HOST_FILE(show_file_max, "/proc/sys/fs/file-max", "9223372036854775807")
HOST_FILE(show_pipe_max_size, "/proc/sys/fs/pipe-max-size", "1048576") /* fs/pipe.c reads it too */

/* The sandbox's own limit on mappings (mm/vma.h). */
static int show_max_map_count(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "%d\n", VMA_MAX);
	return 0;
}

#define RO(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }
#define RW(n, fn) { .name = n, .mode = S_IFREG | 0644, .show = fn }

static const struct pseudo_node random_children[] = {
	RO("boot_id", show_boot_id),
	RO("entropy_avail", show_entropy),
	RO("poolsize", show_entropy),
	RO("uuid", show_uuid),
	{ 0 },
};

static const struct pseudo_node kernel_children[] = {
	RO("cap_last_cap", show_cap_last_cap),
	RW("domainname", show_domainname),
	RW("hostname", show_hostname),
	RO("ngroups_max", show_ngroups_max),
	RO("osrelease", show_osrelease),
	RO("ostype", show_ostype),
	RW("overflowgid", show_overflowid),
	RW("overflowuid", show_overflowid),
	RW("pid_max", show_pid_max),
	{ .name = "random", .mode = S_IFDIR | 0555, .children = random_children },
	{ 0 },
};

static const struct pseudo_node vm_children[] = {
	RW("max_map_count", show_max_map_count),
	RW("mmap_min_addr", show_mmap_min_addr),
	RW("overcommit_memory", show_overcommit),
	{ 0 },
};

static int show_somaxconn(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "%d\n", SYSCTL_SOMAXCONN);
	return 0;
}

static int show_net_buf_max(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "%d\n", SYSCTL_BUF_MAX);
	return 0;
}

static int show_port_range(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "%d\t%d\n", SYSCTL_PORT_LO, SYSCTL_PORT_HI);
	return 0;
}

static int show_unpriv_port(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "%d\n", SYSCTL_PROT_SOCK);
	return 0;
}

static const struct pseudo_node net_core_children[] = {
	RW("rmem_max", show_net_buf_max),
	RW("somaxconn", show_somaxconn),
	RW("wmem_max", show_net_buf_max),
	{ 0 },
};

static const struct pseudo_node net_ipv4_children[] = {
	RW("ip_local_port_range", show_port_range),
	RW("ip_unprivileged_port_start", show_unpriv_port),
	{ 0 },
};

/* What the sandbox's loopback stack uses (--net=host sockets are the
 * host's, with the host's settings). */
static const struct pseudo_node net_children[] = {
	{ .name = "core", .mode = S_IFDIR | 0555, .children = net_core_children },
	{ .name = "ipv4", .mode = S_IFDIR | 0555, .children = net_ipv4_children },
	{ 0 },
};

static const struct pseudo_node sysfs_children[] = {
	RW("file-max", show_file_max),
	RW("nr_open", show_nr_open),
	RW("pipe-max-size", show_pipe_max_size),
	{ 0 },
};

static const struct pseudo_node sys_children[] = {
	{ .name = "fs", .mode = S_IFDIR | 0555, .children = sysfs_children },
	/* The SysV IPC limits are ipc/sysctl.c's generated entries. */
	{ .name = "kernel", .mode = S_IFDIR | 0555, .children = kernel_children,
	  .list = ipc_sysctl_list, .lookup = ipc_sysctl_lookup },
	{ .name = "net", .mode = S_IFDIR | 0555, .children = net_children },
	{ .name = "vm", .mode = S_IFDIR | 0555, .children = vm_children },
	{ 0 },
};

/* ---- self, thread-self, and the pids ---------------------------------------- */

static int self_readlink(const struct pseudo_ctx *c, char *buf, size_t size)
{
	if (!current)
		return -ENOENT;
	return snprintf(buf, size, "%d", current->proc->pid);
}

static int thread_self_readlink(const struct pseudo_ctx *c, char *buf, size_t size)
{
	if (!current)
		return -ENOENT;
	return snprintf(buf, size, "%d/task/%d", current->proc->pid, current->tid);
}

static int mounts_readlink(const struct pseudo_ctx *c, char *buf, size_t size)
{
	return snprintf(buf, size, "self/mounts");
}

/* A pid as /proc names it: decimal without a leading zero. */
static int parse_pid(const char *name)
{
	if (name[0] < '1' || name[0] > '9' || strlen(name) > 9)
		return -1;
	int v = 0;
	for (const char *c = name; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (*c - '0');
	}
	return v;
}

static int root_lookup(const struct pseudo_ctx *c, const char *name,
		       const struct pseudo_node **node, struct pseudo_ctx *child)
{
	int pid = parse_pid(name);
	if (pid <= 0)
		return -ENOENT;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pid_lookup(pid);
	if (p) {
		*child = proc_ctx_of(p);
	} else {
		/* Any thread's id names a directory too (Linux's
		 * proc_pid_lookup), though readdir lists processes only. */
		struct thread *t = tid_lookup(pid);
		if (t && !__atomic_load_n(&t->leaving, __ATOMIC_RELAXED) &&
		    t->proc->state == PROC_ALIVE) {
			p = t->proc;
			*child = proc_ctx_of(p);
			child->id[CTX_SUB] = pid | CTX_SUB_TGID;
		}
	}
	pthread_mutex_unlock(&tasklist_lock);
	if (!p)
		return -ENOENT;
	*node = &proc_pid_dir;
	return 0;
}

struct pid_list {
	struct pseudo_ctx *v;
	size_t n, cap;
};

static void collect_pid(struct process *p, void *arg)
{
	struct pid_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct pseudo_ctx *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = proc_ctx_of(p);
}

static int root_list(const struct pseudo_ctx *c, struct pseudo_lister *l)
{
	struct pid_list pids = { 0 };
	pthread_mutex_lock(&tasklist_lock);
	for_each_process(collect_pid, &pids);
	pthread_mutex_unlock(&tasklist_lock);
	int err = 0;
	for (size_t k = 0; k < pids.n && !err; k++) {
		char name[16];
		snprintf(name, sizeof(name), "%lld", (long long)pids.v[k].id[CTX_PID]);
		err = pseudo_emit(l, name, &proc_pid_dir, &pids.v[k]);
	}
	free(pids.v);
	return err;
}

static int show_sysvipc_shm(const struct pseudo_ctx *c, struct seqbuf *s) { shm_proc_show(s); return 0; }
static int show_sysvipc_sem(const struct pseudo_ctx *c, struct seqbuf *s) { sem_proc_show(s); return 0; }
static int show_sysvipc_msg(const struct pseudo_ctx *c, struct seqbuf *s) { msg_proc_show(s); return 0; }

static const struct pseudo_node sysvipc_children[] = {
	RO("msg", show_sysvipc_msg),
	RO("sem", show_sysvipc_sem),
	RO("shm", show_sysvipc_shm),
	{ 0 },
};

static const struct pseudo_node proc_root_children[] = {
	RO("cmdline", show_cmdline),
	RO("cpuinfo", show_cpuinfo),
	RO("filesystems", show_filesystems),
	RO("loadavg", show_loadavg),
	RO("meminfo", show_meminfo),
	{ .name = "mounts", .mode = S_IFLNK | 0777, .readlink = mounts_readlink },
	{ .name = "self", .mode = S_IFLNK | 0777, .readlink = self_readlink },
	RO("stat", show_stat),
	RO("swaps", show_swaps),
	{ .name = "sys", .mode = S_IFDIR | 0555, .children = sys_children },
	{ .name = "sysvipc", .mode = S_IFDIR | 0555, .children = sysvipc_children },
	{ .name = "thread-self", .mode = S_IFLNK | 0777, .readlink = thread_self_readlink },
	RO("uptime", show_uptime),
	RO("version", show_version),
	{ 0 },
};

static const struct pseudo_node proc_root = {
	.name = "/", .mode = S_IFDIR | 0555, .children = proc_root_children,
	.list = root_list, .lookup = root_lookup,
};

struct dentry *procfs_root(void)
{
	struct dentry *d = pseudofs_root("proc", PROC_SUPER_MAGIC, &proc_root);
	if (d)
		proc_sb = d->sb;
	return d;
}
