build/kernel/sys_limits.o: kernel/sys_limits.c kernel/ktime.h \
 kernel/kernel.h kernel/limits.h kernel/syscall.h \
 arch/x86_64/syscalls.def kernel/task.h arch/x86_64/regs.h mm/uaccess.h
kernel/ktime.h:
kernel/kernel.h:
kernel/limits.h:
kernel/syscall.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
mm/uaccess.h:
