build/fs/file.o: fs/file.c fs/file.h fs/fs.h kernel/kernel.h fs/walk.h
fs/file.h:
fs/fs.h:
kernel/kernel.h:
fs/walk.h:
