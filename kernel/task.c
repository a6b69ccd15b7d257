/* Guest processes and threads, and the loop in which a kernel thread
 * serves its guest thread: run until trap, handle, resume. */
#include <linux/audit.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel/task.h"
#include "kernel/exec.h"
#include "kernel/fault.h"
#include "kernel/limits.h"
#include "kernel/syscall.h"
#include "fs/fs.h"
#include "mm/mm.h"
#include "platform/platform.h"

__thread struct thread *current;

static struct process *process_new(void)
{
	struct process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->exited_cond, NULL);
	rlimits_init_default(p->rlimits);
	p->uid = getuid();
	p->gid = getgid();
	p->umask = 022;
	p->dumpable = 1;
	return p;
}

void process_exit(struct process *p, int wait_status)
{
	pthread_mutex_lock(&p->lock);
	if (!p->exited) {
		p->exited = true;
		p->exit_status = wait_status;
		pthread_cond_broadcast(&p->exited_cond);
	}
	pthread_mutex_unlock(&p->lock);
}

void process_kill(struct process *p, int signo)
{
	process_exit(p, signo & 0x7f);
}

/* The host process died under us (killed from outside, or the stub
 * failed): report it the way the guest would have died. */
static int host_death_status(int host_status)
{
	if (WIFSIGNALED(host_status))
		return WTERMSIG(host_status);
	return SIGKILL;
}

static void serve(struct thread *t)
{
	struct process *p = t->proc;
	for (;;) {
		struct trap trap;
		bool set_fs = t->fs_base_dirty;
		int err = platform_run(t->plat, &t->regs, &set_fs, t->fs_base, &trap);
		t->fs_base_dirty = set_fs;
		if (err) {
			klog("pid %d: cannot resume the guest (%s); killing it", p->pid, strerror(-err));
			process_kill(p, SIGKILL);
			return;
		}
		switch (trap.kind) {
		case TRAP_SYSCALL: {
			struct sysargs args = {
				.nr = (int)t->regs.rax,
				.a = { t->regs.rdi, t->regs.rsi, t->regs.rdx, t->regs.r10, t->regs.r8, t->regs.r9 },
			};
			long ret;
			if (trap.arch != AUDIT_ARCH_X86_64) {
				kdebug("pid %d: system call %d of another ABI (arch %#x)", p->pid, args.nr, trap.arch);
				ret = -ENOSYS;
			} else {
				ret = syscall_dispatch(&personality_x86_64, &args);
			}
			if (t->pending & ~t->sigmask)
				signal_act_on_pending();
			if (t->exiting)
				return;
			t->regs.rax = (uint64_t)ret;
			break;
		}
		case TRAP_FAULT:
			/* Signal delivery to handlers comes with the signals
			 * issue; until then a fault is fatal, as with SIG_DFL. */
			kdebug("pid %d: signal %d (code %d) at rip %#lx, address %#lx", p->pid, trap.signo, trap.code,
			       t->regs.rip, trap.addr);
			if (trap.signo == SIGSEGV && mm_fault_is_bus(p->mm, trap.addr))
				trap.signo = SIGBUS; /* past the end of a mapped file */
			process_kill(p, trap.signo);
			return;
		case TRAP_DEAD:
			process_kill(p, host_death_status(trap.host_status));
			return;
		}
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	fault_thread_init();
	current = t;
	serve(t);
	return NULL;
}

int run_init_process(const char *path, char *const argv[], char *const envp[])
{
	int fd = fs_open_exec(path);
	if (fd < 0)
		return fd;
	struct process *p = process_new();
	struct thread *t = calloc(1, sizeof(*t));
	if (!p || !t)
		return -ENOMEM;
	p->pid = 1;
	p->ppid = 0;
	t->tid = 1;
	t->proc = p;
	const char *base = strrchr(path, '/');
	strncpy(p->comm, base ? base + 1 : path, sizeof(p->comm) - 1);

	/* Load into a bare mm first, so a bad program fails before any host
	 * process exists; then create the host process and map it all. */
	struct mm *mm = mm_new(NULL);
	if (!mm)
		return -ENOMEM;
	int err = exec_load(mm, fd, path, argv, envp, &t->regs);
	close(fd);
	if (err) {
		mm_put(mm);
		return err;
	}
	err = platform_as_create(&mm->as);
	for (size_t i = 0; !err && i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		if (v->off != NO_BACKING)
			err = platform_as_map(mm->as, v->start, v->end - v->start, v->prot, v->off);
	}
	if (!err)
		err = platform_thread_create(mm->as, &t->plat);
	if (err) {
		klog("cannot create the guest process: %s", strerror(-err));
		mm_put(mm);
		return -EAGAIN;
	}
	p->mm = mm;
	p->files = fdtable_new_stdio();
	p->fs = fs_struct_new();
	if (!p->files || !p->fs)
		return -ENOMEM;

	pthread_t kt;
	if (pthread_create(&kt, NULL, thread_main, t))
		return -EAGAIN;
	pthread_mutex_lock(&p->lock);
	while (!p->exited)
		pthread_cond_wait(&p->exited_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	/* Stop the host process; its kernel thread then sees it dead. */
	platform_as_kill(mm->as);
	pthread_join(kt, NULL);
	int status = p->exit_status;
	mm_put(mm);
	fdtable_put(p->files);
	fs_struct_put(p->fs);
	free(t);
	free(p);
	return status;
}
