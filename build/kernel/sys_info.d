build/kernel/sys_info.o: kernel/sys_info.c kernel/ktime.h kernel/kernel.h \
 kernel/syscall.h arch/x86_64/syscalls.def kernel/task.h \
 arch/x86_64/regs.h mm/uaccess.h
kernel/ktime.h:
kernel/kernel.h:
kernel/syscall.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
mm/uaccess.h:
