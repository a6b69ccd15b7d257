build/kernel/sys_sigstate.o: kernel/sys_sigstate.c kernel/syscall.h \
 kernel/kernel.h arch/x86_64/syscalls.def kernel/task.h \
 arch/x86_64/regs.h mm/uaccess.h
kernel/syscall.h:
kernel/kernel.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
mm/uaccess.h:
