build-san/platform/trap_platform.o: platform/trap_platform.c \
 platform/platform.h kernel/kernel.h arch/x86_64/regs.h \
 platform/seccomp_filter.h stub/stub_abi.h mm/memfile.h
platform/platform.h:
kernel/kernel.h:
arch/x86_64/regs.h:
platform/seccomp_filter.h:
stub/stub_abi.h:
mm/memfile.h:
