build/kernel/elf.o: kernel/elf.c kernel/elf.h kernel/kernel.h mm/mm.h \
 mm/vma.h
kernel/elf.h:
kernel/kernel.h:
mm/mm.h:
mm/vma.h:
