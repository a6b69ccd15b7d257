build/kernel/sys_random.o: kernel/sys_random.c kernel/syscall.h \
 kernel/kernel.h arch/x86_64/syscalls.def mm/uaccess.h
kernel/syscall.h:
kernel/kernel.h:
arch/x86_64/syscalls.def:
mm/uaccess.h:
