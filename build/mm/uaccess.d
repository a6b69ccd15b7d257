build/mm/uaccess.o: mm/uaccess.c mm/uaccess.h kernel/kernel.h mm/copy.h \
 mm/mm.h mm/vma.h kernel/task.h arch/x86_64/regs.h
mm/uaccess.h:
kernel/kernel.h:
mm/copy.h:
mm/mm.h:
mm/vma.h:
kernel/task.h:
arch/x86_64/regs.h:
