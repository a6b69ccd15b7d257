/* Common definitions for every part of the cocoon kernel. */
#ifndef COCOON_KERNEL_H
#define COCOON_KERNEL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t gaddr_t; /* an address in a guest's address space */

#define PAGE_SIZE 4096UL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGNED(x) (((x) & (PAGE_SIZE - 1)) == 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Linux's "is this return value an error" test. */
#define IS_ERR_VALUE(x) ((unsigned long)(x) >= (unsigned long)-4095)

/* Command-line settings the kernel consults. */
struct cocoon_config {
	const char *root;  /* host directory that is the guest's "/" */
	bool debug;        /* log unimplemented calls and oddities */
	bool trace;        /* log every system call with its result */
	bool stats;        /* count traps, print the counts at exit */
};
extern struct cocoon_config cocoon_config;

/* Diagnostics go to the kernel's stderr (fd 2 of the cocoon process). */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define kdebug(...) do { if (cocoon_config.debug) klog(__VA_ARGS__); } while (0)

/* A kernel bug: print an Oops report and stop the sandbox. */
_Noreturn void kpanic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Random bytes from the host (getrandom), for ASLR and AT_RANDOM. */
void krandom(void *buf, size_t len);
uint64_t krandom_u64(void);

#endif
