build/kernel/fault.o: kernel/fault.c kernel/fault.h
kernel/fault.h:
