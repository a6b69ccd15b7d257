/* The seccomp programs of guest host-processes, run through a small
 * classic-BPF interpreter: which calls trap, which are allowed from the
 * stub, which kill. */
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "tests/unit/check.h"
#include "platform/seccomp_filter.h"

#define CODE_LEN 0x800

static uint32_t run(const struct stub_sock_filter *f, int n, const struct seccomp_data *d)
{
	uint32_t a = 0;
	for (int pc = 0; pc < n; pc++) {
		const struct stub_sock_filter *in = &f[pc];
		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (in->k + 4 > sizeof(*d))
				return 0xdead;
			memcpy(&a, (const char *)d + in->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == in->k ? in->jt : in->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= in->k ? in->jt : in->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > in->k ? in->jt : in->jf; break;
		case BPF_ALU | BPF_AND | BPF_K: a &= in->k; break;
		case BPF_RET | BPF_K: return in->k;
		default: return 0xbad;
		}
	}
	return 0xfa11; /* fell off the end */
}

static struct seccomp_data call3(int nr, uint64_t ip, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip };
	d.args[0] = a0;
	d.args[1] = a1;
	d.args[2] = a2;
	return d;
}

static struct seccomp_data call(int nr, uint64_t ip, uint64_t a0, uint64_t a1, uint64_t a3, uint64_t a4)
{
	struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip };
	d.args[0] = a0;
	d.args[1] = a1;
	d.args[3] = a3;
	d.args[4] = a4;
	return d;
}

int main(void)
{
	struct stub_sock_filter guest[STUB_MAX_FILTER], ctrl[STUB_MAX_FILTER];
	int ng = seccomp_filter_build(FILTER_GUEST, CODE_LEN, guest);
	int nc = seccomp_filter_build(FILTER_CONTROL, CODE_LEN, ctrl);
	CHECK(ng > 0 && ng <= STUB_MAX_FILTER, "guest program built (%d instructions)", ng);
	CHECK(nc > 0 && nc <= STUB_MAX_FILTER, "control program built (%d instructions)", nc);

	uint64_t in = STUB_BASE + 0x100, out = 0x401000;
	struct seccomp_data d;

	d = call(SYS_getppid, out, 0, 0, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "guest code's getppid traps");
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_TRAP, "... under the control filter too");
	d = call(SYS_mmap, out, 0, 0, MAP_SHARED | MAP_FIXED, STUB_MEMFD);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "guest code's mmap traps");
	d = call(SYS_futex, in, 0, FUTEX_WAKE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_ALLOW, "futex WAKE from the stub allowed");
	d = call(SYS_futex, in, 0, FUTEX_WAIT, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_ALLOW, "futex WAIT from the stub allowed");
	d = call(SYS_futex, in, 0, FUTEX_CMP_REQUEUE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "futex CMP_REQUEUE from the stub kills");
	d = call(SYS_arch_prctl, in, ARCH_SET_FS, 0, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_ALLOW, "arch_prctl(SET_FS) from the stub allowed");
	d = call(SYS_arch_prctl, in, ARCH_SET_GS, 0, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "arch_prctl(SET_GS) from the stub kills");
	d = call(SYS_rt_sigreturn, in, 0, 0, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_ALLOW, "rt_sigreturn from the stub allowed");
	d = call(SYS_mmap, in, 0, 0, MAP_SHARED | MAP_FIXED, STUB_MEMFD);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "mmap from the stub kills a guest thread");
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "... and is the control thread's job");
	d = call(SYS_mmap, in, 0, 0, MAP_SHARED | MAP_FIXED, 7);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control mmap of another fd kills");
	d = call(SYS_mmap, in, 0, 0, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control anonymous mmap kills");
	d = call(SYS_pwrite64, in, STUB_MEMFD, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control pwrite to the memory file allowed");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");
	d = call(SYS_pwrite64, in, 2, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control pwrite elsewhere kills");
	d = call(SYS_write, in, 1, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control write kills");
	d = call(SYS_prctl, in, PR_SET_PDEATHSIG, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control PR_SET_PDEATHSIG allowed (a zygote's fork)");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");
	d = call(SYS_prctl, in, PR_SET_DUMPABLE, 1, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control PR_SET_DUMPABLE kills");
	d = call(SYS_openat, in, 0, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "openat from the stub kills");
	/* Host file images (ORDER_MMAP_FILE): paths only from the orders
	 * page's table, read-only; private maps of those fds; close_range
	 * never of the memory file. */
	const uint64_t paths = STUB_ORDERS + ORDERS_FILE_PATHS;
	const uint64_t paths_end = paths + STUB_MAX_FILE_PATHS * STUB_FILE_PATH_LEN;
	d = call3(SYS_openat, in, (uint64_t)AT_FDCWD, paths + 32, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control openat of a path in the table allowed");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");
	d = call3(SYS_openat, in, (uint64_t)AT_FDCWD, paths_end - 1, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "... up to the table's last byte");
	d = call3(SYS_openat, in, (uint64_t)AT_FDCWD, paths_end, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control openat past the table kills");
	d = call3(SYS_openat, in, (uint64_t)AT_FDCWD, paths - 1, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control openat before the table kills");
	d = call3(SYS_openat, in, (uint64_t)AT_FDCWD, (paths + 32) & 0xffffffffUL, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "... same low bits in guest memory kills");
	d = call3(SYS_openat, in, (uint64_t)AT_FDCWD, paths + 32, O_RDWR | O_CLOEXEC);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control openat for writing kills");
	d = call(SYS_mmap, in, 0, 0, MAP_PRIVATE | MAP_FIXED, STUB_FILEFD + 3);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control private mmap of an opened file allowed");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");
	d = call(SYS_mmap, in, 0, 0, MAP_PRIVATE | MAP_FIXED, STUB_MEMFD);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control private mmap of the memory file kills");
	d = call(SYS_mmap, in, 0, 0, MAP_PRIVATE | MAP_FIXED, STUB_FILEFD + STUB_MAX_FILE_PATHS);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control private mmap past the opened fds kills");
	d = call(SYS_mmap, in, 0, 0, MAP_SHARED | MAP_FIXED, STUB_FILEFD);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control shared mmap of an opened file kills");
	d = call3(SYS_close_range, in, STUB_FILEFD, STUB_FILEFD + 5, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control close_range of the opened fds allowed");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");
	d = call3(SYS_close_range, in, STUB_MEMFD, STUB_FILEFD, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control close_range of the memory file kills");
	d = call3(SYS_close, in, STUB_FILEFD, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "control close kills");
	d = call(SYS_clone, in, 0x50f00, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control clone of a thread allowed");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");
	d = call(SYS_clone, in, 0x11, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "clone of a process kills");
	d = call(SYS_clone, in, 0x8000, 0, 0, 0);
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "control clone(CLONE_PARENT) allowed (the zygote)");
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... never by a guest thread");

	uint64_t mask = STUB_THREADS + 3 * STUB_AREA_SIZE + AREA_CONST_OFF + CONST_CPU_MASK;
	d = call3(SYS_sched_setaffinity, in, 0, 8, mask);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_ALLOW, "a guest thread binds itself to a thread area's cpu_mask");
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_ALLOW, "... and passes the control filter");
	d = call3(SYS_sched_setaffinity, in, 0, 8, mask + 8);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... with a mask elsewhere kills");
	d = call3(SYS_sched_setaffinity, in, 0, 8, 0x601000);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... with a mask in guest memory kills");
	d = call3(SYS_sched_setaffinity, in, 0, 8, STUB_END + CONST_CPU_MASK);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... with a mask past the thread areas kills");
	d = call3(SYS_sched_setaffinity, in, 1234, 8, mask);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_KILL_PROCESS, "... of another thread kills");
	CHECK_EQ(run(ctrl, nc, &d), SECCOMP_RET_KILL_PROCESS, "... also for the control thread");

	/* The instruction pointer is the address after the syscall. */
	d = call(SYS_futex, STUB_BASE, 0, FUTEX_WAKE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "ip at the stub's first byte is outside");
	d = call(SYS_futex, STUB_BASE + CODE_LEN, 0, FUTEX_WAKE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_ALLOW, "ip right after the last instruction is inside");
	d = call(SYS_futex, STUB_BASE + CODE_LEN + 1, 0, FUTEX_WAKE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "ip past the code traps");
	d = call(SYS_futex, STUB_BASE + 0x100 - (1ULL << 32), 0, FUTEX_WAKE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "same low bits, other high bits: outside");

	/* Other ABIs always trap, even from the stub's addresses. */
	d = call(SYS_futex, in, 0, FUTEX_WAKE, 0, 0);
	d.arch = AUDIT_ARCH_I386;
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "i386 calls trap");
	d = call(SYS_futex | 0x40000000, in, 0, FUTEX_WAKE, 0, 0);
	CHECK_EQ(run(guest, ng, &d), SECCOMP_RET_TRAP, "x32 calls trap");
	CHECK_DONE();
}
