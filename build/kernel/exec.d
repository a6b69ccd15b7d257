build/kernel/exec.o: kernel/exec.c kernel/elf.h kernel/kernel.h \
 kernel/exec.h arch/x86_64/regs.h mm/mm.h mm/vma.h
kernel/elf.h:
kernel/kernel.h:
kernel/exec.h:
arch/x86_64/regs.h:
mm/mm.h:
mm/vma.h:
