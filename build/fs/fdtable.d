build/fs/fdtable.o: fs/fdtable.c fs/file.h fs/fs.h kernel/kernel.h \
 fs/walk.h kernel/syscall.h arch/x86_64/syscalls.def kernel/task.h \
 arch/x86_64/regs.h
fs/file.h:
fs/fs.h:
kernel/kernel.h:
fs/walk.h:
kernel/syscall.h:
arch/x86_64/syscalls.def:
kernel/task.h:
arch/x86_64/regs.h:
