/* The system-call map, after ppc64's __kernel_get_syscall_map: a pointer
 * to a bitmap of the system calls this kernel implements, and (when
 * count is not NULL) the number of system-call numbers the map covers.
 * The kernel writes both into the [vvar] page at start-up from its
 * system-call table; README.md documents the layout. */
#include "vdso/vdso.h"

const uint32_t *vdso_impl_get_syscall_map(unsigned *count)
{
	if (count)
		*count = vvar_page.syscall_count;
	return (const uint32_t *)vvar_page.syscall_map;
}

extern __typeof__(vdso_impl_get_syscall_map) __vdso_get_syscall_map
	__attribute__((alias("vdso_impl_get_syscall_map"), visibility("default")));
