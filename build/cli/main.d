build/cli/main.o: cli/main.c kernel/kernel.h kernel/fault.h \
 kernel/syscall.h arch/x86_64/syscalls.def kernel/task.h \
 arch/x86_64/regs.h fs/fs.h mm/memfile.h platform/platform.h
kernel/kernel.h:
kernel/fault.h:
kernel/syscall.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
fs/fs.h:
mm/memfile.h:
platform/platform.h:
