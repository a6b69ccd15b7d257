build/fs/hostfile.o: fs/hostfile.c fs/file.h fs/fs.h kernel/kernel.h \
 fs/walk.h mm/uaccess.h
fs/file.h:
fs/fs.h:
kernel/kernel.h:
fs/walk.h:
mm/uaccess.h:
