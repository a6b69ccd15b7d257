/* arch_prctl: the guest's FS and GS bases. FS is loaded into the host
 * thread by the stub on the way back to the guest. */
#include <asm/prctl.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"
#include "mm/mm.h"

long sys_arch_prctl(const struct sysargs *a)
{
	uint64_t arg = a->a[1];
	switch ((int)a->a[0]) {
	case ARCH_SET_FS:
		if (arg >= TASK_SIZE_MAX)
			return -EPERM;
		current->fs_base = arg;
		current->fs_base_dirty = true;
		return 0;
	case ARCH_GET_FS:
		return copy_to_guest(arg, &current->fs_base, sizeof(uint64_t));
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		/* GS would need the stub to switch it on every trap. */
		kdebug("arch_prctl: GS base is not supported");
		return -EINVAL;
	case ARCH_GET_CPUID:
		return 1;
	case ARCH_SET_CPUID:
		return -ENODEV;
	default:
		return -EINVAL;
	}
}
