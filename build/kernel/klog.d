build/kernel/klog.o: kernel/klog.c kernel/kernel.h kernel/fault.h
kernel/kernel.h:
kernel/fault.h:
