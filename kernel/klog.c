/* Kernel diagnostics and randomness. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>
#include "kernel/kernel.h"
#include "kernel/fault.h"

struct cocoon_config cocoon_config = { .root = "/" };
/* Sanitizer builds (cocoon and the unit tests): the kernel's long-lived
 * state (the VFS tree, file tables of the last processes) is left to
 * process exit, so LeakSanitizer's exit report would be noise. ASan and
 * UBSan proper stay on. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

void klog(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(buf, sizeof(buf) - 1, "cocoon: ");
	n += vsnprintf(buf + n, sizeof(buf) - 1 - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write per line, so lines of concurrent threads do not mix. */
	ssize_t r = write(2, buf, (size_t)n);
	(void)r;
}

void krandom(void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kpanic("getrandom failed");
		}
		p += n;
		len -= (size_t)n;
	}
}

uint64_t krandom_u64(void)
{
	uint64_t v;
	krandom(&v, sizeof(v));
	return v;
}
