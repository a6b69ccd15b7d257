build/arch/x86_64/syscall_table.o: arch/x86_64/syscall_table.c \
 kernel/syscall.h kernel/kernel.h arch/x86_64/syscalls.def
kernel/syscall.h:
kernel/kernel.h:
arch/x86_64/syscalls.def:
