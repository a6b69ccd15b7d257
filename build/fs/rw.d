build/fs/rw.o: fs/rw.c fs/file.h fs/fs.h kernel/kernel.h fs/walk.h \
 kernel/syscall.h arch/x86_64/syscalls.def mm/uaccess.h
fs/file.h:
fs/fs.h:
kernel/kernel.h:
fs/walk.h:
kernel/syscall.h:
arch/x86_64/syscalls.def:
mm/uaccess.h:
