build/arch/x86_64/sys_arch_prctl.o: arch/x86_64/sys_arch_prctl.c \
 kernel/syscall.h kernel/kernel.h arch/x86_64/syscalls.def kernel/task.h \
 arch/x86_64/regs.h mm/uaccess.h mm/mm.h mm/vma.h
kernel/syscall.h:
kernel/kernel.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
mm/uaccess.h:
mm/mm.h:
mm/vma.h:
