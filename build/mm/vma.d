build/mm/vma.o: mm/vma.c mm/vma.h kernel/kernel.h
mm/vma.h:
kernel/kernel.h:
