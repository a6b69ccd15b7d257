/* Capabilities: capget, capset, the checks the kernel makes (capable) and
 * how set*id and execve move the sets (kernel/proc_ext.h says why a
 * guest root holds them all). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

/* The capabilities set*id juggles with the fs uid (Linux's CAP_FS_SET). */
#define CAP_FS_SET ((1ULL << CAP_CHOWN) | (1ULL << CAP_MKNOD) | (1ULL << CAP_DAC_OVERRIDE) | \
	(1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) | \
	(1ULL << CAP_MAC_OVERRIDE) | (1ULL << CAP_LINUX_IMMUTABLE))

static int last_cap = -1;
static pthread_once_t last_cap_once = PTHREAD_ONCE_INIT;

/* The host's cap_last_cap: the guest sees the capabilities of the kernel
 * it runs on, like every other host fact in /proc. */
static void last_cap_load(void)
{
	FILE *fp = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;
	if (fp) {
		if (fscanf(fp, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(fp);
	}
	last_cap = last;
}

uint64_t cap_full_set(void)
{
	pthread_once(&last_cap_once, last_cap_load);
	return last_cap == 63 ? ~0ULL : (1ULL << (last_cap + 1)) - 1;
}

bool cap_known(unsigned long cap)
{
	pthread_once(&last_cap_once, last_cap_load);
	return cap <= (unsigned long)last_cap;
}

/* Without p->lock: callers may hold it (prlimit). The set is changed
 * under the lock by whole-word stores. */
bool capable(int cap)
{
	uint64_t eff = __atomic_load_n(&current->proc->ext.caps.eff, __ATOMIC_RELAXED);
	return (eff >> cap) & 1;
}

static uint64_t host_caps;
static pthread_once_t host_caps_once = PTHREAD_ONCE_INIT;

/* cocoon's own effective set on the host (fixed for its lifetime). */
static void host_caps_load(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (!syscall(SYS_capget, &h, d))
		host_caps = d[0].effective | (uint64_t)d[1].effective << 32;
}

bool capable_init_ns(int cap)
{
	pthread_once(&host_caps_once, host_caps_load);
	return capable(cap) && ((host_caps >> cap) & 1);
}

void caps_fix_setxuid(struct process *p, uint32_t old_r, uint32_t old_e, uint32_t old_s)
{
	struct caps *c = &p->ext.caps;
	if (c->securebits & SECBIT_NO_SETUID_FIXUP)
		return;
	/* Leaving root altogether drops the permitted set (unless KEEP_CAPS)
	 * and the ambient one. */
	if ((old_r == 0 || old_e == 0 || old_s == 0) && p->ruid != 0 && p->uid != 0 && p->suid != 0) {
		if (!(c->securebits & SECBIT_KEEP_CAPS))
			c->prm = c->eff = 0;
		c->amb = 0;
	}
	if (old_e == 0 && p->uid != 0)
		c->eff = 0;
	if (old_e != 0 && p->uid == 0)
		c->eff = c->prm;
}

void caps_fix_setfsuid(struct process *p, uint32_t old_fs)
{
	struct caps *c = &p->ext.caps;
	if (c->securebits & SECBIT_NO_SETUID_FIXUP)
		return;
	if (old_fs == 0 && p->fsuid != 0)
		c->eff &= ~CAP_FS_SET;
	if (old_fs != 0 && p->fsuid == 0)
		c->eff |= c->prm & CAP_FS_SET;
}

/* ---- capget and capset ---------------------------------------------------- */

struct cap_header {
	uint32_t version;
	int32_t pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};

/* Linux's cap_validate_magic: the number of data words of the version;
 * an unknown version is told the one this kernel speaks (written back). */
static int cap_words(gaddr_t header, unsigned *words)
{
	uint32_t version;
	if (copy_from_guest(&version, header, sizeof version))
		return -EFAULT;
	switch (version) {
	case _LINUX_CAPABILITY_VERSION_1:
		*words = _LINUX_CAPABILITY_U32S_1;
		return 0;
	case _LINUX_CAPABILITY_VERSION_2:
	case _LINUX_CAPABILITY_VERSION_3:
		*words = _LINUX_CAPABILITY_U32S_3;
		return 0;
	default:
		version = _LINUX_CAPABILITY_VERSION_3;
		if (copy_to_guest(header, &version, sizeof version))
			return -EFAULT;
		return -EINVAL;
	}
}

long sys_capget(const struct sysargs *a)
{
	gaddr_t header = a->a[0], data = a->a[1];
	unsigned words;
	int32_t pid;
	int err = cap_words(header, &words);
	/* A probe (no data, unknown version) learns the version and succeeds. */
	if (!data || err)
		return !data && err == -EINVAL ? 0 : err;
	if (copy_from_guest(&pid, header + 4, sizeof pid))
		return -EFAULT;
	if (pid < 0)
		return -EINVAL;
	struct caps c;
	if (pid && pid != current->tid) {
		pthread_mutex_lock(&tasklist_lock);
		struct process *p = pid_lookup(pid);
		if (p) {
			pthread_mutex_lock(&p->lock);
			c = p->ext.caps;
			pthread_mutex_unlock(&p->lock);
		}
		pthread_mutex_unlock(&tasklist_lock);
		if (!p)
			return -ESRCH;
	} else {
		struct process *p = current->proc;
		pthread_mutex_lock(&p->lock);
		c = p->ext.caps;
		pthread_mutex_unlock(&p->lock);
	}
	struct cap_data d[2] = {
		{ (uint32_t)c.eff, (uint32_t)c.prm, (uint32_t)c.inh },
		{ (uint32_t)(c.eff >> 32), (uint32_t)(c.prm >> 32), (uint32_t)(c.inh >> 32) },
	};
	return copy_to_guest(data, d, words * sizeof d[0]);
}

/* Linux's cap_capset: nothing gained beyond the old permitted set,
 * inheritable within inheritable | permitted (without CAP_SETPCAP) and
 * within inheritable | bounding, effective within the new permitted. */
long sys_capset(const struct sysargs *a)
{
	gaddr_t header = a->a[0], data = a->a[1];
	unsigned words;
	int32_t pid;
	int err = cap_words(header, &words);
	if (err)
		return err;
	if (copy_from_guest(&pid, header + 4, sizeof pid))
		return -EFAULT;
	if (pid != 0 && pid != current->tid)
		return -EPERM;
	struct cap_data d[2] = { { 0 } };
	if (copy_from_guest(d, data, words * sizeof d[0]))
		return -EFAULT;
	uint64_t valid = cap_full_set();
	uint64_t eff = (d[0].effective | (uint64_t)d[1].effective << 32) & valid;
	uint64_t prm = (d[0].permitted | (uint64_t)d[1].permitted << 32) & valid;
	uint64_t inh = (d[0].inheritable | (uint64_t)d[1].inheritable << 32) & valid;

	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	struct caps *c = &p->ext.caps;
	bool setpcap = (c->eff >> CAP_SETPCAP) & 1;
	if ((!setpcap && (inh & ~(c->inh | c->prm))) || (inh & ~(c->inh | c->bnd)) ||
	    (prm & ~c->prm) || (eff & ~prm)) {
		pthread_mutex_unlock(&p->lock);
		return -EPERM;
	}
	c->eff = eff;
	c->prm = prm;
	c->inh = inh;
	c->amb &= prm & inh; /* ambient stays within permitted and inheritable */
	pthread_mutex_unlock(&p->lock);
	return 0;
}
