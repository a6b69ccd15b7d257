build-san/platform/seccomp_filter.o: platform/seccomp_filter.c \
 platform/seccomp_filter.h stub/stub_abi.h kernel/kernel.h
platform/seccomp_filter.h:
stub/stub_abi.h:
kernel/kernel.h:
