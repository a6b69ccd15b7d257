build/mm/memfile.o: mm/memfile.c mm/memfile.h kernel/kernel.h
mm/memfile.h:
kernel/kernel.h:
