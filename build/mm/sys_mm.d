build/mm/sys_mm.o: mm/sys_mm.c kernel/syscall.h kernel/kernel.h \
 arch/x86_64/syscalls.def kernel/task.h arch/x86_64/regs.h mm/mm.h \
 mm/vma.h mm/memfile.h platform/platform.h
kernel/syscall.h:
kernel/kernel.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
mm/mm.h:
mm/vma.h:
mm/memfile.h:
platform/platform.h:
