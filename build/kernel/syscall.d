build/kernel/syscall.o: kernel/syscall.c kernel/syscall.h kernel/kernel.h \
 arch/x86_64/syscalls.def kernel/task.h arch/x86_64/regs.h
kernel/syscall.h:
kernel/kernel.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
