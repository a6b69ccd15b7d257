/* System-call dispatch. Handlers take the raw argument registers and
 * return a value or -errno, like Linux's. */
#ifndef COCOON_SYSCALL_H
#define COCOON_SYSCALL_H

#include "kernel/kernel.h"

struct sysargs {
	int nr;
	uint64_t a[6];
};

typedef long (*syscall_fn)(const struct sysargs *args);
struct personality;
/* --stats: print the system-call trap counts (at exit). */
void syscall_stats_print(const struct personality *pers);

enum syscall_support { NONE, PARTIAL, FULL };

struct syscall_entry {
	const char *name;
	syscall_fn fn;
	enum syscall_support support;
	const char *note;
};

struct personality {
	const char *name;
	const struct syscall_entry *table;
	unsigned nr_syscalls;
};
extern const struct personality personality_x86_64;

/* Dispatch one call for `current`. */
long syscall_dispatch(const struct personality *pers, const struct sysargs *args);
const char *syscall_name(const struct personality *pers, int nr);

/* Every handler named in a syscalls.def is declared here. */
#define SYSCALL(nr, name, handler, support, note) long handler(const struct sysargs *);
/* "none" marks unimplemented rows; declaring it is harmless. */
#include "arch/x86_64/syscalls.def"
#undef SYSCALL

#endif
