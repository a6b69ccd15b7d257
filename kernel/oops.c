/* kpanic: a kernel bug detected by the kernel itself. The report and the
 * exit are kernel/fault.c's oops(). Not for signal handlers (vsnprintf). */
#include "kernel/fault.h"
#include "kernel/kernel.h"

#include <stdarg.h>
#include <stdio.h>

void kpanic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oops(msg);
}
