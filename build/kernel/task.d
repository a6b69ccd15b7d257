build/kernel/task.o: kernel/task.c kernel/task.h kernel/kernel.h \
 arch/x86_64/regs.h kernel/exec.h kernel/fault.h kernel/limits.h \
 kernel/syscall.h arch/x86_64/syscalls.def fs/fs.h mm/mm.h mm/vma.h \
 platform/platform.h
kernel/task.h:
kernel/kernel.h:
arch/x86_64/regs.h:
kernel/exec.h:
kernel/fault.h:
kernel/limits.h:
kernel/syscall.h:
arch/x86_64/syscalls.def:
fs/fs.h:
mm/mm.h:
mm/vma.h:
platform/platform.h:
