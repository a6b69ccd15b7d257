build/mm/mm.o: mm/mm.c mm/mm.h mm/vma.h kernel/kernel.h mm/memfile.h \
 mm/copy.h platform/platform.h arch/x86_64/regs.h
mm/mm.h:
mm/vma.h:
kernel/kernel.h:
mm/memfile.h:
mm/copy.h:
platform/platform.h:
arch/x86_64/regs.h:
