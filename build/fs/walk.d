build/fs/walk.o: fs/walk.c fs/walk.h kernel/kernel.h
fs/walk.h:
kernel/kernel.h:
