/* execve and execveat: a new program in the calling process.
 *
 * The program is loaded into a fresh mm first (kernel/exec.c), so every
 * error returns to the intact old image. Then, past the point of no
 * return, the old guest memory goes: a process with a host process of its
 * own keeps it (one unmap order clears it, then the new image is mapped
 * in), while a vfork child, which borrowed its parent's, moves to a new
 * host process. `#!` scripts are rewritten to their interpreter with
 * Linux's rules (fs/binfmt_script.c). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/task.h"
#include "kernel/timers.h"
#include "kernel/cputime.h"
#include "kernel/futex.h"
#include "kernel/exec.h"
#include "kernel/syscall.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "platform/platform.h"

#define BINPRM_BUF_SIZE 256
#define MAX_INTERP_DEPTH 5 /* Linux: ELOOP beyond 5 rewrites */
/* Bytes of argument and environment strings we copy at most before E2BIG
 * (exec_load applies Linux's exact limit). */
#define ARGS_COPY_MAX (6UL << 20)

/* A NULL-terminated vector of kernel strings. */
struct strvec {
	char **v;
	size_t n, cap, bytes;
};

static int strvec_push(struct strvec *s, char *str)
{
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
	s->bytes += strlen(str) + 1;
	return 0;
}

static void strvec_free(struct strvec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct strvec){ 0 };
}

/* Copy a guest argv/envp (NULL pointer: empty). */
static int copy_strvec(gaddr_t uv, struct strvec *out, size_t *budget)
{
	static char buf[MAX_ARG_STRLEN]; /* only under exec_lock */
	for (size_t i = 0; uv; i++) {
		uint64_t p;
		if (copy_from_guest(&p, uv + i * 8, 8))
			return -EFAULT;
		if (!p)
			break;
		long len = strncpy_from_guest(buf, p, MAX_ARG_STRLEN);
		if (len == -ENAMETOOLONG)
			return -E2BIG;
		if (len < 0)
			return (int)len;
		if ((size_t)len + 1 + 8 > *budget)
			return -E2BIG;
		*budget -= (size_t)len + 1 + 8;
		char *s = strdup(buf);
		if (!s || strvec_push(out, s)) {
			free(s);
			return -ENOMEM;
		}
	}
	return 0;
}

static bool spacetab(char c) { return c == ' ' || c == '\t'; }

/* If the file starts with "#!", rewrite argv for its interpreter (Linux's
 * load_script): *interp gets the interpreter path. 1 if rewritten, 0 if
 * not a script, -errno. */
static int script_rewrite(int fd, const char *filename, struct strvec *argv, char **interp)
{
	char buf[BINPRM_BUF_SIZE + 1];
	ssize_t got = pread(fd, buf, BINPRM_BUF_SIZE, 0);
	if (got < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	memset(buf + got, 0, sizeof(buf) - (size_t)got);
	char *end = memchr(buf, '\n', BINPRM_BUF_SIZE - 1);
	if (!end) {
		/* No newline: fine only if the interpreter name ends in buf. */
		char *p = buf + 2;
		while (p < buf + BINPRM_BUF_SIZE - 1 && spacetab(*p))
			p++;
		while (p < buf + BINPRM_BUF_SIZE - 1 && *p && !spacetab(*p))
			p++;
		if (p == buf + BINPRM_BUF_SIZE - 1)
			return -ENOEXEC; /* the name would be cut */
		end = buf + BINPRM_BUF_SIZE - 1;
	}
	while (end > buf + 2 && spacetab(end[-1]))
		end--;
	*end = '\0';
	char *name = buf + 2;
	while (spacetab(*name))
		name++;
	if (name >= end || !*name)
		return -ENOEXEC;
	char *arg = NULL, *sep = name;
	while (*sep && !spacetab(*sep))
		sep++;
	if (*sep) {
		*sep = '\0';
		arg = sep + 1;
		while (spacetab(*arg))
			arg++;
		if (!*arg)
			arg = NULL;
	}
	/* argv becomes: interpreter, [argument], script path, argv[1..]. */
	struct strvec nv = { 0 };
	int err = 0;
	char *s;
	if (!(s = strdup(name)) || (err = strvec_push(&nv, s)))
		goto fail;
	if (arg && (!(s = strdup(arg)) || (err = strvec_push(&nv, s))))
		goto fail;
	if (!(s = strdup(filename)) || (err = strvec_push(&nv, s)))
		goto fail;
	for (size_t i = 1; i < argv->n; i++) {
		if ((err = strvec_push(&nv, argv->v[i])))
			goto fail;
		argv->v[i] = NULL;
	}
	strvec_free(argv);
	*argv = nv;
	if (!(*interp = strdup(name)))
		return -ENOMEM;
	return 1;
fail:
	free(s);
	strvec_free(&nv);
	return err ? err : -ENOMEM;
}

/* Queue the host mappings of every VMA of a freshly loaded mm; the
 * caller flushes them. */
static int map_all(struct mm *mm)
{
	int err = 0;
	for (size_t i = 0; !err && i < mm->vmas.n; i++)
		err = mm_host_map(mm, &mm->vmas.v[i]);
	return err;
}

/* Past the point of no return: the new image replaces the old one. An
 * error here kills the process (Linux: SIGSEGV after a failed flush).
 * A vfork child's new host process is left with its mappings queued:
 * do_execve flushes them once the parent no longer waits. */
static int switch_mm(struct thread *t, struct mm *new_mm)
{
	struct process *p = t->proc;
	struct mm *old = p->mm;
	int err;
	if (__atomic_load_n(&old->users, __ATOMIC_ACQUIRE) > 1) {
		/* A vfork child leaves its parent's host process. */
		struct platform_thread *pt;
		if ((err = platform_as_create(&new_mm->as)))
			return err;
		if ((err = map_all(new_mm)) || (err = platform_thread_create(new_mm->as, &pt))) {
			platform_as_destroy(new_mm->as);
			new_mm->as = NULL;
			return err;
		}
		platform_thread_release(t->plat);
		t->plat = pt;
	} else {
		/* Keep the host process: one batch clears the old image and
		 * maps the new, done before mm_put frees the old memory. */
		new_mm->as = old->as;
		pthread_rwlock_wrlock(&old->lock);
		err = platform_as_unmap(old->as, 0, GUEST_TASK_SIZE);
		old->as = NULL; /* mm_put frees its memory, not the process */
		pthread_rwlock_unlock(&old->lock);
		if (!err)
			err = map_all(new_mm);
		if (!err)
			err = platform_as_flush(new_mm->as);
		if (err)
			return err;
	}
	cputime_note_mm(p, old); /* Linux keeps the old memory's peak in maxrss */
	pthread_mutex_lock(&p->lock);
	p->mm = new_mm;
	pthread_mutex_unlock(&p->lock);
	mm_put(old);
	return 0;
}

/* What execve resets in the process and the thread (Linux's
 * begin_new_exec and setup_new_exec). */
static void reset_for_exec(struct thread *t, const char *filename, struct sighand *spare_sighand)
{
	struct process *p = t->proc;
	p->did_exec = true; /* before close-on-exec: a parent may be watching */
	/* A shared fd table becomes our own before close-on-exec. */
	if (fdtable_shared(t->files)) {
		struct fdtable *own = fdtable_copy(t->files);
		if (own) {
			pthread_mutex_lock(&p->lock);
			struct fdtable *old = t->files;
			t->files = own;
			pthread_mutex_unlock(&p->lock);
			fdtable_put(old);
		}
	}
	fdtable_exec(t->files);
	timers_exec(p); /* POSIX timers go, itimers stay */
	pthread_mutex_lock(&p->lock);
	/* Linux's unshare_sighand: handlers shared with a CLONE_SIGHAND
	 * parent or child become our own copy, which the others no longer
	 * see. */
	struct sighand *shared = NULL;
	if (sighand_users_locked(p) > 1) {
		shared = p->sighand;
		pthread_mutex_lock(&shared->lock);
		memcpy(spare_sighand->action, shared->action, sizeof(shared->action));
		pthread_mutex_unlock(&shared->lock);
		p->sighand = spare_sighand;
		spare_sighand = NULL;
	}
	/* Linux's flush_signal_handlers: handlers go back to SIG_DFL, and
	 * every action, ignored ones too, loses its flags, mask and restorer. */
	pthread_mutex_lock(&p->sighand->lock);
	for (int i = 0; i < 64; i++) {
		struct ksigaction *ka = &p->sighand->action[i];
		uint64_t h = ka->handler == (uint64_t)SIG_IGN ? (uint64_t)SIG_IGN : (uint64_t)SIG_DFL;
		*ka = (struct ksigaction){ .handler = h };
	}
	pthread_mutex_unlock(&p->sighand->lock);
	const char *base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	char comm[16] = { 0 };
	memcpy(comm, base, strnlen(base, sizeof(comm) - 1));
	thread_set_comm_locked(t, comm); /* t leads the process by now */
	p->dumpable = 1;
	proc_ext_exec(p);
	p->did_exec = true;
	pthread_mutex_unlock(&p->lock);
	sighand_put(shared);
	sighand_put(spare_sighand);
	t->fs_base = 0;
	t->fs_base_dirty = true;
	t->altstack = (struct altstack){ .flags = SS_DISABLE };
	t->clear_child_tid = 0;
	t->robust_list = 0;
	platform_thread_fpu_reset(t->plat);
}

int exec_image(struct mm *mm, struct file *file, const char *filename, char ***argvp,
	       char *const envp[], struct guest_regs *regs, bool path_inaccessible, struct file **exe)
{
	struct strvec argv = { .v = *argvp };
	while (argv.v && argv.v[argv.n])
		argv.n++;
	argv.cap = argv.n + 1;
	int fd = fs_exec_fd(file), err = fd < 0 ? fd : 0;
	/* Each level's script path is what the level above named: the
	 * original file first, then each interpreter in turn. */
	char *script = strdup(filename);
	if (!script && !err)
		err = -ENOMEM;
	for (int depth = 0; !err; depth++) {
		char *interp = NULL;
		int r = script_rewrite(fd, script, &argv, &interp);
		if (r <= 0) {
			err = r;
			break;
		}
		if (path_inaccessible) { /* /dev/fd/N of a close-on-exec fd */
			free(interp);
			err = -ENOENT;
			break;
		}
		close(fd);
		fd = -1;
		fput(file);
		file = depth >= MAX_INTERP_DEPTH ? NULL : fs_open_exec_file(interp, &err);
		if (depth >= MAX_INTERP_DEPTH)
			err = -ELOOP;
		free(script);
		script = interp;
		if (file && (fd = fs_exec_fd(file)) < 0)
			err = fd;
	}
	free(script);
	*argvp = argv.v;
	if (!err)
		err = exec_load(mm, file, fd, filename, argv.v, envp, regs);
	if (fd >= 0)
		close(fd);
	if (!err && exe)
		*exe = file;
	else if (file)
		fput(file);
	return err;
}

/* A failure past the point of no return: the process dies of SIGSEGV.
 * Not worth a word if it was killed meanwhile (its host process gone:
 * a vfork parent may kill it as soon as it is released). */
static long exec_fatal(struct thread *t, long err)
{
	if (!__atomic_load_n(&t->exiting, __ATOMIC_RELAXED))
		klog("pid %d: execve failed past the point of no return (%s)", t->proc->pid, strerror((int)-err));
	process_kill(t->proc, SIGSEGV);
	t->exiting = true;
	return 0;
}

static pthread_mutex_t exec_lock = PTHREAD_MUTEX_INITIALIZER; /* copy_strvec's buffer */

static long do_execve(int dirfd, gaddr_t upath, gaddr_t uargv, gaddr_t uenvp, int flags)
{
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	char path[PATH_MAX], filename[PATH_MAX + 32];
	long len = strncpy_from_guest(path, upath, sizeof(path));
	if (len < 0)
		return len;
	/* The name the program and its interpreter are told (AT_EXECFN,
	 * argv of a script): Linux's /dev/fd/N forms for execveat. */
	if (path[0] == '/' || dirfd == AT_FDCWD)
		snprintf(filename, sizeof(filename), "%s", path);
	else if (!path[0])
		snprintf(filename, sizeof(filename), "/dev/fd/%d", dirfd);
	else
		snprintf(filename, sizeof(filename), "/dev/fd/%d/%s", dirfd, path);

	int err0;
	struct file *file = fs_open_exec_file_at(dirfd, path, flags, &err0);
	if (!file)
		return err0;
	/* A script run through a close-on-exec fd could not be opened by
	 * its interpreter: Linux refuses it (BINPRM_FLAGS_PATH_INACCESSIBLE). */
	bool inaccessible = dirfd != AT_FDCWD && path[0] != '/' && fd_cloexec(dirfd, -1) > 0;
	struct strvec argv = { 0 }, envp = { 0 };
	size_t budget = ARGS_COPY_MAX;
	pthread_mutex_lock(&exec_lock);
	long err = copy_strvec(uargv, &argv, &budget);
	if (!err)
		err = copy_strvec(uenvp, &envp, &budget);
	pthread_mutex_unlock(&exec_lock);
	if (!err && argv.n == 0) /* Linux >= 5.18: argv {""} */
		err = strvec_push(&argv, strdup(""));

	struct mm *mm = NULL;
	struct file *exe = NULL;
	struct guest_regs regs;
	/* Handlers of our own, should ours be shared: taken before the
	 * point of no return, where running out of memory still returns. */
	struct sighand *spare_sighand = NULL;
	if (!err && (!(mm = mm_new(NULL)) || !(spare_sighand = sighand_new())))
		err = -ENOMEM;
	if (!err)
		err = exec_image(mm, file, filename, &argv.v, envp.v, &regs, inaccessible, &exe);
	else
		fput(file);
	strvec_free(&argv);
	strvec_free(&envp);
	if (err) {
		sighand_put(spare_sighand);
		mm_put(mm);
		return err;
	}

	struct thread *t = current;
	/* The other threads go first (Linux's de_thread); killed meanwhile,
	 * we go too. */
	if (process_single_thread()) {
		sighand_put(spare_sighand);
		fput(exe);
		mm_put(mm);
		return 0;
	}
	futex_exec_release(t); /* robust list, PI locks, child-tid word: the old image's */
	if ((err = switch_mm(t, mm))) {
		fput(exe);
		sighand_put(spare_sighand);
		mm_put(mm);
		return exec_fatal(t, err);
	}
	reset_for_exec(t, filename, spare_sighand);
	fput(process_set_exe(t->proc, exe));
	vfork_release(t->proc);
	/* A vfork child's new host process maps the image only now, so its
	 * parent does not wait for that round trip (Linux wakes the parent
	 * in exec_mmap, before the image is mapped, too). */
	if ((err = platform_as_flush(mm->as)))
		return exec_fatal(t, err);
	t->regs = regs;
	return 0; /* rax of the new image (start_thread zeroes it) */
}

long sys_execve(const struct sysargs *a)
{
	return do_execve(AT_FDCWD, a->a[0], a->a[1], a->a[2], 0);
}

long sys_execveat(const struct sysargs *a)
{
	return do_execve((int)a->a[0], a->a[1], a->a[2], a->a[3], (int)a->a[4]);
}
