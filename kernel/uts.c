/* The sandbox's UTS names: uname, sethostname, setdomainname (kernel/uts.h). */
#include <linux/capability.h>
#include <pthread.h>
#include <string.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/uts.h"
#include "mm/uaccess.h"

#define NEW_UTS_LEN 64 /* Linux's __NEW_UTS_LEN */
_Static_assert(sizeof(struct utsname) == 6 * 65, "Linux struct new_utsname");

static struct {
	pthread_mutex_t lock;
	bool host_set, domain_set; /* changed by the guest */
	char nodename[NEW_UTS_LEN + 1], domainname[NEW_UTS_LEN + 1];
} uts = { .lock = PTHREAD_MUTEX_INITIALIZER };

void uts_get(struct utsname *u)
{
	struct utsname host;
	memset(u, 0, sizeof(*u));
	uname(&host);
	strcpy(u->sysname, "Linux");
	memcpy(u->release, host.release, sizeof(u->release));
	memcpy(u->version, host.version, sizeof(u->version));
	strcpy(u->machine, "x86_64");
	pthread_mutex_lock(&uts.lock);
	if (uts.host_set)
		memcpy(u->nodename, uts.nodename, sizeof(uts.nodename));
	else
		memcpy(u->nodename, host.nodename, sizeof(u->nodename));
	if (uts.domain_set)
		memcpy(u->domainname, uts.domainname, sizeof(uts.domainname));
	else
		strcpy(u->domainname, "(none)");
	pthread_mutex_unlock(&uts.lock);
}

long sys_uname(const struct sysargs *a)
{
	struct utsname u;
	uts_get(&u);
	return copy_to_guest(a->a[0], &u, sizeof u);
}

/* Linux's sethostname and setdomainname: CAP_SYS_ADMIN over the UTS
 * namespace (EPERM), a length up to 64 (EINVAL), then the copy. */
static long set_name(gaddr_t name, long len, char *dst, bool *set)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if ((int)len < 0 || len > NEW_UTS_LEN)
		return -EINVAL;
	char tmp[NEW_UTS_LEN];
	if (len && copy_from_guest(tmp, name, (size_t)len))
		return -EFAULT;
	pthread_mutex_lock(&uts.lock);
	memset(dst, 0, NEW_UTS_LEN + 1);
	memcpy(dst, tmp, (size_t)len);
	*set = true;
	pthread_mutex_unlock(&uts.lock);
	return 0;
}

long sys_sethostname(const struct sysargs *a)
{
	return set_name(a->a[0], (long)(int)a->a[1], uts.nodename, &uts.host_set);
}

long sys_setdomainname(const struct sysargs *a)
{
	return set_name(a->a[0], (long)(int)a->a[1], uts.domainname, &uts.domain_set);
}
