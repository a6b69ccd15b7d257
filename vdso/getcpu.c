/* getcpu from the vDSO: the host CPU this guest thread runs on, which the
 * host kernel keeps where user space can read it without a system call
 * (Linux's vdso_read_cpunode: cpu | node << 12). Variants:
 *   rdpid  RDPID reads IA32_TSC_AUX
 *   lsl    the segment limit of the host's per-CPU GDT entry
 *   sys    the system call */
#include "vdso/vdso.h"

#define CPUNODE_SELECTOR 0x7b /* GDT_ENTRY_CPUNODE (15) * 8 + RPL 3 */

struct getcpu_cache;

enum { VIA_SYSCALL, VIA_LSL, VIA_RDPID };

static inline __attribute__((always_inline)) int do_getcpu(unsigned *cpu, unsigned *node, int via)
{
	unsigned p;
	if (via == VIA_SYSCALL)
		return (int)vdso_syscall3(NR_getcpu, (long)cpu, (long)node, 0);
	if (via == VIA_RDPID) {
		uint64_t aux;
		__asm__ volatile("rdpid %0" : "=r"(aux));
		p = (unsigned)aux;
	} else {
		__asm__ volatile("lsl %1, %0" : "=r"(p) : "r"((unsigned)CPUNODE_SELECTOR));
	}
	if (cpu)
		*cpu = p & 0xfff;
	if (node)
		*node = p >> 12;
	return 0;
}

#define VARIANT(suffix, via)                                                                     \
	int vdso_impl_getcpu_##suffix(unsigned *cpu, unsigned *node, struct getcpu_cache *unused) \
	{                                                                                        \
		(void)unused;                                                                    \
		return do_getcpu(cpu, node, via);                                                \
	}

VARIANT(sys, VIA_SYSCALL)
VARIANT(lsl, VIA_LSL)
VARIANT(rdpid, VIA_RDPID)

VDSO_EXPORT(getcpu, vdso_impl_getcpu_sys);
