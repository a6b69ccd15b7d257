build/kernel/oops.o: kernel/oops.c kernel/fault.h kernel/kernel.h

kernel/fault.h:

kernel/kernel.h:
